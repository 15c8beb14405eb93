"""uint8, int8 and int16 tensors (what an image decoded by PIL or numpy is) against torch 2.13:
creation, casts, wrap-around arithmetic, division signs, shifts, reductions, indexing, clamp,
printing and saving. Each case is a small program run in both libraries (values, dtypes and
whether each line raised are compared)."""
import numpy as np
import pytest

import minitorch as mt
from tests.differential.harness import diff_program

torch = pytest.importorskip("torch")

SETUP = ["u = lib.tensor([0, 100, 255], dtype=lib.uint8)",
         "i8 = lib.tensor([-128, -3, 127], dtype=lib.int8)",
         "i16 = lib.tensor([300, -2, 7], dtype=lib.int16)"]

CASES = [
    # wrap-around, as torch's C arithmetic: the scalar is wrapped into the tensor's dtype
    "r = u + 1", "r = u + 300", "r = u - 200", "r = u + (-1)", "r = 3 - u", "r = u * 1000",
    "r = -u", "r = -i8", "r = i8.abs()", "r = i16 * i16", "r = i8 * i8", "r = u ** 2",
    "r = 2 ** u", "r = u + 2 ** 40",
    # promotion across the small integers, bool and floats
    "r = u + i8", "r = u + lib.tensor([True, False, True])", "r = u + 1.5", "r = u + True",
    "r = lib.tensor(3, dtype=lib.uint8) + i8", "r = lib.tensor(3, dtype=lib.int8) + u",
    "r = u + lib.tensor(3)", "r = u + lib.tensor(3., dtype=lib.float64)",
    "r = lib.tensor([True]) + lib.tensor(200, dtype=lib.uint8)",
    "r = lib.tensor(200, dtype=lib.uint8) + lib.tensor([100])",
    "r = lib.maximum(u, lib.tensor([5], dtype=lib.int8))", "r = i16 + i8",
    # division: true division is float, floor/trunc/remainder keep the sign rules
    "r = u / 2", "r = u // 7", "r = i8 // 7", "r = i8 // -7", "r = i8 % 7", "r = i8 % -7",
    "r = i8 // -1", "r = lib.fmod(i8, 7)", "r = lib.fmod(i8, -7)",
    "r = i8.div(lib.tensor([2, 5, -2], dtype=lib.int8), rounding_mode='floor')",
    "r = i8.div(lib.tensor([2, 5, -2], dtype=lib.int8), rounding_mode='trunc')",
    "r = lib.remainder(i8, lib.tensor([3, -3, 5], dtype=lib.int8))", "r = u.div(7, rounding_mode='trunc')",
    # bitwise ops and shifts (counts outside [0, bits) as torch)
    "r = u & 3", "r = ~u", "r = ~i8", "r = u ^ i8", "r = u | i16", "r = u >> 1", "r = u << 1",
    "r = i8 >> 1", "r = u << 9", "r = i8 >> 9", "r = u >> -1", "r = 1 << u", "r = u << 300",
    "r = i8 << lib.tensor([-1, 8, 7], dtype=lib.int8)", "r = i8 >> lib.tensor([-1, 8, 7], dtype=lib.int8)",
    "r = lib.tensor([1]) << 64", "r = lib.tensor([1]) << 63", "r = lib.tensor([True]) << 1",
    "r = lib.tensor([1.5]) << 1", "r = lib.tensor([True]) >> lib.tensor([True])",
    "r = lib.bitwise_left_shift(u, 2)", "r = lib.bitwise_right_shift(i16, 1)",
    "r = u.clone(); r <<= 1", "r = u.clone(); r &= 7", "r = u.clone(); s = r; r |= 1",
    # comparisons wrap the scalar too (u > -1 compares with 255)
    "r = u > 100", "r = u > -1", "r = u == 256", "r = i8 == 255", "r = i8 == -129",
    "r = u < lib.tensor(-1)", "r = u != 300",
    # reductions: integer sums and products in int64, mean refused
    "r = u.all()", "r = u.any()", "r = i8.all()", "r = u.all(0, keepdim=True)",
    "r = u.sum()", "r = i8.prod()", "r = u.cumsum(0)", "r = u.cumprod(0)", "r = u.mean()",
    "r = u.sum(dtype=lib.uint8)", "r = u.sum(0, keepdim=True)", "r = u.max()", "r = u.argmax()",
    "r = u.std()", "r = i8.mean(dtype=lib.float32)", "r = u.float().mean()",
    # the image idiom and float ops on integers
    "r = lib.zeros(2, 3, 3, dtype=lib.uint8).permute(2, 0, 1).float() / 255",
    "r = u.float() / 255", "r = u.sqrt()", "r = u.exp()", "r = i8.sign()", "r = u ** 0.5",
    # clamp and fills: out-of-range bounds raise, unsigned takes -max..-1 as wrapped
    "r = u.clamp(10, 200)", "r = u.clamp(10.5, 200)", "r = u.clamp(-5, 300)", "r = u.clamp(-1)",
    "r = u.clamp(max=256)", "r = u.clamp(lib.tensor([5]), lib.tensor([7]))",
    "r = lib.zeros(2, dtype=lib.uint8).fill_(-1)", "r = lib.zeros(2, dtype=lib.uint8).fill_(300)",
    "r = lib.zeros(2, dtype=lib.uint8).fill_(1.7)", "r = u.masked_fill(u > 5, 300)",
    "r = u.masked_fill(u > 5, -1)", "r = lib.where(u > 5, u, 300)", "r = u.add(1, alpha=300)",
    "r = u.clone(); r += 300", "r = u.clone(); r += 1.5",
    # creation
    "r = lib.arange(250, 260, dtype=lib.uint8)", "r = lib.full((2,), 300, dtype=lib.uint8)",
    "r = lib.full((2,), -1, dtype=lib.uint8)", "r = lib.tensor([300], dtype=lib.uint8)",
    "r = lib.tensor([-1], dtype=lib.uint8)", "r = lib.tensor([-256], dtype=lib.uint8)",
    "r = lib.tensor([128], dtype=lib.int8)", "r = lib.tensor([1.7, -1.2], dtype=lib.int8)",
    "r = lib.tensor([-1.2], dtype=lib.uint8)", "r = lib.tensor([255.9], dtype=lib.uint8)",
    "r = lib.tensor([True, 2], dtype=lib.uint8)", "r = lib.zeros_like(u)", "r = lib.ones_like(i8)",
    "r = lib.full_like(u, 300)", "r = lib.full_like(u, 7)", "r = lib.empty(2, dtype=lib.int16).fill_(3)",
    "import numpy as np; r = lib.from_numpy(np.array([1, 2], dtype=np.uint8))",
    "import numpy as np; r = lib.tensor(np.array([300.5, -1.5]), dtype=lib.uint8)",
    "import numpy as np; r = lib.tensor(np.array([300]), dtype=lib.uint8)",
    "import numpy as np; r = lib.as_tensor(np.array([7, 8], dtype=np.int8))",
    # casts
    "r = i8.byte()", "r = u.char()", "r = u.short()", "r = i16.to(lib.uint8)", "r = u.bool()",
    "r = lib.tensor([-1.5, 300.7, 2.9]).to(lib.uint8)", "r = u.type(lib.int8)",
    "r = lib.tensor([200], dtype=lib.uint8).to(lib.int8)", "r = u.float().requires_grad_()",
    "r = u.clone().requires_grad_()",
    # indexing: a uint8 mask is a (deprecated) bool mask, int8/int16 indices are refused
    "r = u[lib.tensor([1, 0, 1], dtype=lib.uint8)]", "r = u[lib.tensor([0, 2], dtype=lib.int8)]",
    "r = u[lib.tensor([0, 2], dtype=lib.int16)]", "r = u[lib.tensor([0, 2], dtype=lib.int32)]",
    "r = u.sort().values", "r = u.topk(2).values", "r = u.view(lib.int8)",
]


