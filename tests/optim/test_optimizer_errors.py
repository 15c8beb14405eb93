"""Bad optimizer input: one ValueError (or TypeError) whose message names the culprit."""
import copy

import numpy as np
import pytest

import minitorch as mt
from minitorch import optim


def param(*shape):
    return mt.tensor(np.zeros(shape or (2,)), requires_grad=True)


@pytest.mark.parametrize("kwargs,culprit", [
    ({"lr": -0.1}, "lr -0.1"),
    ({"lr": float("nan")}, "lr nan"),
    ({"lr": 0.1, "momentum": -0.5}, "momentum -0.5"),
    ({"lr": 0.1, "weight_decay": -1e-4}, "weight_decay -0.0001"),
    ({"lr": 0.1, "lr_typo": 1}, None),
])
def test_bad_hyperparameter_is_a_value_error_naming_it(kwargs, culprit):
    if culprit is None:
        with pytest.raises(TypeError, match="lr_typo"):
            optim.SGD([param()], **kwargs)
        return
    with pytest.raises(ValueError, match=culprit):
        optim.SGD([param()], **kwargs)


def test_bad_hyperparameter_in_a_param_group_is_caught_too():
    with pytest.raises(ValueError, match="momentum -0.9"):
        optim.SGD([{"params": [param()]}, {"params": [param()], "momentum": -0.9}], lr=0.1)


@pytest.mark.parametrize("kwargs,culprit", [
    ({"momentum": 0.0}, "momentum=0.0"),
    ({"momentum": 0.9, "dampening": 0.1}, "dampening=0.1"),
])
def test_nesterov_requires_momentum_and_no_dampening(kwargs, culprit):
    with pytest.raises(ValueError, match=f"nesterov.*{culprit}"):
        optim.SGD([param()], lr=0.1, nesterov=True, **kwargs)


def test_parameter_in_two_groups_is_a_value_error_naming_it():
    shared = param(3, 4)
    with pytest.raises(ValueError, match=r"parameter 0 \(shape \(3, 4\)\).*param group 0"):
        optim.SGD([{"params": [shared, param()]}, {"params": [shared]}], lr=0.1)


def test_parameter_twice_in_one_group_is_a_value_error():
    p = param(5)
    with pytest.raises(ValueError, match=r"parameter 1 \(shape \(5,\)\) appears more than once"):
        optim.SGD([p, p], lr=0.1)


def test_duplicate_named_parameter_is_named():
    p = param()
    opt = optim.SGD([("fc.weight", p)], lr=0.1)
    with pytest.raises(ValueError, match="'head.weight'"):
        opt.add_param_group({"params": [("head.weight", p)]})


def test_empty_and_non_tensor_params_are_rejected():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable"):
        optim.SGD(param(), lr=0.1)
    with pytest.raises(TypeError, match="parameter 1 of the group is a ndarray"):
        optim.SGD([param(), np.zeros(2)], lr=0.1)
    with pytest.raises(TypeError, match="sets"):
        optim.SGD({param()}, lr=0.1)


def test_non_leaf_tensor_is_rejected():
    leaf = param(2)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([leaf * 2], lr=0.1)


def stepped_optimizer(shapes, groups=None):
    params = [mt.tensor(np.ones(s), requires_grad=True) for s in shapes]
    if groups is None:
        opt = optim.SGD(params, lr=0.1, momentum=0.9)
    else:
        opt = optim.SGD([{"params": [params[i] for i in g]} for g in groups], lr=0.1,
                        momentum=0.9)
    for p in params:
        p.grad = mt.tensor(np.ones(p.shape))
    opt.step()
    return opt


def test_state_dict_with_another_number_of_groups_is_rejected():
    saved = stepped_optimizer([(2,), (3,)], groups=[[0], [1]]).state_dict()
    target = stepped_optimizer([(2,), (3,)])
    with pytest.raises(ValueError, match="2 parameter groups, the optimizer has 1"):
        target.load_state_dict(saved)


def test_state_dict_with_another_number_of_params_is_rejected():
    saved = stepped_optimizer([(2,), (3,), (4,)]).state_dict()
    target = stepped_optimizer([(2,), (3,)])
    before = copy.deepcopy(target.state_dict())
    with pytest.raises(ValueError, match="parameter group 0 .* 3 parameters, the optimizer's "
                                         "has 2"):
        target.load_state_dict(saved)
    # A rejected load changes nothing.
    after = target.state_dict()
    assert after["param_groups"] == before["param_groups"]
    np.testing.assert_array_equal(after["state"][0]["momentum_buffer"].numpy(),
                                  before["state"][0]["momentum_buffer"].numpy())


def test_state_dict_with_a_wrong_buffer_shape_is_rejected_naming_the_entry():
    saved = stepped_optimizer([(2,), (3,)]).state_dict()
    target = stepped_optimizer([(2,), (4,)])
    with pytest.raises(ValueError, match=r"state entry 1: momentum_buffer has shape \(3,\), "
                                         r"the parameter has \(4,\)"):
        target.load_state_dict(saved)


def test_state_dict_missing_a_key_or_with_a_stray_index_is_rejected():
    target = stepped_optimizer([(2,)])
    with pytest.raises(ValueError, match="'param_groups'"):
        target.load_state_dict({"state": {}})
    saved = target.state_dict()
    with pytest.raises(ValueError, match="parameter group 0 .* 'params'"):
        target.load_state_dict({"state": {}, "param_groups": [{"lr": 0.1}]})
    saved = {"state": {7: saved["state"][0]}, "param_groups": saved["param_groups"]}
    with pytest.raises(ValueError, match="state entry 7"):
        target.load_state_dict(saved)


def test_grad_with_the_wrong_shape_is_an_error_not_a_memory_overrun():
    p = param(3)
    opt = optim.SGD([p], lr=0.1)
    p.grad = mt.tensor(np.ones(30))
    with pytest.raises(RuntimeError, match=r"grad shape \(30,\) does not match the parameter "
                                           r"shape \(3,\)"):
        opt.step()
