"""A WGAN-GP in the style of the PyTorch ports of "Improved Training of Wasserstein GANs"
(Gulrajani et al.): a conv critic without batch norm, a generator of Linear + ConvTranspose2d +
BatchNorm2d + ReLU ending in Tanh, Adam(lr=1e-4, betas=(0.5, 0.9)) for both, several critic
updates per generator update, and the gradient penalty: the critic's gradient with respect to
random interpolates of real and fake images, taken with ``autograd.grad(..., create_graph=True)``
and pushed towards norm 1, so the critic's update differentiates through its own input gradient
(the double backward of Conv2d, LeakyReLU and Linear). The ``backward(mone)`` idiom of those
ports is kept. Smaller: 8x8 single-channel images, a few iterations; the images, noise and
interpolation weights come from a seeded numpy generator so that both frameworks see the same
numbers, and init_ gives both the same initial weights."""
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch import autograd

from tests.programs.support import init_, record

DIM = 16          # the critic's and generator's width
NZ = 16           # the noise size
BATCH_SIZE = 8
CRITIC_ITERS = 3  # critic updates per generator update
LAMBDA = 10       # the gradient penalty's weight
ITERS = 3
rng = np.random.default_rng(0)

# "real" images: a bright vertical bar at a random column on a dark background, in [-1, 1]
images = -np.ones((64, 1, 8, 8), np.float32)
for img in images:
    c = rng.integers(0, 7)
    img[:, :, c:c + 2] = 1.0
images += rng.normal(0, 0.05, images.shape).astype(np.float32)


def batches():
    while True:
        for i in range(0, len(images), BATCH_SIZE):
            yield torch.from_numpy(images[i:i + BATCH_SIZE])


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.preprocess = nn.Sequential(nn.Linear(NZ, 2 * DIM * 2 * 2), nn.ReLU(True))
        self.block = nn.Sequential(
            nn.ConvTranspose2d(2 * DIM, DIM, 4, 2, 1),   # 2x2 -> 4x4
            nn.BatchNorm2d(DIM),
            nn.ReLU(True),
        )
        self.out = nn.ConvTranspose2d(DIM, 1, 4, 2, 1)  # 4x4 -> 8x8

    def forward(self, noise):
        x = self.preprocess(noise).view(-1, 2 * DIM, 2, 2)
        return torch.tanh(self.out(self.block(x)))


class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, DIM, 3, stride=2, padding=1),              # 8x8 -> 4x4
            nn.LeakyReLU(0.2),
            nn.Conv2d(DIM, 2 * DIM, 3, stride=1, padding=2, dilation=2, groups=2),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * DIM, 2 * DIM, 3, stride=2, padding=1),    # 4x4 -> 2x2
            nn.LeakyReLU(0.2),
        )
        self.output = nn.Linear(2 * DIM * 2 * 2, 1)

    def forward(self, x):
        return self.output(self.main(x).view(-1, 2 * DIM * 2 * 2)).view(-1)


def calc_gradient_penalty(netD, real_data, fake_data):
    alpha = torch.from_numpy(rng.random((BATCH_SIZE, 1)).astype(np.float32))
    alpha = alpha.expand(BATCH_SIZE, real_data.nelement() // BATCH_SIZE).contiguous()
    alpha = alpha.view(BATCH_SIZE, 1, 8, 8)
    interpolates = alpha * real_data + ((1 - alpha) * fake_data)
    interpolates.requires_grad_(True)
    disc_interpolates = netD(interpolates)
    gradients = autograd.grad(outputs=disc_interpolates, inputs=interpolates,
                              grad_outputs=torch.ones(disc_interpolates.size()),
                              create_graph=True, retain_graph=True, only_inputs=True)[0]
    gradients = gradients.view(gradients.size(0), -1)
    return ((gradients.norm(2, dim=1) - 1) ** 2).mean() * LAMBDA


netG = init_(Generator())
netD = init_(Critic())
print(netG)
print(netD)

optimizerD = optim.Adam(netD.parameters(), lr=1e-4, betas=(0.5, 0.9))
optimizerG = optim.Adam(netG.parameters(), lr=1e-4, betas=(0.5, 0.9))
one = torch.tensor(1.0)
mone = one * -1
data = batches()

for iteration in range(ITERS):
    # (1) update the critic
    for p in netD.parameters():
        p.requires_grad = True
    for _ in range(CRITIC_ITERS):
        real = next(data)
        netD.zero_grad()
        D_real = netD(real).mean()
        D_real.backward(mone)

        noise = torch.from_numpy(rng.standard_normal((BATCH_SIZE, NZ)).astype(np.float32))
        with torch.no_grad():
            fake = netG(noise)           # the generator is not trained by this step
        D_fake = netD(fake).mean()
        D_fake.backward(one)

        gradient_penalty = calc_gradient_penalty(netD, real, fake)
        gradient_penalty.backward()

        D_cost = D_fake - D_real + gradient_penalty
        Wasserstein_D = D_real - D_fake
        optimizerD.step()
        record(D_cost)
        record(gradient_penalty)

    # (2) update the generator through the frozen critic
    for p in netD.parameters():
        p.requires_grad = False
    netG.zero_grad()
    noise = torch.from_numpy(rng.standard_normal((BATCH_SIZE, NZ)).astype(np.float32))
    G = netD(netG(noise)).mean()
    G.backward(mone)
    G_cost = -G
    optimizerG.step()
    record(G_cost)
    record(Wasserstein_D)
    print(f"iter {iteration}: D_cost {D_cost.item():.4f} G_cost {G_cost.item():.4f} "
          f"Wasserstein_D {Wasserstein_D.item():.4f} GP {gradient_penalty.item():.4f}")

record(netD.main[0].weight, name="critic_conv1_weight")
netG.eval()
with torch.no_grad():
    record(netG(torch.from_numpy(rng.standard_normal((4, NZ)).astype(np.float32))),
           name="samples")