@pytest.mark.parametrize("line", CASES)
def test_small_integer_program_matches_torch(line):
    diffs = diff_program(SETUP + line.split("; "))
    assert not diffs, "\n".join(diffs)


REPRS = [
    "lib.tensor([0, 100, 255], dtype=lib.uint8)", "lib.tensor([], dtype=lib.uint8)",
    "lib.tensor(5, dtype=lib.int16)", "lib.tensor([[1, -200], [3, 4]], dtype=lib.int16)",
    "lib.zeros(0, 3, dtype=lib.uint8)", "lib.tensor([[True, False], [False, True]])",
    "lib.tensor([True, True])", "lib.tensor(True)", "lib.tensor([0., 100., 255.]).exp()",
    "lib.arange(0, 256, dtype=lib.uint8).reshape(16, 16)[:3]",
    "lib.tensor([1.0, 2.0], dtype=lib.float64).repeat(13).reshape(2, 13)",
    "lib.tensor([1.0, 2.0], dtype=lib.float64).repeat(10).reshape(2, 10)",
    "lib.arange(0, 48, dtype=lib.int8).reshape(3, 16)",
]


@pytest.mark.parametrize("expr", REPRS)
def test_repr_matches_torch(expr):
    want = repr(eval(expr, {"lib": torch})).replace("torch.", "minitorch.")
    assert repr(eval(expr, {"lib": mt})) == want


