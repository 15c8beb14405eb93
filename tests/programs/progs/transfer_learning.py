"""Modelled on PyTorch's "Transfer Learning for Computer Vision": train_model with train and
val phases, torch.set_grad_enabled(phase == 'train'), torch.max(outputs, 1), running_corrects
with .double(), copy.deepcopy of the best state_dict, lr_scheduler.StepLR; finetuning (a new
fc, every parameter trained) and the fixed feature extractor (requires_grad = False, only the new
fc optimised). minitorch's ResNet-18 at a small width on seeded 3x32x32 images (the ants and
bees replaced; torchvision's models.resnet18 is `from models import resnet18` here, so the
backbone is a tiny ResNet-style network written in the program, the same in both frameworks)."""
import copy
import time

import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader, TensorDataset

from tests.programs.support import init_, record, synthetic_images


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class TinyResNet(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = BasicBlock(8, 8)
        self.layer2 = BasicBlock(8, 16, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.layer2(self.layer1(self.relu(self.bn1(self.conv1(x)))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


images, labels = synthetic_images(96, size=16, classes=2, seed=3)
image_datasets = {'train': TensorDataset(torch.from_numpy(images[:64]),
                                         torch.from_numpy(labels[:64])),
                  'val': TensorDataset(torch.from_numpy(images[64:]),
                                       torch.from_numpy(labels[64:]))}
dataloaders = {x: DataLoader(image_datasets[x], batch_size=16, shuffle=False)
               for x in ['train', 'val']}
dataset_sizes = {x: len(image_datasets[x]) for x in ['train', 'val']}
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")


def train_model(model, criterion, optimizer, scheduler, num_epochs=25):
    since = time.time()
    best_model_wts = copy.deepcopy(model.state_dict())
    best_acc = 0.0
    for epoch in range(num_epochs):
        print(f'Epoch {epoch}/{num_epochs - 1}')
        print('-' * 10)
        for phase in ['train', 'val']:
            if phase == 'train':
                model.train()
            else:
                model.eval()
            running_loss = 0.0
            running_corrects = 0
            for inputs, labels in dataloaders[phase]:
                inputs = inputs.to(device)
                labels = labels.to(device)
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == 'train'):
                    outputs = model(inputs)
                    _, preds = torch.max(outputs, 1)
                    loss = criterion(outputs, labels)
                    if phase == 'train':
                        loss.backward()
                        optimizer.step()
                running_loss += loss.item() * inputs.size(0)
                running_corrects += torch.sum(preds == labels.data)
            if phase == 'train':
                scheduler.step()
            epoch_loss = running_loss / dataset_sizes[phase]
            epoch_acc = running_corrects.double() / dataset_sizes[phase]
            record(epoch_loss)
            print(f'{phase} Loss: {epoch_loss:.4f} Acc: {epoch_acc:.4f}')
            if phase == 'val' and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_model_wts = copy.deepcopy(model.state_dict())
        print()
    time_elapsed = time.time() - since
    print(f'Training complete in {time_elapsed // 60:.0f}m {time_elapsed % 60:.0f}s')
    print(f'Best val Acc: {best_acc:4f}')
    record(best_acc, name=f"best_acc_{len(outputs_seen)}")
    outputs_seen.append(best_acc)
    model.load_state_dict(best_model_wts)
    return model


outputs_seen = []

# "Pretrained" backbone: trained here for a few steps on the same data, then saved.
model_ft = init_(TinyResNet(num_classes=10))
criterion = nn.CrossEntropyLoss()
optimizer_ft = optim.SGD(model_ft.parameters(), lr=0.001, momentum=0.9)
exp_lr_scheduler = lr_scheduler.StepLR(optimizer_ft, step_size=7, gamma=0.1)
model_ft = train_model(model_ft, criterion, optimizer_ft, exp_lr_scheduler, num_epochs=1)
torch.save(model_ft.state_dict(), "pretrained.pt")

# Finetuning the convnet
model_ft = TinyResNet(num_classes=10)
model_ft.load_state_dict(torch.load("pretrained.pt", weights_only=True))
num_ftrs = model_ft.fc.in_features
model_ft.fc = nn.Linear(num_ftrs, 2)
init_(model_ft.fc)
model_ft = model_ft.to(device)
optimizer_ft = optim.SGD(model_ft.parameters(), lr=0.01, momentum=0.9)
exp_lr_scheduler = lr_scheduler.StepLR(optimizer_ft, step_size=2, gamma=0.1)
model_ft = train_model(model_ft, criterion, optimizer_ft, exp_lr_scheduler, num_epochs=3)
print(exp_lr_scheduler.get_last_lr())
record(exp_lr_scheduler.get_last_lr()[0], name="last_lr")

# ConvNet as fixed feature extractor
model_conv = TinyResNet(num_classes=10)
model_conv.load_state_dict(torch.load("pretrained.pt", weights_only=True))
for param in model_conv.parameters():
    param.requires_grad = False
num_ftrs = model_conv.fc.in_features
model_conv.fc = init_(nn.Linear(num_ftrs, 2))
model_conv = model_conv.to(device)
optimizer_conv = optim.SGD(model_conv.fc.parameters(), lr=0.01, momentum=0.9)
exp_lr_scheduler = lr_scheduler.StepLR(optimizer_conv, step_size=7, gamma=0.1)
frozen = copy.deepcopy(model_conv.layer1.state_dict())
model_conv = train_model(model_conv, criterion, optimizer_conv, exp_lr_scheduler, num_epochs=3)
assert all(torch.equal(frozen[k], v) for k, v in model_conv.layer1.state_dict().items()
           if not k.endswith("num_batches_tracked") and "running" not in k)
print(model_conv.conv1.weight.grad, model_conv.fc.weight.grad is None)
record(model_conv.fc.weight, name="feature_extractor_fc")


def visualize_model(model, num_images=6):
    was_training = model.training
    model.eval()
    images_so_far = 0
    with torch.no_grad():
        for i, (inputs, labels) in enumerate(dataloaders['val']):
            outputs = model(inputs.to(device))
            _, preds = torch.max(outputs, 1)
            for j in range(inputs.size()[0]):
                images_so_far += 1
                print(f'predicted: {preds[j]}')
                if images_so_far == num_images:
                    model.train(mode=was_training)
                    return preds
        model.train(mode=was_training)


record(visualize_model(model_conv), name="visualized_predictions")
