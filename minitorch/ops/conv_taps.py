"""The kernel taps of a convolution that ever meet the image, and the smaller kernel that keeps
only those (``ops.conv._Plan`` trims to it: same sums, fewer multiplications by padding)."""
import numpy as np

__all__ = ["live_taps", "tap_meets_input", "trimmed_weight", "trimmed_padding"]


def live_taps(x_shape, w_shape, stride, padding, dilation, out_hw):
    """((ah, bh), (aw, bw)): the kernel rows and columns that read a real input element for
    some output pixel, or None when that is all of them.

    On small feature maps much of a kernel only ever meets padding: a 3x3 convolution over a
    1x1 map (ResNet-18's layer4 at 32x32 input) uses its centre tap alone, so im2col would
    multiply 8 zero columns out of 9 (and Winograd 16 products for one useful). The trimmed
    kernel, with the padding reduced by the taps cut off in front, reads the same input
    elements for every output pixel, so it computes the same sums (minus exact zeros).
    """
    ranges = []
    for size, k, s, p, d, out in zip(x_shape[2:], w_shape[2:], stride, padding, dilation, out_hw):
        live = [t for t in range(k) if tap_meets_input(size, s, p, d, out, t)]
        if not live:
            return None  # every tap reads padding only: leave this odd case as it is
        ranges.append((live[0], live[-1] + 1))
    if all(r == (0, k) for r, k in zip(ranges, w_shape[2:])):
        return None
    new_pad = trimmed_padding(padding, dilation, ranges)
    # same output size with the smaller kernel (it can differ when the cut is asymmetric)
    same = all((size + 2 * p - d * (b - a - 1) - 1) // s + 1 == out for size, p, d, (a, b), s, out
               in zip(x_shape[2:], new_pad, dilation, ranges, stride, out_hw))
    return tuple(ranges) if same and min(new_pad) >= 0 else None


def tap_meets_input(size, stride, pad, dil, out, t):
    """Whether tap ``t`` reads an input index in [0, size) for some output index in [0, out)."""
    first = t * dil - pad              # the input index output 0 reads through tap t
    o = max(0, -(first // stride))     # the first output whose index is >= 0
    return o < out and 0 <= first + o * stride < size


def trimmed_weight(w, taps):
    (ah, bh), (aw, bw) = taps
    return np.ascontiguousarray(w[:, :, ah:bh, aw:bw])


def trimmed_padding(padding, dilation, taps):
    """The padding that keeps every remaining tap on the input element it read before."""
    (ah, _), (aw, _) = taps
    return padding[0] - ah * dilation[0], padding[1] - aw * dilation[1]
