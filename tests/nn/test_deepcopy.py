"""``copy.deepcopy`` of tensors, models, state dicts and optimizer state dicts: independent
equal copies, as in PyTorch."""
import copy

import numpy as np
import pytest

import minitorch as mt
from minitorch import nn


def make_model():
    mt.manual_seed(1)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def test_deepcopy_of_a_model_is_equal_and_independent():
    model = make_model()
    model(mt.randn(6, 3))
    model[0].weight.requires_grad_(False)
    clone = copy.deepcopy(model)
    for (k, a), (k2, b) in zip(model.state_dict().items(), clone.state_dict().items()):
        assert k == k2 and a.numpy().tobytes() == b.numpy().tobytes()
        assert not np.shares_memory(a.numpy(), b.numpy()), k
    for p, q in zip(model.parameters(), clone.parameters()):
        assert type(q) is nn.Parameter and q is not p
        assert q.requires_grad == p.requires_grad
    assert clone[0].weight.requires_grad is False
    assert clone.training == model.training
    # Training the copy leaves the original alone (and the other way round).
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    opt = mt.optim.SGD(clone.parameters(), lr=0.5)
    clone(mt.randn(6, 3)).sum().backward()
    opt.step()
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    assert all(p.grad is None for p in model.parameters())
    assert not np.array_equal(clone[3].weight.detach().numpy(), model[3].weight.detach().numpy())


def test_deepcopy_keeps_forward_hooks_like_torch():
    model = make_model()
    calls = []
    model[3].register_forward_hook(lambda module, inputs, output: calls.append(module))
    clone = copy.deepcopy(model)
    clone(mt.randn(2, 3))
    assert calls == [clone[3]]


def test_deepcopy_of_a_state_dict_is_independent():
    model = make_model()
    sd = copy.deepcopy(model.state_dict())
    assert list(sd) == list(model.state_dict())
    with mt.no_grad():
        model[0].weight.add_(1.0)
    assert not np.array_equal(sd["0.weight"].numpy(), model[0].weight.detach().numpy())
    assert sd["1.num_batches_tracked"].dtype == mt.int64


def test_deepcopy_of_an_optimizer_state_dict_is_independent():
    model = make_model()
    opt = mt.optim.AdamW(model.parameters(), lr=0.1)
    model(mt.randn(4, 3)).sum().backward()
    opt.step()
    saved = copy.deepcopy(opt.state_dict())
    exp_avg = saved["state"][0]["exp_avg"].numpy().copy()
    opt.step()
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"].numpy(), exp_avg)
    assert saved["state"][0]["step"].item() == 1.0
    assert opt.state[model[0].weight]["step"].item() == 2.0
    assert saved["param_groups"][0]["betas"] == (0.9, 0.999)


def test_deepcopy_of_a_leaf_copies_data_grad_and_flags_but_no_hooks():
    torch = pytest.importorskip("torch")
    out = []
    for lib in (torch, mt):
        t = lib.tensor(np.array([1.0, 2.0]), requires_grad=True)
        (t * 3).sum().backward()
        t.register_hook(lambda g: g * 100)
        t.note = "kept"
        c = copy.deepcopy(t)
        assert c.is_leaf and c.requires_grad and c.note == "kept"
        (c * 2).sum().backward()  # the hook was not copied: grad accumulates 3 + 2
        out.append(c.grad.numpy().copy())
        assert t.grad.numpy().tolist() == [3.0, 3.0]
    np.testing.assert_array_equal(out[1], out[0])


def test_deepcopy_of_a_non_leaf_is_refused_like_torch():
    t = mt.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
        copy.deepcopy(t * 2)


def test_deepcopy_preserves_sharing_within_the_copied_object():
    p = nn.Parameter(mt.ones(2))
    clone = copy.deepcopy({"a": p, "b": p})
    assert clone["a"] is clone["b"] and clone["a"] is not p
