"""Modelled on PyTorch's "Learn the basics: Build the Neural Network": the NeuralNetwork class
(nn.Flatten, nn.Sequential of Linear and ReLU), printing the model, nn.Softmax over the logits
and argmax, the layers one at a time on a minibatch of 3 images, and named_parameters with each
parameter's size and first values. torch.rand comes from a seeded numpy generator."""
import numpy as np
import torch
from torch import nn

from tests.programs.support import init_, record

rng = np.random.default_rng(0)

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
print(f"Using {device} device")


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28*28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = init_(NeuralNetwork()).to(device)
print(model)

X = torch.from_numpy(rng.random((1, 28, 28), dtype=np.float32)).to(device)
logits = model(X)
pred_probab = nn.Softmax(dim=1)(logits)
y_pred = pred_probab.argmax(1)
print(f"Predicted class: {y_pred}")
record(pred_probab, name="pred_probab")
record(y_pred, name="y_pred")

input_image = torch.from_numpy(rng.random((3, 28, 28), dtype=np.float32))
print(input_image.size())
flatten = nn.Flatten()
flat_image = flatten(input_image)
print(flat_image.size())
layer1 = init_(nn.Linear(in_features=28*28, out_features=20))
hidden1 = layer1(flat_image)
print(hidden1.size())
print(f"Before ReLU: {hidden1}\n\n")
hidden1 = nn.ReLU()(hidden1)
print(f"After ReLU: {hidden1}")
record(hidden1, name="hidden1")

seq_modules = nn.Sequential(
    flatten,
    layer1,
    nn.ReLU(),
    init_(nn.Linear(20, 10))
)
logits = seq_modules(input_image)
softmax = nn.Softmax(dim=1)
pred_probab = softmax(logits)
record(pred_probab.sum(), name="probabilities_sum")
record(logits.logsumexp(1).mean())

print(f"Model structure: {model}\n\n")
for name, param in model.named_parameters():
    print(f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \n")
    record(param[:2].sum(), name=name)
record(sum(p.numel() for p in model.parameters() if p.requires_grad), name="n_params")
