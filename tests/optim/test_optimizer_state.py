"""Optimizer state: the state_dict shape, resuming mid-run, frozen parameters, zero_grad."""
import copy

import numpy as np
import pytest

import minitorch as mt
from minitorch import optim

from optim_cases import SGD_CASES, build_sgd, make_inputs, run_sgd


def params_and_grads(seed=0):
    init, grads = make_inputs(seed)
    return [mt.tensor(a, requires_grad=True) for a in init], grads


def test_state_dict_has_pytorch_shape_with_indices_over_all_groups():
    params, grads = params_and_grads()
    opt = optim.SGD([{"params": params[:2]}, {"params": [params[2]], "lr": 0.5}], lr=0.1,
                    momentum=0.9)
    params[0].grad = mt.tensor(grads[0][0])
    params[2].grad = mt.tensor(grads[2][0])
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.5]
    assert sd["param_groups"][1]["momentum"] == 0.9  # defaults filled into every group
    assert list(sd["state"]) == [0, 2]  # parameter 1 had no grad: no state
    buf = sd["state"][2]["momentum_buffer"]
    assert isinstance(buf, mt.Tensor)
    np.testing.assert_array_equal(buf.numpy(), grads[2][0])  # first buffer = first grad


@pytest.mark.parametrize("name", ["momentum", "nesterov_weight_decay", "two_groups",
                                  "dampening_weight_decay"])
def test_resume_from_state_dict_is_bitwise_identical(name):
    case = SGD_CASES[name]
    init, grads = make_inputs(3)
    full_params, _, full_traj = run_sgd(mt, case, init, grads, steps=40)

    params, opt, _ = run_sgd(mt, case, init, grads, steps=17)
    saved_params = [np.array(p.detach().numpy()) for p in params]
    saved_state = copy.deepcopy(opt.state_dict())  # an in-memory "file"
    run_sgd(mt, case, init, grads, steps=5, optimizer=opt, params=params, start=17)  # diverge

    fresh = [mt.tensor(a, requires_grad=True) for a in saved_params]
    fresh_opt = build_sgd(mt, fresh, case)
    fresh_opt.load_state_dict(saved_state)
    _, _, rest = run_sgd(mt, case, init, grads, steps=23, optimizer=fresh_opt, params=fresh,
                         start=17)
    for i in range(len(init)):
        np.testing.assert_array_equal(rest[i], full_traj[i][17:])
        np.testing.assert_array_equal(fresh[i].detach().numpy(),
                                      full_params[i].detach().numpy())


def test_load_state_dict_copies_buffers_instead_of_sharing_them():
    params, grads = params_and_grads()
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    for p, g in zip(params, grads):
        p.grad = mt.tensor(g[0])
    opt.step()
    sd = opt.state_dict()
    other = optim.SGD([mt.tensor(np.array(p.detach().numpy()), requires_grad=True)
                       for p in params], lr=0.1, momentum=0.9)
    other.load_state_dict(sd)
    before = np.array(sd["state"][0]["momentum_buffer"].numpy())
    for p, g in zip(other.param_groups[0]["params"], grads):
        p.grad = mt.tensor(g[1])
    other.step()
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"].numpy(), before)
    assert not np.array_equal(other.state_dict()["state"][0]["momentum_buffer"].numpy(), before)


def test_load_state_dict_restores_hyperparameters_and_keeps_own_params():
    params, _ = params_and_grads()
    source = optim.SGD(params, lr=0.25, momentum=0.5, weight_decay=0.1)
    target_params = [mt.tensor(np.zeros(p.shape), requires_grad=True) for p in params]
    target = optim.SGD(target_params, lr=0.01)
    target.load_state_dict(source.state_dict())
    group = target.param_groups[0]
    assert (group["lr"], group["momentum"], group["weight_decay"]) == (0.25, 0.5, 0.1)
    assert all(a is b for a, b in zip(group["params"], target_params))


