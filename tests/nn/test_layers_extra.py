"""The layers core-nn added against torch.nn, through test_layers_more's check (the same
constructor text in both libraries, our parameters copied into torch's, train and eval: outputs,
input and parameter gradients, buffers, state-dict keys and repr must agree), plus the
behaviour a table cannot show."""
import warnings

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F
from minitorch import nn

from .test_layers_more import test_layer_matches_torch_in_train_and_eval as _layer_check

torch = pytest.importorskip("torch")

# (constructor text with `nn`, input shape, input kind), as test_layers_more.LAYERS
LAYERS = [
    ("nn.GroupNorm(2, 6)", (2, 6, 4, 3), "float"),
    ("nn.GroupNorm(3, 6, affine=False)", (2, 6, 5), "float"),
    ("nn.GroupNorm(1, 4, eps=1e-3, bias=False)", (3, 4), "float"),
    ("nn.InstanceNorm2d(3)", (2, 3, 4, 5), "float"),
    ("nn.InstanceNorm1d(3, affine=True, track_running_stats=True)", (2, 3, 7), "float"),
    ("nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=None)",
     (3, 4, 5), "float"),   # unbatched (C, H, W)
    ("nn.RMSNorm(5)", (2, 3, 5), "float"),
    ("nn.RMSNorm((3, 5), eps=1e-3, elementwise_affine=False)", (2, 3, 5), "float"),
    ("nn.LocalResponseNorm(3)", (2, 6, 4, 4), "float"),
    ("nn.LocalResponseNorm(4, alpha=0.1, beta=0.5, k=2.0)", (2, 5, 7), "float"),
]


@pytest.mark.parametrize("text,shape,kind", LAYERS, ids=[row[0] for row in LAYERS])
def test_extra_layer_matches_torch_in_train_and_eval(text, shape, kind):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch's InstanceNorm num_features warning
        _layer_check(text, shape, kind)


def test_instance_norm_running_stats_are_the_mean_of_the_samples_updates():
    x = np.random.default_rng(0).standard_normal((4, 3, 6)).astype(np.float32)
    rm, rv = mt.zeros(3), mt.ones(3)
    trm, trv = torch.zeros(3), torch.ones(3)
    F.instance_norm(mt.tensor(x), rm, rv, momentum=0.3)
    torch.nn.functional.instance_norm(torch.tensor(x), trm, trv, momentum=0.3)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-6)
    out = F.instance_norm(mt.tensor(x), rm, rv, use_input_stats=False)
    ref = torch.nn.functional.instance_norm(torch.tensor(x), trm, trv, use_input_stats=False)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call,error,match", [
    (lambda F, lib: F.group_norm(lib.randn(2, 6, 4), 4), RuntimeError, "divisible by num_groups"),
    (lambda F, lib: F.instance_norm(lib.randn(2, 3, 1)), ValueError,
     "more than 1 spatial element"),
    (lambda F, lib: F.rms_norm(lib.randn(2, 3), (4,)), RuntimeError,
     r"normalized_shape=\[4\]"),
    (lambda F, lib: F.local_response_norm(lib.randn(2, 3), 2), ValueError, "3D or higher"),
])
def test_norm_errors_as_torch(call, error, match):
    with pytest.raises(error, match=match):
        call(F, mt)
    with pytest.raises(error, match=match):
        call(torch.nn.functional, torch)


def test_group_norm_constructor_checks_divisibility():
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="to match num_features"):
        nn.InstanceNorm1d(3, affine=True)(mt.randn(2, 4, 5))
