"""Differentiable operations as ``Function`` subclasses, one family per module.

Core (tensor maths): elementwise, reduce, shape, matmul, softmax. Neural-network ops over the
numba kernels: conv, pool, norm, activation, linear, loss.
"""
