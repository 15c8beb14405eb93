"""Functions behind the in-place tensor ops.

Those with ``op_name`` write into their first input's array (run through
``autograd.inplace.apply_inplace``: no temporary, no copy); the others compute a new array that
``assign_result`` copies into the target (``fill_``, ``copy_``, ``%=``).
"""
import numpy as np

from ..autograd.function import Function
from ..kernels import activation as K
from .activation import ReLU
from .elementwise import Where
from .rounding import rounded_quotient_graph
from .shape import Index

__all__ = ["AddInplace", "ReLUInplace", "IndexPut", "Fill", "Copy", "Remainder"]


class AddInplace(Function):
    """``a += alpha * b`` (``sub_`` is alpha = -alpha); nothing saved."""

    op_name = "add_"
    node_name = "AddBackward0"

    @staticmethod
    def name_for(is_tensor, arrays, static):  # sub_ arrives as alpha = -1
        return "SubBackward0" if static.get("alpha", 1) == -1 else "AddBackward0"

    @staticmethod
    def forward(ctx, a, b, *, alpha=1):
        ctx.alpha = alpha
        if alpha == 1:
            np.add(a, b, out=a)
        elif alpha == -1:
            np.subtract(a, b, out=a)
        else:
            np.add(a, np.multiply(b, alpha, dtype=a.dtype), out=a)
        return a

    @staticmethod
    def backward(ctx, grad):
        need_b = ctx.needs_input_grad[1]
        gb = (grad if ctx.alpha == 1 else grad * ctx.alpha) if need_b else None
        return grad, gb

    backward_graph = backward  # (operators only: runs on Tensors as it is)


class ReLUInplace(ReLU):
    """``relu_``: one pass over the array in place; saves its result, as PyTorch does (so its
    backward is ReLU's)."""

    op_name = "relu_"

    @staticmethod
    def forward(ctx, a):
        if a.flags.c_contiguous:
            flat = a.reshape(-1)
            K.relu_forward(flat, flat)
        else:
            np.maximum(a, 0, out=a)
        ctx.save_for_backward(a)
        return a


class IndexPut(Function):
    """``a[key] = value`` with advanced ``key`` (PyTorch's index_put_)."""

    op_name = "index_put_"
    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, a, value, *, key):
        a[key] = value
        ctx.key = key
        return a

    @staticmethod
    def backward(ctx, grad):
        ga = None
        if ctx.needs_input_grad[0]:
            ga = grad.copy()
            ga[ctx.key] = 0
        gv = grad[ctx.key] if ctx.needs_input_grad[1] else None
        return ga, gv

    @staticmethod
    def backward_graph(ctx, grad):
        ga = gv = None
        if ctx.needs_input_grad[0]:
            kept = np.ones(grad.shape, bool)
            kept[ctx.key] = False
            ga = Where.apply(ctx.constant(kept), grad,
                             ctx.constant(np.zeros((), grad._data.dtype)))
        if ctx.needs_input_grad[1]:
            gv = Index.apply(grad, key=ctx.key)
        return ga, gv


class Fill(Function):
    """``fill_``/``zero_``/``uniform_``: the target's old value gets no gradient; a tensor value
    gets the sum of the gradient."""

    node_name = "FillBackward0"

    @staticmethod
    def name_for(is_tensor, arrays, static):  # PyTorch: fill_(Scalar) / fill_(Tensor)
        return "FillBackward3" if is_tensor[1] else "FillBackward2"

    @staticmethod
    def forward(ctx, a, value):
        return np.array(np.broadcast_to(np.asarray(value, a.dtype), a.shape))

    @staticmethod
    def backward(ctx, grad):
        need_a, need_v = ctx.needs_input_grad
        return (np.zeros_like(grad) if need_a else None), (grad.sum() if need_v else None)

    @staticmethod
    def backward_graph(ctx, grad):
        need_a, need_v = ctx.needs_input_grad
        return ((ctx.constant(np.zeros(grad.shape, grad._data.dtype)) if need_a else None),
                (grad.sum() if need_v else None))


class Copy(Function):
    """``dst.copy_(src)``: the result has src's values (broadcast); dst's old value gets zeros."""

    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, dst, src):
        return np.array(np.broadcast_to(src, dst.shape), dtype=dst.dtype)

    @staticmethod
    def backward(ctx, grad):
        need_dst, _ = ctx.needs_input_grad
        return (np.zeros_like(grad) if need_dst else None), grad

    @staticmethod
    def backward_graph(ctx, grad):
        need_dst, _ = ctx.needs_input_grad
        return (ctx.constant(np.zeros(grad.shape, grad._data.dtype)) if need_dst else None), grad


class Remainder(Function):
    """``a % b`` with the sign of the divisor (Python's and PyTorch's ``remainder``)."""

    @staticmethod
    def name_for(is_tensor, arrays, static):  # PyTorch: remainder(Tensor) / remainder(Scalar)
        return "RemainderBackward1" if is_tensor[1] else "RemainderBackward0"

    @staticmethod
    def forward(ctx, a, b):
        if np.asarray(b).dtype.kind in "iub" and np.any(np.asarray(b) == 0):
            raise RuntimeError("ZeroDivisionError")
        # only the divisor's gradient needs them (PyTorch saves them only then, too)
        ctx.save_for_backward(*((a, b) if ctx.needs_input_grad[1] else (None, None)))
        if np.result_type(a, b).kind != "f":
            return np.remainder(a, b)
        # torch's formula: fmod, moved to the divisor's sign (a zero stays +0.0; numpy gives -0.0
        # for 0 % -b, which changes what a later division by it gives)
        with np.errstate(invalid="ignore", divide="ignore"):
            mod = np.fmod(a, b)
            return np.where((mod != 0) & ((b < 0) != (mod < 0)), mod + b, mod)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        gb = -grad * np.floor_divide(a, b) if ctx.needs_input_grad[1] else None
        return grad, gb

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = ctx.saved_tensors
        return grad, (rounded_quotient_graph(ctx, grad, a, b, "floor")
                      if ctx.needs_input_grad[1] else None)
