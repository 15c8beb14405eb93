"""Make tests/fixtures/resnet18_parity.h5: PyTorch's numbers for reduced-width ResNet-18s.

    python scripts/fixtures_resnet.py   # needs torch==2.13.0 (CPU); minitorch is not used

For each case (the small-image variant at 32x32 and the ImageNet stem at 64x64, both width 8 so
the file stays small) it stores, under /<case>: the initial state dict (`state/<name>`), the
input `x` and `target`, the eval-mode `logits`, and after one train-mode forward and backward of
cross-entropy: `loss`, every parameter gradient (`grad/<name>`), the input gradient `x_grad`
and the updated BatchNorm buffers (`after/<name>`). torchvision is not needed: the model is
rebuilt from torch.nn with torchvision's layout and names.
"""
import pathlib
import sys

import h5py
import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "resnet18_parity.h5"
CASES = {  # name: (variant, width, num_classes, batch, image size)
    "small": ("small", 8, 5, 4, 32),
    "imagenet": ("imagenet", 8, 10, 2, 64),
}


def torch_resnet18(torch, num_classes=1000, variant="imagenet", width=64):
    """torchvision's ResNet-18 layout and names, rebuilt from torch.nn."""
    tnn = torch.nn

    class BasicBlock(tnn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(cout)
            self.relu = tnn.ReLU(inplace=True)
            self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = tnn.Sequential(tnn.Conv2d(cin, cout, 1, stride, bias=False),
                                                 tnn.BatchNorm2d(cout))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    class ResNet(tnn.Module):
        def __init__(self):
            super().__init__()
            stem = (7, 2, 3) if variant == "imagenet" else (3, 1, 1)
            self.conv1 = tnn.Conv2d(3, width, *stem, bias=False)
            self.bn1 = tnn.BatchNorm2d(width)
            self.relu = tnn.ReLU(inplace=True)
            self.maxpool = tnn.MaxPool2d(3, 2, 1) if variant == "imagenet" else tnn.Identity()
            cin = width
            for i, w in enumerate([width, 2 * width, 4 * width, 8 * width]):
                blocks = [BasicBlock(cin, w, 1 if i == 0 else 2), BasicBlock(w, w, 1)]
                setattr(self, f"layer{i + 1}", tnn.Sequential(*blocks))
                cin = w
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(8 * width, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet()


def perturb_batchnorm(torch, model, gen):
    """Non-trivial BN affine parameters and statistics, so the fixture exercises all of them."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.uniform_(-0.2, 0.2, generator=gen)
                m.running_mean.uniform_(-0.1, 0.1, generator=gen)
                m.running_var.uniform_(0.5, 1.5, generator=gen)


def make_case(torch, group, variant, width, num_classes, batch, size):
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = torch_resnet18(torch, num_classes, variant, width)
    perturb_batchnorm(torch, model, gen)
    for name, value in model.state_dict().items():
        group[f"state/{name}"] = value.numpy()
    x = torch.randn(batch, 3, size, size, generator=gen)
    target = torch.randint(0, num_classes, (batch,), generator=gen)
    group["x"], group["target"] = x.numpy(), target.numpy()
    model.eval()
    with torch.no_grad():
        group["logits"] = model(x).numpy()
    model.train()
    x.requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(model(x), target)
    loss.backward()
    group["loss"] = loss.detach().numpy()
    group["x_grad"] = x.grad.numpy()
    for name, p in model.named_parameters():
        group[f"grad/{name}"] = p.grad.numpy()
    for name, b in model.named_buffers():
        group[f"after/{name}"] = b.numpy()


def main():
    import torch

    if torch.__version__.split("+")[0] != "2.13.0":
        sys.exit(f"error: fixtures are made with torch 2.13.0, found {torch.__version__}")
    torch.set_num_threads(1)  # deterministic reductions
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(OUT, "w") as f:
        f.attrs["source"] = f"scripts/fixtures_resnet.py with torch {torch.__version__}"
        for name, case in CASES.items():
            make_case(torch, f.create_group(name), *case)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
