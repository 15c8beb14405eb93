"""Modelled on PyTorch's "Learn the basics: Tensors": making tensors (from data, numpy, other
tensors, shapes), attributes (shape, dtype, device), moving to the accelerator when there is
one, indexing and slicing, joining, arithmetic (matmul three ways, mul three ways), single-
element tensors, in-place ops, and the numpy bridge (shared memory both ways)."""
import numpy as np
import torch

from tests.programs.support import record

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
np_array = np.array(data)
x_np = torch.from_numpy(np_array)
x_ones = torch.ones_like(x_data)
print(f"Ones Tensor: \n {x_ones} \n")
x_rand = torch.rand_like(x_data, dtype=torch.float)
print(f"Random Tensor: \n {x_rand.shape} \n")

shape = (2, 3,)
ones_tensor = torch.ones(shape)
zeros_tensor = torch.zeros(shape)
print(f"Ones Tensor: \n {ones_tensor} \n")
print(f"Zeros Tensor: \n {zeros_tensor}")

tensor = torch.ones(3, 4)
print(f"Shape of tensor: {tensor.shape}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")
if torch.accelerator.is_available():
    tensor = tensor.to(torch.accelerator.current_accelerator())

tensor = torch.ones(4, 4)
print(f"First row: {tensor[0]}")
print(f"First column: {tensor[:, 0]}")
print(f"Last column: {tensor[..., -1]}")
tensor[:, 1] = 0
print(tensor)
record(tensor, name="tensor")

t1 = torch.cat([tensor, tensor, tensor], dim=1)
print(t1)
record(t1, name="t1")

y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
y3 = torch.rand_like(y1)
torch.matmul(tensor, tensor.T, out=y3)
z1 = tensor * tensor
z2 = tensor.mul(tensor)
z3 = torch.rand_like(tensor)
torch.mul(tensor, tensor, out=z3)
for name, value in [("y1", y1), ("y2", y2), ("y3", y3), ("z1", z1), ("z2", z2), ("z3", z3)]:
    record(value, name=name)

agg = tensor.sum()
agg_item = agg.item()
print(agg_item, type(agg_item))
record(agg_item)

print(f"{tensor} \n")
tensor.add_(5)
print(tensor)
record(tensor, name="after_add_")

t = torch.ones(5)
print(f"t: {t}")
n = t.numpy()
print(f"n: {n}")
t.add_(1)
print(f"t: {t}")
print(f"n: {n}")
record(n.copy(), name="n_after_t_add_")
n = np.ones(5)
t = torch.from_numpy(n)
np.add(n, 1, out=n)
print(f"t: {t}")
print(f"n: {n}")
record(t, name="t_after_np_add")
