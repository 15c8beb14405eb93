"""The issue-12 layers against torch.nn: the same module built in both libraries from the same
constructor text, our parameters copied into torch's, then the same input in train and eval:
outputs, input and parameter gradients, state-dict keys and repr must agree. Losses over every
reduction. Construction errors name the culprit."""
import numpy as np
import pytest

import minitorch as mt
from minitorch import nn

torch = pytest.importorskip("torch")

# (constructor text with `nn`, input shape, input kind: "float" | "index" | "prob")
LAYERS = [
    ("nn.LeakyReLU(0.2)", (2, 3, 4), "float"),
    ("nn.GELU()", (2, 5), "float"),
    ("nn.GELU(approximate='tanh')", (2, 5), "float"),
    ("nn.SiLU()", (2, 5), "float"),
    ("nn.Sigmoid()", (2, 5), "float"),
    ("nn.Tanh()", (2, 5), "float"),
    ("nn.Softmax(dim=1)", (2, 5, 3), "float"),
    ("nn.LogSoftmax(dim=-1)", (2, 5, 3), "float"),
    ("nn.Softplus(beta=2.0, threshold=3.0)", (3, 4), "float"),
    ("nn.ELU(alpha=0.5)", (3, 4), "float"),
    ("nn.Hardtanh(-0.5, 0.7)", (3, 4), "float"),
    ("nn.ReLU6()", (3, 4), "float"),
    ("nn.LayerNorm(6)", (2, 3, 6), "float"),
    ("nn.LayerNorm((3, 6), eps=1e-3)", (2, 3, 6), "float"),
    ("nn.LayerNorm(6, elementwise_affine=False)", (4, 6), "float"),
    ("nn.LayerNorm(6, bias=False)", (4, 6), "float"),
    ("nn.BatchNorm1d(3)", (5, 3), "float"),
    ("nn.BatchNorm1d(3, momentum=None)", (4, 3, 6), "float"),
    ("nn.Embedding(10, 4)", (3, 5), "index"),
    ("nn.Embedding(10, 4, padding_idx=0)", (3, 5), "index"),
    ("nn.Embedding(10, 4, scale_grad_by_freq=True)", (3, 5), "index"),
    ("nn.Conv1d(3, 4, 3)", (2, 3, 9), "float"),
    ("nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2, bias=False)", (2, 4, 11),
     "float"),
    ("nn.Conv1d(3, 2, 3, padding='same')", (3, 7), "float"),
    ("nn.MaxPool1d(3, stride=2, padding=1)", (2, 3, 9), "float"),
    ("nn.AvgPool1d(2)", (2, 3, 9), "float"),
    ("nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False, ceil_mode=True)",
     (2, 3, 8), "float"),
    ("nn.AdaptiveAvgPool1d(4)", (2, 3, 9), "float"),
    ("nn.Upsample(scale_factor=2)", (1, 2, 3, 4), "float"),
    ("nn.Upsample(size=(5, 7), mode='bilinear')", (1, 2, 3, 4), "float"),
    ("nn.Upsample(scale_factor=1.5, mode='bilinear', align_corners=True)", (1, 2, 3, 4),
     "float"),
    ("nn.Upsample(scale_factor=2.5, mode='nearest')", (1, 2, 3, 4), "float"),
    ("nn.Upsample(size=7, mode='linear')", (2, 3, 4), "float"),
    ("nn.Identity(54, unused='x')", (2, 3), "float"),
    ("nn.Unflatten(1, (2, 3))", (4, 6), "float"),
    ("nn.Unflatten(-1, (2, -1))", (4, 3, 6), "float"),
    ("nn.Flatten()", (4, 3, 2), "float"),
    ("nn.Dropout2d(p=0.0)", (2, 3, 4, 4), "float"),
]


def _input(shape, kind, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "index":
        return rng.integers(0, 10, shape)
    return rng.standard_normal(shape).astype(np.float32) * 2


def _build(text):
    mt.manual_seed(0)
    ours = eval(text, {"nn": nn})  # noqa: S307 - the table's own constructor text
    theirs = eval(text, {"nn": torch.nn})  # noqa: S307
    sd = {k: torch.from_numpy(np.array(v.detach().numpy())) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(sd)
    return ours, theirs


@pytest.mark.parametrize("text,shape,kind", LAYERS, ids=[row[0] for row in LAYERS])
def test_layer_matches_torch_in_train_and_eval(text, shape, kind):
    check_layer(text, shape, kind)


def check_layer(text, shape, kind, names=True):
    """The layer ``text`` against torch's (see the module docstring); ``names``: the output's
    node name too (composed layers such as GroupNorm or GLU name their last op instead)."""
    ours, theirs = _build(text)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        x = _input(shape, kind, seed=1 if mode == "train" else 2)
        xo = mt.tensor(x, requires_grad=kind == "float")
        xt = torch.tensor(x, requires_grad=kind == "float")
        out, tout = ours(xo), theirs(xt)
        assert tuple(out.shape) == tuple(tout.shape)
        if names and tout.grad_fn is not None:   # (conv1d's is one ConvolutionBackward0)
            assert out.grad_fn.name() == tout.grad_fn.name()
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5,
                                   atol=1e-5)
        g = np.random.default_rng(3).standard_normal(tuple(tout.shape)).astype(np.float32)
        out.backward(mt.tensor(g))
        tout.backward(torch.tensor(g))
        if kind == "float":
            np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
        for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-5,
                                       err_msg=name)
            p.grad, tp.grad = None, None
        for (name, b), (_, tb) in zip(ours.named_buffers(), theirs.named_buffers()):
            np.testing.assert_allclose(b.numpy(), tb.numpy(), rtol=1e-5, atol=1e-6,
                                       err_msg=name)


