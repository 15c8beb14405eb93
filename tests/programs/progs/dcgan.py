"""Modelled on pytorch/examples' DCGAN: a generator of ConvTranspose2d + BatchNorm2d + ReLU
layers ending in Tanh, a discriminator of strided Conv2d + BatchNorm2d + LeakyReLU ending in
Sigmoid, BCELoss, Adam(lr=2e-4, betas=(0.5, 0.999)) for both, and the example's alternating
update (D on real then on detached fakes, then G through D), printing the losses and D(x),
D(G(z)). Smaller: 16x16 single-channel images, nz=16, a few steps. The dataset is seeded
synthetic blobs and the noise comes from a seeded numpy generator, so that both frameworks see
the same numbers; init_ replaces the example's random normal_(0, 0.02) weights by the same
values in both, scaled to that small spread."""
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

from tests.programs.support import init_, record

nz, ngf, ndf, nc = 16, 16, 16, 1
batch_size = 8
rng = np.random.default_rng(0)

# "real" images: a bright square at a random place on a dark background, in [-1, 1]
images = -np.ones((32, nc, 16, 16), np.float32)
for img in images:
    r, c = rng.integers(0, 10, 2)
    img[:, r:r + 6, c:c + 6] = 1.0
images += rng.normal(0, 0.05, images.shape).astype(np.float32)
dataloader = DataLoader(TensorDataset(torch.from_numpy(images)), batch_size=batch_size,
                        shuffle=False)


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        m.weight.data.mul_(0.3)                 # (the example: normal_(0.0, 0.02))
    elif classname.find('BatchNorm') != -1:
        nn.init.constant_(m.weight.data, 1.0)   # (the example: normal_(1.0, 0.02))
        nn.init.constant_(m.bias.data, 0)


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        self.main = nn.Sequential(
            # input is Z, going into a convolution
            nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # state size. (ngf*2) x 4 x 4
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # state size. (ngf) x 8 x 8
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh()
            # state size. (nc) x 16 x 16
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.main = nn.Sequential(
            # input is (nc) x 16 x 16
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf) x 8 x 8
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*2) x 4 x 4
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid()
        )

    def forward(self, input):
        output = self.main(input)
        return output.view(-1, 1).squeeze(1)


netG = init_(Generator())
netG.apply(weights_init)
print(netG)
netD = init_(Discriminator())
netD.apply(weights_init)
print(netD)

criterion = nn.BCELoss()
fixed_noise = torch.from_numpy(rng.standard_normal((4, nz, 1, 1)).astype(np.float32))
real_label = 1
fake_label = 0

optimizerD = optim.Adam(netD.parameters(), lr=0.0002, betas=(0.5, 0.999))
optimizerG = optim.Adam(netG.parameters(), lr=0.0002, betas=(0.5, 0.999))

niter = 2
for epoch in range(niter):
    for i, data in enumerate(dataloader, 0):
        ############################
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        ###########################
        # train with real
        netD.zero_grad()
        real_cpu = data[0]
        b_size = real_cpu.size(0)
        label = torch.full((b_size,), real_label, dtype=real_cpu.dtype)

        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()

        # train with fake
        noise = torch.from_numpy(rng.standard_normal((b_size, nz, 1, 1)).astype(np.float32))
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()

        ############################
        # (2) Update G network: maximize log(D(G(z)))
        ###########################
        netG.zero_grad()
        label.fill_(real_label)  # fake labels are real for generator cost
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()
        record(errD)
        record(errG)

        print('[%d/%d][%d/%d] Loss_D: %.4f Loss_G: %.4f D(x): %.4f D(G(z)): %.4f / %.4f'
              % (epoch, niter, i, len(dataloader),
                 errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))

netG.eval()
with torch.no_grad():
    fake = netG(fixed_noise)
record(fake, name="fixed_noise_samples")
