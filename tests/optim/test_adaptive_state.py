"""State of the adaptive optimizers: PyTorch's state-dict shape, exact resume through
``mt.save``/``mt.load`` and through a checkpoint keyed by parameter name, frozen parameters,
loading a state dict that torch itself produced."""
import copy

import numpy as np
import pytest

import minitorch as mt
from minitorch import nn
from minitorch.io import load_checkpoint, load_optimizer_state_by_name, save_checkpoint

from optim_cases import OPTIM_CASES, build_optimizer, final_state, make_inputs, run_optimizer

RESUME_CASES = ["adam_amsgrad_l2", "adamw_amsgrad_groups", "rmsprop_centered_momentum_max",
                "adagrad_maximize_groups", "adadelta_rho_l2"]

EXPECTED_STATE = {
    "Adam": {"step", "exp_avg", "exp_avg_sq"},
    "RMSprop": {"step", "square_avg"},
    "Adagrad": {"step", "sum"},
    "Adadelta": {"step", "square_avg", "acc_delta"},
}


@pytest.mark.parametrize("kind,kwargs,extra", [
    ("Adam", {}, set()), ("Adam", {"amsgrad": True}, {"max_exp_avg_sq"}),
    ("AdamW", {}, set()), ("RMSprop", {}, set()),
    ("RMSprop", {"momentum": 0.9, "centered": True}, {"momentum_buffer", "grad_avg"}),
    ("Adagrad", {}, set()), ("Adadelta", {}, set())])
def test_state_has_torch_names_and_skips_parameters_without_grad(kind, kwargs, extra):
    a = mt.tensor(np.ones(3), requires_grad=True)
    b = mt.tensor(np.ones(2), requires_grad=True)
    opt = getattr(mt.optim, kind)([a, b], **kwargs)
    a.grad = mt.tensor(np.full(3, 0.5))
    opt.step()
    opt.step()
    sd = opt.state_dict()
    expected = EXPECTED_STATE["Adam" if kind == "AdamW" else kind] | extra
    assert set(sd["state"][0]) == expected
    step = sd["state"][0]["step"]
    assert isinstance(step, mt.Tensor) and step.shape == () and step.item() == 2.0
    assert step.dtype == mt.float32
    if kind == "Adagrad":  # Adagrad builds its state for every parameter up front
        assert set(sd["state"]) == {0, 1} and sd["state"][1]["step"].item() == 0.0
        np.testing.assert_array_equal(b.detach().numpy(), np.ones(2))
    else:
        assert set(sd["state"]) == {0}  # b never had a grad: no state, bitwise untouched
    np.testing.assert_array_equal(b.detach().numpy(), np.ones(2))


def test_state_dict_hyperparameters_match_torch():
    torch = pytest.importorskip("torch")
    for kind in ("Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"):
        groups = []
        for lib in (torch, mt):
            p = lib.tensor(np.ones(2), requires_grad=True)
            groups.append(getattr(lib.optim, kind)([p]).state_dict()["param_groups"])
        assert groups[1] == groups[0], kind


def _resume_via(case, tmp_path, through_file):
    init, grads = make_inputs(21)
    full_params, full_opt, full_traj = run_optimizer(mt, case, init, grads, steps=45)
    params, opt, _ = run_optimizer(mt, case, init, grads, steps=20)
    saved_params = [np.array(p.detach().numpy()) for p in params]
    if through_file:
        mt.save(opt.state_dict(), tmp_path / "optimizer.pth")
        state = mt.load(tmp_path / "optimizer.pth", weights_only=True)
    else:
        state = copy.deepcopy(opt.state_dict())
    run_optimizer(mt, case, init, grads, steps=3, optimizer=opt, params=params, start=20)
    fresh = [mt.tensor(a, requires_grad=True) for a in saved_params]
    fresh_opt = build_optimizer(mt, fresh, case)
    fresh_opt.load_state_dict(state)
    _, _, rest = run_optimizer(mt, case, init, grads, steps=25, optimizer=fresh_opt,
                               params=fresh, start=20)
    for i in range(len(init)):
        assert rest[i].tobytes() == full_traj[i][20:].tobytes()
    a = final_state(fresh_opt, fresh, case["type"])
    b = final_state(full_opt, full_params, case["type"])
    assert sorted(a) == sorted(b)
    for key in a:
        assert a[key].tobytes() == b[key].tobytes(), key


@pytest.mark.parametrize("name", RESUME_CASES)
def test_resume_from_deepcopied_state_dict_is_bitwise(name, tmp_path):
    _resume_via(OPTIM_CASES[name], tmp_path, through_file=False)


