"""Modelled on the 60-minute blitz's "Neural Networks": LeNet on a 1x32x32 input, backward
with an explicit gradient, MSELoss, walking grad_fn, and the optimizer loop. The tutorial's
torch.randn inputs come from a seeded numpy generator (the same in both frameworks)."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

from tests.programs.support import init_, record

rng = np.random.default_rng(0)


def randn(*shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, input):
        c1 = F.relu(self.conv1(input))
        s2 = F.max_pool2d(c1, (2, 2))
        c3 = F.relu(self.conv2(s2))
        s4 = F.max_pool2d(c3, 2)
        s4 = torch.flatten(s4, 1)
        f5 = F.relu(self.fc1(s4))
        f6 = F.relu(self.fc2(f5))
        output = self.fc3(f6)
        return output


net = init_(Net())
print(net)
params = list(net.parameters())
print(len(params))
print(params[0].size())

input = randn(1, 1, 32, 32)
out = net(input)
print(out)
net.zero_grad()
out.backward(randn(1, 10))
record(net.conv1.bias.grad, name="conv1_bias_grad_of_random_gradient")

output = net(input)
target = randn(10)
target = target.view(1, -1)
criterion = nn.MSELoss()
loss = criterion(output, target)
print(loss)
record(loss)
print(loss.grad_fn)
print(loss.grad_fn.next_functions[0][0])
print(loss.grad_fn.next_functions[0][0].next_functions[0][0])

net.zero_grad()
print('conv1.bias.grad before backward')
print(net.conv1.bias.grad)
loss.backward()
print('conv1.bias.grad after backward')
print(net.conv1.bias.grad)
record(net.conv1.bias.grad, name="conv1_bias_grad")

learning_rate = 0.01
with torch.no_grad():   # the tutorial's f.data.sub_(f.grad.data * learning_rate)
    for f in net.parameters():
        f.sub_(f.grad * learning_rate)

optimizer = optim.SGD(net.parameters(), lr=0.01)
for _ in range(20):
    optimizer.zero_grad()
    output = net(input)
    loss = criterion(output, target)
    loss.backward()
    optimizer.step()
    record(loss)