def test_embedding_padding_row_is_zero_and_gets_no_gradient():
    m = nn.Embedding(5, 3, padding_idx=-1)
    assert m.padding_idx == 4
    assert not m.weight.detach().numpy()[4].any()
    m(mt.tensor([[4, 1, 4]])).sum().backward()
    grad = m.weight.grad.numpy()
    assert not grad[4].any() and (grad[1] == 1).all()


def test_embedding_from_pretrained_is_frozen_by_default_and_shares_storage():
    w = mt.tensor([[1.0, 2.0], [3.0, 4.0]])
    m = nn.Embedding.from_pretrained(w)
    assert not m.weight.requires_grad
    np.testing.assert_array_equal(m(mt.tensor([1, 0])).numpy(), [[3.0, 4.0], [1.0, 2.0]])
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    tm = torch.nn.Embedding.from_pretrained(torch.tensor(w.numpy()))
    assert repr(m) == repr(tm)


def test_embedding_max_norm_renormalises_the_looked_up_rows_like_torch():
    w = np.random.default_rng(4).standard_normal((6, 3)).astype(np.float32) * 3
    ours = nn.Embedding.from_pretrained(mt.tensor(w.copy()), max_norm=1.0)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(w.copy()), max_norm=1.0)
    idx = [[0, 2], [2, 5]]
    np.testing.assert_allclose(ours(mt.tensor(idx)).numpy(), theirs(torch.tensor(idx)).numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(),
                               rtol=1e-6)


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    mt.manual_seed(1)
    x = mt.ones(8, 16, 3, 3)
    y = nn.Dropout2d(p=0.5)(x).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(-1) == per_channel.max(-1)).all()  # a channel is all kept or all zero
    assert 0 < (per_channel[..., 0] == 0).sum() < 128
    m = nn.Dropout2d(p=0.5).eval()
    assert m(x) is x


def test_inplace_activation_modules_write_into_their_input():
    for text in ("nn.LeakyReLU(0.1, inplace=True)", "nn.ELU(inplace=True)",
                 "nn.SiLU(inplace=True)", "nn.ReLU6(inplace=True)", "nn.Hardtanh(inplace=True)"):
        x = mt.tensor([-2.0, -0.5, 0.5, 8.0])
        tx = torch.tensor([-2.0, -0.5, 0.5, 8.0])
        out = eval(text, {"nn": nn})(x)  # noqa: S307
        eval(text, {"nn": torch.nn})(tx)  # noqa: S307
        assert out is x
        np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-6, err_msg=text)


# (constructor text, input kind, target kind)
LOSSES = [
    ("nn.L1Loss", "float", "float"),
    ("nn.SmoothL1Loss", "float", "float"),
    ("nn.HuberLoss", "float", "float"),
    ("nn.MSELoss", "float", "float"),
    ("nn.BCELoss", "prob", "prob"),
    ("nn.BCEWithLogitsLoss", "float", "binary"),
    ("nn.NLLLoss", "logprob", "class"),
    ("nn.CrossEntropyLoss", "float", "class"),
]
EXTRA = {"nn.SmoothL1Loss": ["beta=0.3", "beta=0.0"], "nn.HuberLoss": ["delta=0.4"],
         "nn.BCELoss": ["weight=lib.tensor([0.5, 1.0, 2.0])"],
         "nn.BCEWithLogitsLoss": ["pos_weight=lib.tensor([0.5, 1.0, 3.0])",
                                  "weight=lib.tensor([2.0, 1.0, 0.0])"]}


