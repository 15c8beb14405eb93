"""Row-wise softmax, log-softmax and fused softmax-cross-entropy kernels over (R, C) arrays.

Row ``r`` of the output (and ``loss[r]``) depends only on row ``r`` of the inputs, so the softmax
kernels run parallel over rows (iterations write disjoint outputs); the cross-entropy kernels
run serially (see the comment above them). Row sums use float64 scalars; no
float64 arrays are made for float32 data.
"""
import numpy as np
from numba import njit, prange

__all__ = ["log_softmax_forward", "log_softmax_backward", "softmax_forward", "softmax_backward",
           "cross_entropy_forward", "cross_entropy_backward"]


@njit(cache=True)
def _row_max_logsumexp(x, r):
    """(max, log(sum(exp(x[r] - max)))) of one row, stable for large logits."""
    C = x.shape[1]
    mx = -np.inf
    for j in range(C):
        if x[r, j] > mx:
            mx = x[r, j]
    if mx == -np.inf or mx != mx:
        # all -inf (or NaN): exp would give 0/0; let the result carry -inf/NaN like PyTorch
        return mx, 0.0
    s = 0.0
    for j in range(C):
        s += np.exp(x[r, j] - mx)
    return mx, np.log(s)


@njit(parallel=True, cache=True)
def log_softmax_forward(out, x):
    """``out[r] = x[r] - logsumexp(x[r])``. Parallel over rows.

    The subtraction is done in the data's dtype, as PyTorch does: with float32 data a row whose
    max dominates gives exactly 0 at the max (a float64 log-sum-exp of 1e-9 would leave -1e-9,
    and sqrt of that is NaN). ``out[r, j]`` first holds lse rounded to the output dtype."""
    for r in prange(x.shape[0]):
        mx, lse = _row_max_logsumexp(x, r)
        if lse != 0.0:
            out[r, 0] = np.exp(lse)      # the row sum, rounded to the data dtype
            lse = np.log(out[r, 0])      # so 1 + 1e-9 is 1 and its log exactly 0
        for j in range(x.shape[1]):
            out[r, j] = lse
            out[r, j] = (x[r, j] - mx) - out[r, j]


@njit(parallel=True, cache=True)
def log_softmax_backward(grad_x, grad_out, y):
    """``grad_x = g - exp(y) * sum(g)`` per row, ``y`` the forward output. Parallel over rows."""
    for r in prange(y.shape[0]):
        s = 0.0
        for j in range(y.shape[1]):
            s += grad_out[r, j]
        for j in range(y.shape[1]):
            grad_x[r, j] = grad_out[r, j] - np.exp(y[r, j]) * s


@njit(parallel=True, cache=True)
def softmax_forward(out, x):
    """``out[r] = exp(x[r] - max) / sum``. Parallel over rows."""
    for r in prange(x.shape[0]):
        mx, lse = _row_max_logsumexp(x, r)
        for j in range(x.shape[1]):
            out[r, j] = np.exp(x[r, j] - mx - lse)


@njit(parallel=True, cache=True)
def softmax_backward(grad_x, grad_out, y):
    """``grad_x = y * (g - sum(g * y))`` per row, ``y`` the forward output. Parallel over rows."""
    for r in prange(y.shape[0]):
        s = 0.0
        for j in range(y.shape[1]):
            s += grad_out[r, j] * y[r, j]
        for j in range(y.shape[1]):
            grad_x[r, j] = y[r, j] * (grad_out[r, j] - s)


# Serial (prange runs as range): a loss has one row per sample (16-64 here), too little work
# to wake the thread pool for, and a parfor compiles ~0.7 s slower on a cold cache.
@njit(cache=True)
def cross_entropy_forward(loss, row_weight, logits, target, weight, label_smoothing,
                          ignore_index):
    """Per-row cross-entropy of class-index targets, with PyTorch's weights and smoothing.

    ``loss[r] = (1-eps) * w[t] * -logp[t] + eps/C * sum_j w[j] * -logp[j]`` and
    ``row_weight[r] = w[t]`` (the mean's denominator); both 0 for ``t == ignore_index``.
    """
    R, C = logits.shape
    for r in prange(R):
        t = target[r]
        if t == ignore_index:
            loss[r] = 0
            row_weight[r] = 0
            continue
        mx, lse = _row_max_logsumexp(logits, r)
        nll = -(logits[r, t] - mx - lse) * weight[t]
        smooth = 0.0
        if label_smoothing > 0:
            for j in range(C):
                smooth -= (logits[r, j] - mx - lse) * weight[j]
        loss[r] = (1.0 - label_smoothing) * nll + (label_smoothing / C) * smooth
        row_weight[r] = weight[t]


# Serial (prange runs as range): a loss has one row per sample (16-64 here), too little work
# to wake the thread pool for, and a parfor compiles ~0.7 s slower on a cold cache.
@njit(cache=True)
def cross_entropy_backward(grad_logits, logits, target, weight, row_scale, label_smoothing,
                           ignore_index):
    """Gradient of ``row_scale[r] * loss[r]`` w.r.t. the logits, softmax recomputed per row.

    ``d/dz_j = s * ((1-eps) * w[t] * (p_j - [j == t]) + eps/C * (p_j * sum(w) - w[j]))``.
    """
    R, C = logits.shape
    w_sum = 0.0
    for j in range(C):
        w_sum += weight[j]
    for r in prange(R):
        t = target[r]
        if t == ignore_index:
            for j in range(C):
                grad_logits[r, j] = 0
            continue
        mx, lse = _row_max_logsumexp(logits, r)
        s = row_scale[r]
        a = (1.0 - label_smoothing) * weight[t]
        b = label_smoothing / C
        for j in range(C):
            p = np.exp(logits[r, j] - mx - lse)
            g = a * p + b * (p * w_sum - weight[j])
            if j == t:
                g -= a
            grad_logits[r, j] = s * g
