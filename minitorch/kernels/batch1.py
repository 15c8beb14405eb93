"""The batch-1 inference epilogue: an eval-mode BatchNorm, a residual add and a ReLU in one pass.

At batch 1 a ResNet block's convolution output is small (at most 64x112x112) and the three
separate passes over it (BatchNorm in place, ``+= identity``, ReLU) plus their Function and module
calls cost more than the arithmetic. Each element gets the same float operations in the same
order as the separate kernels (``norm.batch_norm_apply``'s ``(x - mean) * scale + bias`` with the
scale formed in the data's dtype, then the add, then ``activation.relu_value``), so the result is
bitwise theirs.
"""
import numpy as np
from numba import njit, prange

from .activation import relu_value
from .twin import serial_twin

__all__ = ["bn_residual_relu_", "bn_residual_relu_serial_", "SERIAL_BELOW"]


@njit(parallel=True, cache=True)
def bn_residual_relu_(y, mean, invstd, weight, bias, res, HAS_RES, RELU):
    """``y = relu((y - mean) * invstd * weight + bias + res)`` in place, per channel of a (C, P)
    ``y``; ``res`` (C, P) is read only when HAS_RES, the ReLU applied only when RELU.

    Parallel over channels: iteration ``c`` writes only ``y[c]``.
    """
    C, P = y.shape
    zero = np.zeros(1, dtype=y.dtype)[0]
    for c in prange(C):
        m = mean[c]
        scale = invstd[c] * weight[c]
        b = bias[c]
        for p in range(P):
            v = (y[c, p] - m) * scale + b
            if HAS_RES:
                v = v + res[c, p]
            if RELU:
                v = relu_value(v, zero)
            y[c, p] = v


# Below this many elements the serial twin runs the epilogue: waking numba's second thread costs
# more than it saves. Measured (one call between other work, both cores free, min of 50): 25K
# elements (layer4 at batch 1) 35 us serial against 95-143 us parallel, 50K 49 against 128,
# 100K 62 against 136, 200K 118-176 against 150-216; 400K about even, 800K (the stem) 681
# against 553.
SERIAL_BELOW = 1 << 18
bn_residual_relu_serial_ = serial_twin(bn_residual_relu_, "bn_residual_relu_serial_")
