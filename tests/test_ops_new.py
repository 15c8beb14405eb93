"""x.new_zeros / new_ones / new_empty / new_full / new_tensor against torch 2.13: dtype from x
unless dtype= is given, requires_grad only when asked, shapes from varargs, a tuple or a list."""
import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

CALLS = [
    ("new_zeros", (2, 3), {}),
    ("new_zeros", ((2, 3),), {}),
    ("new_zeros", ([4],), {"dtype": "int64"}),
    ("new_ones", (3,), {"requires_grad": True}),
    ("new_full", ((2,), 3), {}),
    ("new_full", ((2, 2), 1.5), {"dtype": "float32"}),
    ("new_empty", (2, 1), {}),
    ("new_tensor", ([1, 2],), {}),
    ("new_tensor", ([1.5, -2.5],), {"dtype": "int64"}),
]


@pytest.mark.parametrize("source_dtype", ["float64", "int64"])
@pytest.mark.parametrize("name,args,kwargs", CALLS)
def test_new_factories_match_torch(name, args, kwargs, source_dtype):
    results = []
    for lib in (torch, mt):
        src = lib.ones(2, dtype=getattr(lib, source_dtype))
        kw = {k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}
        if kw.get("requires_grad") and source_dtype == "int64":
            kw["dtype"] = lib.float32   # only floating tensors can require grad
        results.append(getattr(src, name)(*args, **kw))
    ref, out = results
    assert tuple(out.shape) == tuple(ref.shape)
    assert str(out.dtype).split(".")[1] == str(ref.dtype).split(".")[1]
    assert out.requires_grad == ref.requires_grad
    if name != "new_empty":
        np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())


def test_new_tensor_copies_and_detaches_a_tensor():
    src = mt.ones(3, requires_grad=True)
    out = src.new_tensor(src)
    assert not out.requires_grad
    out.numpy()[0] = 7.0
    assert src.detach().numpy()[0] == 1.0