@pytest.mark.parametrize("name", RESUME_CASES)
def test_resume_through_mt_save_and_load_is_bitwise(name, tmp_path):
    _resume_via(OPTIM_CASES[name], tmp_path, through_file=True)


def _model():
    mt.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))


def _train(model, opt, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = mt.tensor(rng.standard_normal((8, 4)).astype(np.float32))
        y = mt.tensor(rng.integers(0, 3, 8))
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(x), y).backward()
        opt.step()


@pytest.mark.parametrize("kind,kwargs", [("AdamW", {"amsgrad": True}),
                                         ("RMSprop", {"momentum": 0.5, "centered": True}),
                                         ("Adagrad", {"lr_decay": 0.01}), ("Adadelta", {})])
def test_checkpoint_keyed_by_parameter_name_resumes_bitwise(kind, kwargs, tmp_path):
    model = _model()
    model[0].weight.requires_grad_(False)  # a frozen parameter is not in the optimizer
    opt = getattr(mt.optim, kind)([p for p in model.parameters() if p.requires_grad], **kwargs)
    _train(model, opt, 5, seed=1)
    save_checkpoint(tmp_path / "last.h5", model=model, optimizer=opt, epoch=1, global_step=5)
    _train(model, opt, 5, seed=2)
    expected = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    ckpt = load_checkpoint(tmp_path / "last.h5")
    resumed = _model()
    resumed.load_state_dict(ckpt["model"])
    resumed[0].weight.requires_grad_(False)
    opt2 = getattr(mt.optim, kind)([p for p in resumed.parameters() if p.requires_grad],
                                   **kwargs)
    result = load_optimizer_state_by_name(opt2, resumed, ckpt["optimizer"])
    assert result.missing == [] and result.unexpected == []
    assert set(ckpt["optimizer"]["state"]) == {"0.bias", "2.weight", "2.bias"}
    _train(resumed, opt2, 5, seed=2)
    for k, v in resumed.state_dict().items():
        assert v.numpy().tobytes() == expected[k].tobytes(), k


@pytest.mark.parametrize("kind,kwargs", [("Adam", {"amsgrad": True}), ("AdamW", {}),
                                         ("RMSprop", {"centered": True, "momentum": 0.3}),
                                         ("Adagrad", {}), ("Adadelta", {})])
def test_state_dict_made_by_torch_loads_and_continues_like_torch(kind, kwargs):
    """A torch optimizer's state_dict (tensors turned into arrays, as a converted checkpoint
    would hold them) loads into minitorch's, and both continue with the same steps."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    w0, grads = rng.standard_normal(6), rng.standard_normal((10, 6))
    tw = torch.tensor(w0.copy(), requires_grad=True)
    topt = getattr(torch.optim, kind)([tw], lr=0.01, **kwargs)
    for g in grads[:5]:
        tw.grad = torch.tensor(g)
        topt.step()
    sd = topt.state_dict()
    converted = {"param_groups": sd["param_groups"],
                 "state": {i: {k: v.numpy() for k, v in s.items()}
                           for i, s in sd["state"].items()}}
    mw = mt.tensor(tw.detach().numpy().copy(), requires_grad=True)
    mopt = getattr(mt.optim, kind)([mw], lr=0.01, **kwargs)
    mopt.load_state_dict(converted)
    for g in grads[5:]:
        tw.grad = torch.tensor(g)
        topt.step()
        mw.grad = mt.tensor(g)
        mopt.step()
    np.testing.assert_allclose(mw.detach().numpy(), tw.detach().numpy(), rtol=0, atol=1e-12)
    assert mopt.state[mw]["step"].item() == 10.0


def test_amsgrad_switched_on_by_a_loaded_group_starts_its_maximum():
    p = mt.tensor(np.ones(3), requires_grad=True)
    opt = mt.optim.Adam([p])
    p.grad = mt.tensor(np.ones(3))
    opt.step()
    opt.param_groups[0]["amsgrad"] = True
    opt.step()
    np.testing.assert_array_equal(opt.state[p]["max_exp_avg_sq"].numpy(),
                                  opt.state[p]["exp_avg_sq"].numpy())


def test_non_contiguous_parameter_is_updated_in_place():
    storage = np.arange(12.0).reshape(3, 4)
    view = mt.from_numpy(storage.T)  # a transposed (non-contiguous) array, sharing storage
    view.requires_grad_(True)
    opt = mt.optim.Adam([view], lr=0.1)
    view.grad = mt.tensor(np.ones((4, 3)))
    opt.step()
    expected = np.arange(12.0).reshape(3, 4) - 0.1  # Adam's first step moves by lr
    np.testing.assert_allclose(view.detach().numpy(), expected.T, atol=1e-7)
    np.testing.assert_allclose(storage, expected, atol=1e-7)
