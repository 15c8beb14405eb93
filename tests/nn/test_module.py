"""nn.Module: registration, traversal, modes, freezing, hooks and repr (PyTorch semantics)."""
import numpy as np
import pytest

import minitorch as mt
from minitorch import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, bias=False)
        self.bn = nn.BatchNorm2d(3)
        self.fc = nn.Linear(3, 4)

    def forward(self, x):
        return self.fc(self.bn(self.conv(x)).mean(dim=(2, 3)))


def test_parameter_defaults_and_repr():
    p = nn.Parameter(mt.ones(2))
    assert p.requires_grad and p.is_leaf and isinstance(p, mt.Tensor)
    assert repr(p).startswith("Parameter containing:\ntensor([1., 1.]")
    assert not nn.Parameter(mt.ones(2), requires_grad=False).requires_grad


def test_parameter_shares_storage_with_its_tensor():
    t = mt.zeros(3)
    p = nn.Parameter(t)
    p.detach().numpy()[0] = 5.0
    assert t.detach().numpy()[0] == 5.0


def test_registration_follows_assignment_order():
    m = Block()
    assert [n for n, _ in m.named_parameters()] == [
        "conv.weight", "bn.weight", "bn.bias", "fc.weight", "fc.bias"]
    assert [n for n, _ in m.named_buffers()] == [
        "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert [n for n, _ in m.named_children()] == ["conv", "bn", "fc"]
    assert [n for n, _ in m.named_modules()] == ["", "conv", "bn", "fc"]


def test_replacing_a_submodule_keeps_its_place_in_the_order():
    m = Block()
    old = m.bn
    m.bn = nn.BatchNorm2d(3, affine=False)
    assert [n for n, _ in m.named_children()] == ["conv", "bn", "fc"]
    assert m.bn is not old
    assert [n for n, _ in m.named_parameters()] == ["conv.weight", "fc.weight", "fc.bias"]


def test_assigning_a_plain_tensor_to_a_parameter_name_raises():
    m = nn.Linear(2, 3)
    with pytest.raises(TypeError, match="cannot assign .* as parameter 'weight'"):
        m.weight = mt.ones(3, 2)
    m.bias = None  # None is allowed: the parameter becomes absent
    assert [n for n, _ in m.named_parameters()] == ["weight"]


def test_assigning_a_non_module_to_a_module_name_raises():
    m = Block()
    with pytest.raises(TypeError, match="child module 'fc'"):
        m.fc = 3


def test_plain_attributes_are_not_registered():
    m = nn.Module()
    m.scale = 2.0
    m.t = mt.ones(2)  # a plain Tensor is an attribute, not a buffer, as in PyTorch
    assert list(m.named_buffers()) == [] and list(m.named_parameters()) == []
    assert m.scale == 2.0


def test_register_buffer_persistent_and_not():
    m = nn.Module()
    m.register_buffer("a", mt.zeros(2))
    m.register_buffer("b", mt.ones(2), persistent=False)
    assert [n for n, _ in m.named_buffers()] == ["a", "b"]
    assert list(m.state_dict()) == ["a"]
    m.a = mt.full((2,), 7.0)  # reassigning a buffer name replaces the buffer
    assert m.state_dict()["a"].tolist() == [7.0, 7.0]
    with pytest.raises(TypeError, match="buffer 'a'"):
        m.a = 3


def test_register_parameter_rejects_a_tensor_and_bad_names():
    m = nn.Module()
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.register_parameter("w", mt.ones(1))
    with pytest.raises(KeyError):
        m.register_parameter("a.b", nn.Parameter(mt.ones(1)))
    m.register_parameter("w", None)
    assert m.w is None and list(m.parameters()) == []


def test_unknown_attribute_names_the_class_and_attribute():
    with pytest.raises(AttributeError, match="'Block' object has no attribute 'fcc'"):
        Block().fcc


def test_delattr_unregisters():
    m = Block()
    del m.fc
    assert [n for n, _ in m.named_children()] == ["conv", "bn"]
    with pytest.raises(AttributeError):
        m.fc


def test_shared_parameters_are_listed_once():
    m = nn.Module()
    m.a = nn.Linear(2, 2)
    m.b = m.a
    assert len(list(m.parameters())) == 2
    assert [n for n, _ in m.named_modules()] == ["", "a"]


def test_train_and_eval_recurse_into_every_submodule():
    m = nn.Sequential(Block(), nn.Sequential(nn.Dropout(), nn.BatchNorm2d(2)))
    m.eval()
    assert not any(sub.training for sub in m.modules())
    m[1].train()
    assert not m.training and not m[0].bn.training
    assert m[1].training and m[1][0].training and m[1][1].training
    assert m.train() is m and all(sub.training for sub in m.modules())


def test_requires_grad_false_freezes_the_subtree_only():
    m = Block()
    m.conv.requires_grad_(False)
    assert [n for n, p in m.named_parameters() if p.requires_grad] == [
        "bn.weight", "bn.bias", "fc.weight", "fc.bias"]
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_zero_grad_sets_to_none_or_zeroes_in_place():
    m = nn.Linear(3, 2)
    m(mt.ones(4, 3)).sum().backward()
    grad = m.weight.grad
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is grad and not grad.detach().numpy().any()
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None


def test_apply_visits_children_before_parent():
    seen = []
    Block().apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Conv2d", "BatchNorm2d", "Linear", "Block"]


def test_forward_hooks_run_and_can_be_removed():
    m = nn.Linear(2, 2)
    calls = []
    handle = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out * 0)
    out = m(mt.ones(1, 2))
    assert calls == [(1, 2)] and not out.detach().numpy().any()
    handle.remove()
    out = m(mt.ones(1, 2))
    np.testing.assert_allclose(out.detach().numpy()[0], m.weight.detach().numpy().sum(1) + m.bias.detach().numpy(), rtol=1e-6)
    assert calls == [(1, 2)]


