"""Modelled on PyTorch's "Writing Custom Datasets, DataLoaders and Transforms": a Dataset of
images with landmarks returning dict samples, transform classes (Rescale, a crop, ToTensor)
composed and applied in __getitem__, iterated by a DataLoader with worker processes, then a
small regression net trained on the batches. The face images and CSV are replaced by generated
images whose landmarks are known."""
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from tests.programs.support import init_, record


def make_faces(n, seed=0):
    """(images (n, H, W, 3) uint8 of varying sizes, landmarks (n, 4, 2) in pixels)."""
    rng = np.random.default_rng(seed)
    faces = []
    for _ in range(n):
        h, w = rng.integers(40, 60, 2)
        image = rng.integers(0, 60, (h, w, 3)).astype(np.uint8)
        points = np.stack([rng.uniform(5, w - 5, 4), rng.uniform(5, h - 5, 4)], axis=1)
        for x, y in points.astype(int):
            image[y - 2:y + 3, x - 2:x + 3] = 255
        faces.append((image, points.astype(np.float32)))
    return faces


class FaceLandmarksDataset(Dataset):
    """Face Landmarks dataset."""

    def __init__(self, faces, transform=None):
        self.faces = faces
        self.transform = transform

    def __len__(self):
        return len(self.faces)

    def __getitem__(self, idx):
        if torch.is_tensor(idx):
            idx = idx.tolist()
        image, landmarks = self.faces[idx]
        sample = {'image': image, 'landmarks': landmarks}
        if self.transform:
            sample = self.transform(sample)
        return sample


class Rescale(object):
    """Rescale the image to a given size (nearest neighbour here)."""

    def __init__(self, output_size):
        assert isinstance(output_size, (int, tuple))
        self.output_size = output_size

    def __call__(self, sample):
        image, landmarks = sample['image'], sample['landmarks']
        h, w = image.shape[:2]
        new_h, new_w = (self.output_size, self.output_size) if isinstance(
            self.output_size, int) else self.output_size
        rows = (np.arange(new_h) * h / new_h).astype(int)
        cols = (np.arange(new_w) * w / new_w).astype(int)
        img = image[rows][:, cols]
        landmarks = landmarks * [new_w / w, new_h / h]
        return {'image': img, 'landmarks': landmarks.astype(np.float32)}


class CenterCrop(object):
    """Crop the image in a sample (the tutorial's RandomCrop, made deterministic so both
    frameworks' workers produce the same crops)."""

    def __init__(self, output_size):
        self.output_size = (output_size, output_size) if isinstance(output_size, int) \
            else output_size

    def __call__(self, sample):
        image, landmarks = sample['image'], sample['landmarks']
        h, w = image.shape[:2]
        new_h, new_w = self.output_size
        top, left = (h - new_h) // 2, (w - new_w) // 2
        image = image[top: top + new_h, left: left + new_w]
        landmarks = landmarks - [left, top]
        return {'image': image, 'landmarks': landmarks.astype(np.float32)}


class ToTensor(object):
    """Convert ndarrays in sample to Tensors."""

    def __call__(self, sample):
        image, landmarks = sample['image'], sample['landmarks']
        image = image.transpose((2, 0, 1)).astype(np.float32) / 255
        return {'image': torch.from_numpy(image), 'landmarks': torch.from_numpy(landmarks)}


class Compose(object):
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, sample):
        for t in self.transforms:
            sample = t(sample)
        return sample


transformed_dataset = FaceLandmarksDataset(make_faces(48), transform=Compose(
    [Rescale(36), CenterCrop(32), ToTensor()]))
for i, sample in enumerate(transformed_dataset):
    print(i, sample['image'].size(), sample['landmarks'].size())
    if i == 3:
        break

# The tutorial shuffles; here the order is fixed so both frameworks see the same batches.
dataloader = DataLoader(transformed_dataset, batch_size=4, shuffle=False, num_workers=2)
for i_batch, sample_batched in enumerate(dataloader):
    print(i_batch, sample_batched['image'].size(), sample_batched['landmarks'].size())
    record(sample_batched['image'].sum())
    record(sample_batched['landmarks'].sum())

model = init_(nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 64), nn.ReLU(),
                            nn.Linear(64, 8)))
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
loss_fn = nn.MSELoss()
for epoch in range(2):
    for sample_batched in dataloader:
        target = sample_batched['landmarks'].reshape(-1, 8) / 32
        loss = loss_fn(model(sample_batched['image']), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        record(loss)
