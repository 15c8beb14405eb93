"""The error function and its complement on flat (1-d) arrays (numpy has neither): libm's
``erf``/``erfc`` per element, in the array's dtype."""
import math

from numba import njit

__all__ = ["erf", "erfc"]


@njit(cache=True)
def erf(out, x):
    for i in range(x.size):
        out[i] = math.erf(x[i])


@njit(cache=True)
def erfc(out, x):
    for i in range(x.size):
        out[i] = math.erfc(x[i])