def _loss_arrays(input_kind, target_kind):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3)).astype(np.float32) * 2
    if input_kind == "prob":
        x = 1 / (1 + np.exp(-x))
    elif input_kind == "logprob":
        x = x - np.log(np.exp(x).sum(1, keepdims=True))
    if target_kind == "class":
        return x, rng.integers(0, 3, 4)
    t = rng.standard_normal((4, 3)).astype(np.float32)
    if target_kind == "prob":
        t = 1 / (1 + np.exp(-t))
    elif target_kind == "binary":
        t = (t > 0).astype(np.float32)
    return x, t


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,input_kind,target_kind", LOSSES, ids=[r[0] for r in LOSSES])
def test_loss_matches_torch_over_reductions(name, input_kind, target_kind, reduction):
    x, t = _loss_arrays(input_kind, target_kind)
    for extra in [""] + EXTRA.get(name, []):
        args = f"reduction={reduction!r}" + (f", {extra}" if extra else "")
        ours = eval(f"{name}({args})", {"nn": nn, "lib": mt})  # noqa: S307
        theirs = eval(f"{name}({args})", {"nn": torch.nn, "lib": torch})  # noqa: S307
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        xo, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        float_target = target_kind != "class"
        to = mt.tensor(t, requires_grad=float_target and name != "nn.BCEWithLogitsLoss")
        tt = torch.tensor(t, requires_grad=float_target and name != "nn.BCEWithLogitsLoss")
        out, tout = ours(xo, to), theirs(xt, tt)
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=args)
        g = np.random.default_rng(6).standard_normal(tuple(tout.shape)).astype(np.float32)
        out.backward(mt.tensor(g))
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=args)
        if tt.requires_grad:
            np.testing.assert_allclose(to.grad.numpy(), tt.grad.numpy(), rtol=1e-4, atol=1e-6,
                                       err_msg=args)


def test_bce_with_logits_is_stable_for_large_logits():
    x = [-200.0, -30.0, 0.0, 30.0, 200.0]
    t = [1.0, 0.0, 1.0, 1.0, 0.0]
    ours = nn.functional.binary_cross_entropy_with_logits(mt.tensor(x), mt.tensor(t),
                                                          reduction="none")
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(x),
                                                                  torch.tensor(t),
                                                                  reduction="none")
    # (torch rounds each step to float32: log(1 + 9e-14) is 0 there, 9e-14 here)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-12)


def test_bce_clamps_the_log_at_minus_100_like_torch():
    x, t = [0.0, 1.0, 0.5], [1.0, 0.0, 1.0]
    ours = nn.functional.binary_cross_entropy(mt.tensor(x), mt.tensor(t), reduction="none")
    np.testing.assert_allclose(ours.numpy(), [100.0, 100.0, np.log(2)], rtol=1e-6)


@pytest.mark.parametrize("make,match", [
    (lambda: nn.SmoothL1Loss(beta=-1), "negative values for beta"),
    (lambda: nn.HuberLoss(delta=0), "non-positive values for delta"),
    (lambda: nn.L1Loss(reduction="avg"), "invalid reduction 'avg'"),
    (lambda: nn.GELU("fast"), "none or tanh"),
    (lambda: nn.Hardtanh(1, -1), "min_val"),
    (lambda: nn.Dropout2d(1.5), "between 0 and 1"),
    (lambda: nn.LayerNorm((2, -1)), "normalized_shape"),
    (lambda: nn.Embedding(5, 2, padding_idx=5), "padding_idx 5"),
    (lambda: nn.Conv1d(3, 4, 2, groups=2), "divisible by groups"),
    (lambda: nn.MaxPool1d(0), "kernel_size"),
])
def test_bad_construction_raises_naming_the_culprit(make, match):
    with pytest.raises((ValueError, RuntimeError), match=match):
        make()


@pytest.mark.parametrize("call,match", [
    (lambda F: F.layer_norm(mt.zeros(2, 3), (4,)), r"normalized_shape=\[4\]"),
    (lambda F: F.one_hot(mt.tensor([1, 3]), 3), "smaller than num_classes"),
    (lambda F: F.one_hot(mt.tensor([1.0])), "index tensor"),
    (lambda F: F.embedding(mt.tensor([5]), mt.zeros(3, 2)), "index 5 out of range"),
    (lambda F: F.pad(mt.zeros(1, 3), (3, 1), mode="reflect"), "less than the input size"),
    (lambda F: F.pad(mt.zeros(3), (1,)), "divisible by 2"),
    (lambda F: F.interpolate(mt.zeros(1, 1, 3), scale_factor=2, mode="bilinear"), "4-D"),
    (lambda F: F.interpolate(mt.zeros(1, 1, 3, 3)), "size or scale_factor"),
    (lambda F: F.binary_cross_entropy(mt.tensor([1.5]), mt.tensor([1.0])), "between 0 and 1"),
    (lambda F: F.binary_cross_entropy_with_logits(mt.zeros(2, 3), mt.zeros(3)), "same as"),
    (lambda F: F.conv1d(mt.zeros(1, 1, 2, 3), mt.zeros(1, 1, 2)), "3-d"),
])
def test_bad_functional_call_raises_naming_the_culprit(call, match):
    with pytest.raises((ValueError, RuntimeError, IndexError), match=match):
        call(nn.functional)
