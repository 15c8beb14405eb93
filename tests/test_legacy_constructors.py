"""``mt.Tensor(...)`` and the typed constructors (``mt.FloatTensor``, ``mt.LongTensor``, ...)
against torch 2.13's legacy constructors: the dtype they make, what they share, and
``isinstance`` checks; ``mt.tensor`` keeps an array's dtype where ``mt.Tensor`` does not."""
import numpy as np
import pytest

import minitorch as mt
from tests.differential.harness import diff_program

torch = pytest.importorskip("torch")

CASES = [
    "r = lib.Tensor(np.array([1, 2], dtype=np.uint8))", "r = lib.Tensor(np.array([1., 2.]))",
    "r = lib.Tensor(np.array([1, 2]))", "r = lib.Tensor(np.array([True, False]))",
    "r = lib.Tensor(np.zeros((2, 3), dtype=np.int16))", "r = lib.Tensor(lib.tensor([1, 2]))",
    "r = lib.tensor(np.array([1, 2], dtype=np.uint8))", "r = lib.tensor(np.array([1., 2.]))",
    "r = lib.FloatTensor(np.array([1, 2]))", "r = lib.FloatTensor([1, 2])",
    "r = lib.FloatTensor(2, 3).zero_()", "r = lib.LongTensor([1.7, -2.5])", "r = lib.LongTensor()",
    "r = lib.ByteTensor([1, 255])", "r = lib.ByteTensor([300])", "r = lib.ByteTensor([-1])",
    "r = lib.BoolTensor([0, 2])", "r = lib.DoubleTensor([1, 2])", "r = lib.IntTensor([3])",
    "r = lib.ShortTensor([3, -4])", "r = lib.CharTensor([-5])",
    "r = lib.LongTensor(lib.tensor([1.5]))", "r = lib.LongTensor(lib.tensor([7]))",
    "r = lib.LongTensor(np.array([1.5, 2.5]))",
]


@pytest.mark.parametrize("line", CASES)
def test_legacy_constructor_program_matches_torch(line):
    diffs = diff_program(["import numpy as np", line])
    assert not diffs, "\n".join(diffs)


def test_tensor_of_a_float32_array_shares_it_and_other_dtypes_copy():
    a = np.zeros(2, np.float32)
    t = mt.Tensor(a)
    a[0] = 5
    assert t.tolist() == [5.0, 0.0]
    b = np.zeros(2, np.int64)
    u = mt.Tensor(b)
    b[0] = 5
    assert u.tolist() == [0.0, 0.0] and u.dtype == mt.float32
    f = mt.FloatTensor(a)
    a[1] = 7
    assert f.tolist() == [5.0, 7.0]


def test_isinstance_with_typed_constructors():
    assert isinstance(mt.zeros(1), mt.FloatTensor)
    assert not isinstance(mt.zeros(1), mt.LongTensor)
    assert isinstance(mt.zeros(1, dtype=mt.uint8), mt.ByteTensor)
    assert isinstance(mt.ByteTensor([1]), mt.Tensor)


def test_parameter_keeps_its_dtype():
    p = mt.nn.Parameter(mt.zeros(2, dtype=mt.float64))
    assert p.dtype == mt.float64 and p.requires_grad
