"""Modelled on the nn.Module hooks of PyTorch's docs and tutorials: forward hooks registered
through named_modules that read activations into a dict (feature extraction), a forward
pre-hook that changes the input and a forward hook that changes the output, handles removed,
full backward hooks and backward pre-hooks (inspecting and rescaling gradients), tensor hooks,
and a hook left on while training. A small CNN on seeded synthetic images."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.programs.support import init_, record, synthetic_images


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.conv2(x)))
        x = F.adaptive_avg_pool2d(x, (4, 4))
        return self.fc(torch.flatten(x, 1))


images, labels = synthetic_images(32, size=16)
inputs, targets = torch.from_numpy(images), torch.from_numpy(labels)
model = init_(Net())

# Feature extraction: a forward hook per named submodule stores its output.
activation = {}


def get_activation(name):
    def hook(model, input, output):
        activation[name] = output.detach()
    return hook


handles = []
for name, module in model.named_modules():
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        handles.append(module.register_forward_hook(get_activation(name)))
out = model(inputs)
print(sorted(activation))
for name in sorted(activation):
    print(name, activation[name].shape)
    record(activation[name].abs().mean(), name=f"activation_{name}")
for handle in handles:
    handle.remove()
activation.clear()
model(inputs)
assert not activation

# A forward pre-hook that changes the input, a forward hook that changes the output.
calls = []


def scale_input(module, args):
    calls.append(("pre", type(module).__name__, tuple(args[0].shape)))
    return (args[0] * 0.5,)


def clamp_output(module, args, output):
    calls.append(("fwd", type(module).__name__, tuple(output.shape)))
    return output.clamp(min=-1.0, max=1.0)


h1 = model.conv2.register_forward_pre_hook(scale_input)
h2 = model.fc.register_forward_hook(clamp_output)
logits = model(inputs)
print(calls)
record(logits, name="hooked_logits")
h1.remove()
h2.remove()
record(model(inputs), name="unhooked_logits")

# Backward hooks: what reaches each layer, and a gradient rescaled on the way.
grad_norms = {}


def backward_hook(module, grad_input, grad_output):
    grad_norms[type(module).__name__] = grad_output[0].norm().item()
    print(type(module).__name__, [None if g is None else tuple(g.shape) for g in grad_input],
          [tuple(g.shape) for g in grad_output])


bh = model.fc.register_full_backward_hook(backward_hook)
criterion = nn.CrossEntropyLoss()
loss = criterion(model(inputs), targets)
loss.backward()
record(loss)
record(grad_norms["Linear"], name="fc_grad_output_norm")
bh.remove()
ph = model.conv2.register_full_backward_pre_hook(lambda m, grad_output: (grad_output[0] * 2,))
model.zero_grad()
criterion(model(inputs), targets).backward()
record(model.conv1.weight.grad, name="conv1_grad_with_doubled_conv2_grad_output")
ph.remove()

# A tensor hook: gradients of an intermediate, then halving a parameter's gradient.
model.zero_grad()
x = inputs.clone().requires_grad_(True)
seen = []
x.register_hook(lambda grad: seen.append(grad.abs().sum()))
hw = model.fc.weight.register_hook(lambda grad: grad * 0.5)
loss = criterion(model(x), targets)
loss.backward()
record(seen[0], name="input_grad_abs_sum")
record(model.fc.weight.grad, name="halved_fc_weight_grad")
hw.remove()

# Training with a hook that watches the loss go down.
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
model.fc.register_forward_hook(lambda m, i, o: record(o.detach().abs().mean()))
for step in range(6):
    optimizer.zero_grad()
    loss = criterion(model(inputs), targets)
    loss.backward()
    optimizer.step()
    record(loss)
