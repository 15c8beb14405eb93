"""nn.utils.rnn.pad_sequence against torch: values, shapes, dtypes, gradients and errors."""
import numpy as np
import pytest

import minitorch as mt
from minitorch.nn.utils.rnn import pad_sequence

torch = pytest.importorskip("torch")


def _seqs(lib, lengths=(3, 1, 4), trailing=(2,), dtype=np.float32):
    rng = np.random.default_rng(0)
    return [lib.tensor(rng.standard_normal((n,) + trailing).astype(dtype),
                       requires_grad=dtype == np.float32) for n in lengths]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("trailing", [(), (2,), (2, 3)])
def test_pad_sequence_matches_torch(batch_first, side, trailing):
    kw = dict(batch_first=batch_first, padding_value=-1.5, padding_side=side)
    mine_in, ref_in = _seqs(mt, trailing=trailing), _seqs(torch, trailing=trailing)
    mine = pad_sequence(mine_in, **kw)
    ref = torch.nn.utils.rnn.pad_sequence(ref_in, **kw)
    np.testing.assert_array_equal(mine.detach().numpy(), ref.detach().numpy())
    weights = np.arange(ref.numel(), dtype=np.float32).reshape(tuple(ref.shape))
    (mine * mt.tensor(weights)).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    for a, b in zip(mine_in, ref_in):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_int_sequences_keep_their_dtype():
    out = mt.nn.utils.rnn.pad_sequence([mt.tensor([1, 2]), mt.tensor([3])])
    assert out.dtype == mt.int64 and out.tolist() == [[1, 3], [2, 0]]


def test_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="empty list"):
        pad_sequence([])
    with pytest.raises(RuntimeError, match=r"size of tensor a \(2\) must match the size of "
                                           r"tensor b \(3\) at non-singleton dimension 1"):
        pad_sequence([mt.ones(3, 2), mt.ones(2, 3)])
    with pytest.raises(ValueError, match="padding_side"):
        pad_sequence([mt.ones(2)], padding_side="middle")
