"""Modelled on PyTorch's "Saving and Loading Models": the model's and the optimizer's
state_dict printed, saving and loading the state_dict (weights_only=True), a general checkpoint (epoch, model, optimizer state with momentum buffers, loss) resumed for
training, several models in one file, and warmstarting a different model with strict=False.
The tutorial's CIFAR-sized TheModelClass on seeded synthetic images. Not here: saving the
whole model (torch.save(model) pickles it; minitorch files hold no pickles, by design, and say
so with an error naming state_dict())."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

from tests.programs.support import init_, record, synthetic_images


class TheModelClass(nn.Module):
    def __init__(self):
        super(TheModelClass, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


images, labels = synthetic_images(64)
inputs, targets = torch.from_numpy(images), torch.from_numpy(labels)
criterion = nn.CrossEntropyLoss()


def train(model, optimizer, steps):
    model.train()
    for i in range(steps):
        xb, yb = inputs[16 * (i % 4):16 * (i % 4 + 1)], targets[16 * (i % 4):16 * (i % 4 + 1)]
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        record(loss)
    return loss


model = init_(TheModelClass())
optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

print("Model's state_dict:")
for param_tensor in model.state_dict():
    print(param_tensor, "\t", model.state_dict()[param_tensor].size())
print("Optimizer's state_dict:")
for var_name in optimizer.state_dict():
    print(var_name, "\t", optimizer.state_dict()[var_name])

loss = train(model, optimizer, 4)

# Save/load state_dict (recommended)
PATH = "model_weights.pt"
torch.save(model.state_dict(), PATH)
model = TheModelClass()
model.load_state_dict(torch.load(PATH, weights_only=True))
model.eval()
with torch.no_grad():
    record(model(inputs[:4]), name="reloaded_logits")

# A general checkpoint for inference and/or resuming training
optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
loss = train(model, optimizer, 4)
EPOCH = 5
torch.save({
    'epoch': EPOCH,
    'model_state_dict': model.state_dict(),
    'optimizer_state_dict': optimizer.state_dict(),
    'loss': loss,
}, "checkpoint.pt")
reference = train(model, optimizer, 3)   # what training on would give

model = TheModelClass()
optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
checkpoint = torch.load("checkpoint.pt", weights_only=True)
model.load_state_dict(checkpoint['model_state_dict'])
optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
epoch = checkpoint['epoch']
loss = checkpoint['loss']
print(epoch, loss.item())
record(loss)
resumed = train(model, optimizer, 3)
assert abs(resumed.item() - reference.item()) < 1e-6, (resumed.item(), reference.item())

# Several models in one file
modelA, modelB = init_(TheModelClass()), TheModelClass()
optimizerA = optim.SGD(modelA.parameters(), lr=0.001, momentum=0.9)
optimizerB = optim.SGD(modelB.parameters(), lr=0.001, momentum=0.9)
torch.save({
    'modelA_state_dict': modelA.state_dict(),
    'modelB_state_dict': modelB.state_dict(),
    'optimizerA_state_dict': optimizerA.state_dict(),
    'optimizerB_state_dict': optimizerB.state_dict(),
}, "models.tar")
checkpoint = torch.load("models.tar", weights_only=True)
modelB.load_state_dict(checkpoint['modelA_state_dict'])
optimizerB.load_state_dict(checkpoint['optimizerB_state_dict'])
modelB.eval()
with torch.no_grad():
    record(modelB(inputs[:4]).sum())


# Warmstarting a model with another model's parameters
class WiderHead(TheModelClass):
    def __init__(self):
        super().__init__()
        self.fc3 = nn.Linear(84, 2)
        self.fc4 = nn.Linear(2, 2)


torch.save(modelA.state_dict(), "modelA.pt")
modelB = init_(WiderHead())
state = torch.load("modelA.pt", weights_only=True)
del state["fc3.weight"], state["fc3.bias"]
result = modelB.load_state_dict(state, strict=False)
print(result)
print(sorted(result.missing_keys), result.unexpected_keys)
record(modelB.conv1.weight, name="warmstarted_conv1")
