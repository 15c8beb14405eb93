"""Automatic differentiation: Functions, the backward engine, grad modes, gradcheck, graphs."""
from collections import namedtuple

from .backward import backward, grad
from .custom_function import Function, FunctionCtx, once_differentiable
from .function import AccumulateGrad, Node
from . import functional
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                        no_grad, set_grad_enabled)
from .graphviz import render_dot, to_dot

__all__ = ["Function", "FunctionCtx", "once_differentiable", "Node", "AccumulateGrad", "backward", "grad", "gradcheck", "gradgradcheck",
           "GradcheckError", "functional", "no_grad", "enable_grad", "set_grad_enabled",
           "is_grad_enabled", "inference_mode", "is_inference_mode_enabled", "to_dot", "render_dot",
           "values_indices"]

values_indices = namedtuple("values_indices", ["values", "indices"])
values_indices.__doc__ = "The (values, indices) result of max/min along a dim, as PyTorch's."