@pytest.mark.parametrize("name", ["uint8", "int8", "int16"])
def test_dtype_facts_match_torch(name):
    d, ref = getattr(mt, name), getattr(torch, name)
    assert (d.is_signed, d.is_floating_point, d.itemsize) == (ref.is_signed,
                                                              ref.is_floating_point, ref.itemsize)
    x, y = mt.zeros(3, dtype=d), torch.zeros(3, dtype=ref)
    assert (x.element_size(), x.nbytes, x.itemsize) == (y.element_size(), y.nbytes, y.itemsize)
    assert x.type() == y.type().replace("torch.", "minitorch.")
    assert repr(mt.iinfo(d)) == repr(torch.iinfo(ref))
    assert mt.iinfo(d).max == torch.iinfo(ref).max


def test_type_accepts_legacy_names():
    x = mt.tensor([1.5, 300.0])
    assert x.type("torch.ByteTensor").dtype == mt.uint8
    assert x.type("minitorch.ShortTensor").tolist() == [1, 300]


def test_short_alias_and_cast_methods():
    assert mt.short is mt.int16
    x = mt.tensor([200, -1])
    assert (x.byte().tolist(), x.char().tolist(), x.short().dtype) == ([200, 255], [-56, -1],
                                                                        mt.int16)


def test_small_ints_save_and_load(tmp_path):
    sd = {"mask": mt.tensor([1, 255], dtype=mt.uint8), "q": mt.tensor([-3], dtype=mt.int8),
          "s": mt.tensor([300], dtype=mt.int16)}
    mt.save(sd, tmp_path / "sd.h5")
    back = mt.load(tmp_path / "sd.h5")
    for k, v in sd.items():
        assert back[k].dtype == v.dtype and back[k].tolist() == v.tolist()
    mt.save({"nested": [sd["mask"], 3]}, tmp_path / "obj.h5")
    assert mt.load(tmp_path / "obj.h5")["nested"][0].dtype == mt.uint8


def test_uint8_image_from_numpy_shares_memory_and_normalises():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    t = mt.from_numpy(img)
    img[0, 0, 0] = 255
    assert t.dtype == mt.uint8 and int(t[0, 0, 0]) == 255
    x = t.permute(2, 0, 1).float() / 255
    ref = torch.from_numpy(img).permute(2, 0, 1).float() / 255
    np.testing.assert_array_equal(x.numpy(), ref.numpy())


INPLACE = [
    "r = lib.tensor([255, 300], dtype=lib.int16); r.sub_(lib.tensor([7], dtype=lib.uint8))",
    "r = lib.tensor([1, -1], dtype=lib.int32); r.sub_(lib.tensor(-128, dtype=lib.int8))",
    "r = lib.tensor([0, 1], dtype=lib.uint8); r.sub_(lib.tensor([3], dtype=lib.int8))",
    "r = lib.tensor([0, 1], dtype=lib.uint8); r.add_(lib.tensor([300], dtype=lib.int16))",
    "r = lib.tensor([0, 1], dtype=lib.uint8); r.sub_(2, alpha=3)",
    "r = lib.tensor([0, 1], dtype=lib.uint8); r.add_(lib.tensor([1.5]))",
    "r = lib.tensor([0, 1], dtype=lib.int8); r.mul_(lib.tensor([True, False]))",
    "r = lib.tensor([True, False]); r.add_(lib.tensor([1], dtype=lib.uint8))",
    "r = lib.tensor([[7, 200], [1, 2]], dtype=lib.uint8); r[0:1] = -1",
    "r = lib.tensor([7, 200], dtype=lib.uint8); r[0] = 300",
    "r = lib.tensor([7, 200], dtype=lib.uint8); r[...] = 0.5",
]


@pytest.mark.parametrize("line", INPLACE)
def test_small_integer_inplace_matches_torch(line):
    diffs = diff_program(line.split("; "))
    assert not diffs, "\n".join(diffs)


def test_nearest_interpolate_of_a_uint8_image_matches_torch():
    lines = ["x = lib.arange(12, dtype=lib.uint8).reshape(1, 1, 3, 4) * 20",
             "r = lib.nn.functional.interpolate(x, scale_factor=2, mode='nearest')",
             "s = lib.nn.functional.interpolate(x, size=(2, 5), mode='nearest')",
             "q = lib.nn.functional.interpolate(x.short(), size=(2, 5), mode='nearest')"]
    diffs = diff_program(lines)
    assert not diffs, "\n".join(diffs)
