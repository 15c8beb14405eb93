"""minitorch.finfo / iinfo against torch's: every attribute, the repr and the errors."""
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

ATTRS = {"finfo": ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"),
         "iinfo": ("bits", "max", "min", "dtype")}


@pytest.mark.parametrize("kind,name", [("finfo", "float32"), ("finfo", "float64"),
                                       ("iinfo", "int32"), ("iinfo", "int64")])
def test_limits_match_torch(kind, name):
    mine = getattr(mt, kind)(getattr(mt, name))
    ref = getattr(torch, kind)(getattr(torch, name))
    for attr in ATTRS[kind]:
        assert getattr(mine, attr) == getattr(ref, attr), attr
    assert repr(mine) == repr(ref)


def test_default_and_errors():
    assert mt.finfo().eps == torch.finfo().eps
    with pytest.raises(TypeError, match="floating point"):
        mt.finfo(mt.int64)
    with pytest.raises(TypeError, match="integer"):
        mt.iinfo(mt.float32)
