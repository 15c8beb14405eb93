"""Bad hyperparameters of the adaptive optimizers: PyTorch's ValueError and message, and
non-finite values rejected too (PyTorch lets an infinite lr or eps through)."""
import math

import numpy as np
import pytest

import minitorch as mt
from minitorch import optim

CASES = [
    ("Adam", {"lr": -1}, "Invalid learning rate: -1"),
    ("Adam", {"eps": -1e-8}, "Invalid epsilon value: -1e-08"),
    ("Adam", {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
    ("Adam", {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    ("Adam", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ("AdamW", {"lr": math.nan}, "Invalid learning rate: nan"),
    ("AdamW", {"lr": math.inf}, "Invalid learning rate: inf"),
    ("AdamW", {"betas": (0.9, math.nan)}, "Invalid beta parameter at index 1: nan"),
    ("RMSprop", {"alpha": -0.5}, "Invalid alpha value: -0.5"),
    ("RMSprop", {"momentum": -0.9}, "Invalid momentum value: -0.9"),
    ("RMSprop", {"eps": math.inf}, "Invalid epsilon value: inf"),
    ("Adagrad", {"lr_decay": -1}, "Invalid lr_decay value: -1"),
    ("Adagrad", {"initial_accumulator_value": -0.1},
     "Invalid initial_accumulator_value value: -0.1"),
    ("Adadelta", {"rho": 1.5}, "Invalid rho value: 1.5"),
    ("Adadelta", {"lr": "0.1"}, "Invalid learning rate: 0.1"),
]


@pytest.mark.parametrize("kind,kwargs,message", CASES)
def test_bad_hyperparameter_is_torch_value_error(kind, kwargs, message):
    p = mt.tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError) as info:
        getattr(optim, kind)([p], **kwargs)
    assert str(info.value) == message


# Stricter than torch: it accepts infinite lr/eps and (with a later TypeError) a string lr.
MINITORCH_ONLY = {"Invalid learning rate: inf", "Invalid epsilon value: inf",
                  "Invalid learning rate: 0.1"}


@pytest.mark.parametrize("kind,kwargs,message", [c for c in CASES if c[2] not in MINITORCH_ONLY])
def test_same_messages_as_torch_for_the_values_torch_rejects(kind, kwargs, message):
    torch = pytest.importorskip("torch")
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError) as info:
        getattr(torch.optim, kind)([p], **kwargs)
    assert str(info.value) == message


def test_bad_value_in_a_param_group_is_caught_too():
    a = mt.tensor(np.zeros(2), requires_grad=True)
    b = mt.tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0: 2"):
        optim.Adam([{"params": [a]}, {"params": [b], "betas": (2, 0.9)}])


@pytest.mark.parametrize("kwargs", [{"betas": 0.9}, {"betas": (0.9,)}, {"betas": ("a", "b")}])
def test_betas_must_be_a_pair_of_numbers(kwargs):
    p = mt.tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match="Invalid betas"):
        optim.Adam([p], **kwargs)


@pytest.mark.parametrize("kind,flag", [("Adam", "fused"), ("AdamW", "capturable"),
                                       ("RMSprop", "differentiable"), ("Adagrad", "fused")])
def test_cuda_only_flags_are_refused_clearly(kind, flag):
    p = mt.tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match=f"{flag}=True is not supported by minitorch"):
        getattr(optim, kind)([p], **{flag: True})


def test_foreach_is_accepted_and_gives_the_same_numbers():
    out = []
    for foreach in (None, True):
        p = mt.tensor(np.ones(3), requires_grad=True)
        opt = optim.Adam([p], lr=0.1, foreach=foreach)
        p.grad = mt.tensor(np.array([1.0, -2.0, 3.0]))
        opt.step()
        out.append(p.detach().numpy())
    np.testing.assert_array_equal(out[0], out[1])


def test_loaded_state_with_a_wrong_buffer_shape_is_named():
    p = mt.tensor(np.zeros(3), requires_grad=True)
    opt = optim.Adam([p])
    bad = {"state": {0: {"step": np.array(1.0), "exp_avg": np.zeros(4),
                         "exp_avg_sq": np.zeros(3)}},
           "param_groups": [dict(opt.state_dict()["param_groups"][0])]}
    with pytest.raises(ValueError, match=r"state entry 0: exp_avg has shape \(4,\), the "
                                         r"parameter has \(3,\)"):
        opt.load_state_dict(bad)


def test_grad_of_the_wrong_shape_is_an_error_not_a_memory_overrun():
    p = mt.tensor(np.zeros(3), requires_grad=True)
    opt = optim.RMSprop([p])
    p.grad = mt.tensor(np.zeros(5))
    with pytest.raises(RuntimeError, match=r"grad shape \(5,\) does not match the parameter "
                                           r"shape \(3,\)"):
        opt.step()


def test_integer_parameter_is_a_type_error():
    p = mt.tensor(np.zeros(3, dtype=np.int64))
    opt = optim.Adagrad([p])
    p.grad = mt.tensor(np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="updates float32/float64 parameters"):
        opt.step()
