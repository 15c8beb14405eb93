"""Modelled on PyTorch's "Learn the basics: Datasets & DataLoaders": a custom Dataset that reads
image files listed in an annotations CSV (decoded in __getitem__, with transform and
target_transform), iterated by a shuffling DataLoader with workers; the shapes printed as the
tutorial prints them. The FashionMNIST files are replaced by PNGs written here from the bundled
digits. Shuffled orders differ between frameworks, so what is compared is order-free."""
import csv
import os

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from tests.programs.support import digits, record

(images, labels), _ = digits(n_train=160, n_test=0)
os.makedirs("images", exist_ok=True)
with open("annotations.csv", "w", newline="") as f:
    writer = csv.writer(f)
    for i, (image, label) in enumerate(zip(images, labels)):
        name = f"digit_{i:04d}.png"
        Image.fromarray((image[0] * 255).round().astype(np.uint8)).save(os.path.join("images",
                                                                                     name))
        writer.writerow([name, int(label)])


def read_image(path):
    # torchvision's read_image gives uint8; minitorch has no uint8 dtype yet, so float32 0..255.
    return torch.from_numpy(np.asarray(Image.open(path), dtype=np.float32)[None].copy())


class CustomImageDataset(Dataset):
    def __init__(self, annotations_file, img_dir, transform=None, target_transform=None):
        with open(annotations_file) as f:
            self.img_labels = [(name, int(label)) for name, label in csv.reader(f)]
        self.img_dir = img_dir
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.img_labels)

    def __getitem__(self, idx):
        img_path = os.path.join(self.img_dir, self.img_labels[idx][0])
        image = read_image(img_path)
        label = self.img_labels[idx][1]
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


def to_float(image):
    return image.float() / 255


def one_hot(y):
    # The tutorial's torch.zeros(10).scatter_(0, torch.tensor(y), value=1): no scatter_ yet.
    return torch.eye(10)[y]


training_data = CustomImageDataset("annotations.csv", "images", transform=to_float,
                                   target_transform=one_hot)
train_dataloader = DataLoader(training_data, batch_size=64, shuffle=True, num_workers=2,
                              generator=torch.Generator().manual_seed(0))

train_features, train_labels = next(iter(train_dataloader))
print(f"Feature batch shape: {train_features.size()}")
print(f"Labels batch shape: {train_labels.size()}")
img = train_features[0].squeeze()
label = train_labels[0]
print(f"Label: {label.argmax()}  image {img.shape}")

total, count, per_class = 0.0, 0, np.zeros(10)
for epoch in range(2):
    for features, targets in train_dataloader:
        total += features.sum().item()
        count += len(features)
        per_class += targets.sum(0).numpy()
record(total)
record(count, name="count")
record(per_class, name="per_class")
record(len(train_dataloader), name="batches")