def test_frozen_parameter_is_bitwise_untouched_and_has_no_state():
    rng = np.random.default_rng(5)
    trainable = mt.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    frozen = mt.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=False)
    before = np.array(frozen.numpy())
    version = frozen._version
    opt = optim.SGD([trainable, frozen], lr=0.1, momentum=0.9, weight_decay=0.05,
                    nesterov=True)
    for _ in range(100):
        opt.zero_grad()
        trainable.grad = mt.tensor(rng.standard_normal((4, 3)).astype(np.float32))
        opt.step()
    assert frozen.grad is None
    assert frozen.numpy().tobytes() == before.tobytes()
    assert frozen._version == version
    assert frozen not in opt.state and trainable in opt.state
    assert list(opt.state_dict()["state"]) == [0]


def test_step_bumps_the_version_of_updated_parameters_only():
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    b = mt.tensor([3.0], requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1)
    a.grad = mt.tensor([1.0, 1.0])
    va, vb = a._version, b._version
    opt.step()
    assert (a._version, b._version) == (va + 1, vb)
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 1.9], rtol=0, atol=1e-7)


def test_zero_grad_sets_none_by_default_and_zeros_on_request():
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    b = mt.tensor([3.0], requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1)
    a.grad = mt.tensor([5.0, 6.0])
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])
    assert b.grad is None  # a missing grad stays missing
    opt.zero_grad()
    assert a.grad is None


def test_non_contiguous_parameter_is_updated_in_place():
    base = mt.tensor(np.arange(12.0).reshape(3, 4))
    p = mt.from_numpy(base.numpy().T).requires_grad_()  # a transposed view: not C-contiguous
    assert not p.detach().numpy().flags.c_contiguous
    opt = optim.SGD([p], lr=1.0, momentum=0.5)
    for _ in range(2):
        p.grad = mt.tensor(np.ones((4, 3)))
        opt.step()
    expected = np.arange(12.0).reshape(3, 4).T - 1.0 - 1.5
    np.testing.assert_array_equal(p.detach().numpy(), expected)
    np.testing.assert_array_equal(base.numpy(), expected.T)  # the storage itself moved


def test_float32_params_stay_float32_with_float32_buffers():
    p = mt.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = mt.tensor(np.ones(3, np.float64))  # a float64 grad is cast, not adopted
    opt.step()
    assert p.dtype == mt.float32
    assert opt.state[p]["momentum_buffer"].dtype == mt.float32


def test_closure_is_evaluated_with_grad_enabled_and_its_loss_returned():
    p = mt.tensor([2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.5)
    seen = []

    def closure():
        seen.append(mt.is_grad_enabled())
        p.grad = mt.tensor([1.0])
        return 42.0

    with mt.no_grad():
        assert opt.step(closure) == 42.0
    assert seen == [True]
    np.testing.assert_array_equal(p.detach().numpy(), [1.5])


def test_params_may_be_a_generator_or_named_pairs():
    a = mt.tensor([1.0], requires_grad=True)
    b = mt.tensor([2.0], requires_grad=True)
    opt = optim.SGD((p for p in [a, b]), lr=0.1)
    group_params = opt.param_groups[0]["params"]
    assert len(group_params) == 2 and group_params[0] is a and group_params[1] is b
    named = optim.SGD([("fc.weight", a), ("fc.bias", b)], lr=0.1)
    assert named.param_groups[0]["param_names"] == ["fc.weight", "fc.bias"]
    assert named.state_dict()["param_groups"][0]["param_names"] == ["fc.weight", "fc.bias"]


def test_add_param_group_fills_defaults_and_steps_the_new_group():
    a = mt.tensor([1.0], requires_grad=True)
    b = mt.tensor([1.0], requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.01
    b.grad = mt.tensor([1.0])
    opt.step()
    np.testing.assert_allclose(b.detach().numpy(), [0.99], rtol=0, atol=1e-7)
    assert a.detach().numpy()[0] == 1.0


def test_repr_lists_each_group_like_pytorch():
    opt = optim.SGD([mt.tensor([1.0], requires_grad=True)], lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n")
    assert "    lr: 0.1" in text and "    momentum: 0.9" in text and text.endswith(")")