def test_hooks_registered_after_hookless_calls_run_pre_hook_first_and_kwargs_pass():
    # __call__ skips the hook machinery while none is registered: adding one later must count
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()
    assert m(mt.ones(2), factor=3.0).numpy().tolist() == [3.0, 3.0]  # no hooks yet
    order = []
    m.register_forward_pre_hook(lambda mod, args: order.append("pre") or (args[0] + 1,))
    m.register_forward_hook(lambda mod, args, out: order.append("post"))
    assert m(mt.ones(2), factor=2.0).numpy().tolist() == [4.0, 4.0]
    assert order == ["pre", "post"]


def test_repr_matches_pytorch_layout():
    m = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.ReLU(inplace=True),
                      nn.Sequential(nn.Linear(2, 3)))
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)\n"
        "  (1): ReLU(inplace=True)\n"
        "  (2): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  )\n"
        ")")


def test_dir_lists_registered_names():
    names = dir(Block())
    assert {"conv", "bn", "fc", "forward", "state_dict"} <= set(names)


def test_double_converts_parameters_and_buffers():
    m = Block().double()
    assert all(p.detach().numpy().dtype == np.float64 for p in m.parameters())
    assert m.bn.running_mean.detach().numpy().dtype == np.float64
    assert m.bn.num_batches_tracked.detach().numpy().dtype == np.int64
    out = m(mt.ones(1, 2, 4, 4, dtype=mt.float64))
    assert out.detach().numpy().dtype == np.float64


def test_get_submodule_resolves_dotted_paths():
    m = nn.Sequential(Block())
    assert m.get_submodule("0.bn") is m[0].bn
    with pytest.raises(AttributeError, match="no submodule 'bx'"):
        m.get_submodule("0.bx")


def test_to_cpu_is_a_no_op_and_to_dtype_casts():
    m = nn.Linear(2, 2)
    weight = m.weight
    assert m.to("cpu") is m and m.cpu() is m and m.weight.detach().numpy().dtype == np.float32
    m.to(mt.float64)
    assert m.weight is weight and weight.detach().numpy().dtype == np.float64
    with pytest.raises(TypeError, match="floating point"):
        m.to(mt.int64)


def test_deepcopy_gives_independent_parameters():
    import copy
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm2d(3))
    clone = copy.deepcopy(m)
    assert list(clone.state_dict()) == list(m.state_dict())
    assert isinstance(clone[0].weight, nn.Parameter) and clone[0].weight.requires_grad
    clone[0].weight.detach().numpy()[...] = 0
    assert m[0].weight.detach().numpy().any()
