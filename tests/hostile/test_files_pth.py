"""Hostile .pth files: what the pickle and the zip declare is checked before anything is
inflated or allocated, so a few bytes never become gigabytes, and every failure is one line."""
import pickle
import zipfile

import numpy as np
import pytest

from minitorch.io import CorruptFileError, UnsafePickleError
from minitorch.io.pth_reader import read_pth
from tests.io.test_pth_reader import _global, _push, _tensor_pickle, _zip_pth

from .helpers import assert_one_line_error, convert_baseline, run  # noqa: F401


def _refused(path, *fragments, error=CorruptFileError):
    with pytest.raises(error) as info:
        read_pth(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"'{path}'"), message
    for fragment in fragments:
        assert fragment in message, message
    return message


def _one_tensor(path, size, stride, numel, offset=0, raw=None):
    _zip_pth(path, _tensor_pickle(offset, size, stride, numel),
             {"0": np.zeros(numel, np.float32).tobytes() if raw is None else raw})
    return path


def _convert(tmp_path, pth, *fragments, baseline=None, arch="none"):
    """scripts/convert_torchvision.py on a hostile file: one line, output left as it was."""
    out = tmp_path / "out.h5"
    out.write_bytes(b"an earlier conversion")
    outcome = run(["scripts/convert_torchvision.py", pth, out, "--arch", arch])
    line = assert_one_line_error(outcome, *fragments, baseline=baseline)
    assert out.read_bytes() == b"an earlier conversion"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    return line


def test_stride_zero_tensor_is_refused(tmp_path, convert_baseline):
    # 630 bytes that would otherwise become a 2 GB array
    path = _one_tensor(tmp_path / "s.pth", (50_000, 10_000), (0, 0), 1)
    _convert(tmp_path, path, "stride of 0 (an expanded tensor)", baseline=convert_baseline)


def test_overlapping_strides_are_refused(tmp_path):
    _refused(_one_tensor(tmp_path / "o.pth", (1000, 1000), (1, 1), 2000), "overlapping strides")
    # a transposed (but dense) view is still fine
    assert read_pth(_one_tensor(tmp_path / "t.pth", (3, 2), (1, 3), 6))["w"].shape == (3, 2)


def test_overflowing_sizes_are_refused(tmp_path, convert_baseline):
    path = _one_tensor(tmp_path / "big.pth", (2**40, 2**40), (2**40, 1), 4)
    _convert(tmp_path, path, "overflow any storage", baseline=convert_baseline)
    _refused(_one_tensor(tmp_path / "d.pth", (1,) * 40, (1,) * 40, 1), "40 dimensions")


def test_storage_entry_must_hold_what_the_pickle_declares(tmp_path):
    path = _one_tensor(tmp_path / "a.pth", (4,), (1,), 4, raw=np.zeros(8, np.float32).tobytes())
    _refused(path, "holds 32 bytes, but the pickle declares 4 FloatStorage elements (16 bytes)")


def test_zip_bomb_is_refused_before_inflating(tmp_path, convert_baseline):
    numel = 64 * 2**20   # 256 MiB of zeros, deflated to about 250 kB
    path = tmp_path / "bomb.pth"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("archive/data.pkl", _tensor_pickle(0, (numel,), (1,), numel))
        with z.open("archive/data/0", "w") as entry:
            block = bytes(2**22)
            for _ in range(numel * 4 // len(block)):
                entry.write(block)
    assert path.stat().st_size < 2_000_000
    _convert(tmp_path, path, "would inflate to 268435456", "zip bomb", baseline=convert_baseline)


def test_memo_bomb_is_refused(tmp_path, convert_baseline):
    # LONG_BINPUT 2**31 - 1: the C unpickler would grow its memo to 16 GiB of pointers
    pickled = b"\x80\x02}r\xff\xff\xff\x7f."
    _zip_pth(tmp_path / "m.pth", pickled)
    _convert(tmp_path, tmp_path / "m.pth", "pickle memo index 2147483647",
             baseline=convert_baseline)


def test_huge_length_field_is_damage_not_an_allocation(tmp_path):
    _zip_pth(tmp_path / "b.pth", b"\x80\x04\x8e" + (2**60).to_bytes(8, "little") + b"xx.")
    _refused(tmp_path / "b.pth", "damaged pickle")


def test_deep_pickle_nesting_is_refused(tmp_path):
    nested = b"\x80\x02" + (b"}" + _push("a")) * 5000 + b"}" + b"s" * 5000 + b"."
    _zip_pth(tmp_path / "n.pth", nested)
    _refused(tmp_path / "n.pth", "pickle holds more than 5000 values at once")
    marks = b"\x80\x02" + b"(" * 5000 + b"t" * 5000 + b"."
    _zip_pth(tmp_path / "t.pth", marks)
    _refused(tmp_path / "t.pth", "pickle nested deeper than 64 levels")
    moderate = b"\x80\x02" + (b"}" + _push("a")) * 100 + b"}" + b"s" * 100 + b"."
    _zip_pth(tmp_path / "d.pth", moderate)
    _refused(tmp_path / "d.pth", "dicts nested deeper than 64 levels at 'a.a.a.")


def test_build_on_a_tensor_is_refused(tmp_path):
    base = _tensor_pickle(0, (2,), (1,), 2)
    # after the tensor is rebuilt, BUILD it with slot state that bypasses the checks
    hostile = base[:-2] + _push((None, {"size": "x", "stride": "y"})) + b"b" + base[-2:]
    _zip_pth(tmp_path / "b.pth", hostile, {"0": np.zeros(2, np.float32).tobytes()})
    _refused(tmp_path / "b.pth", "BUILD state on a RebuiltTensor", error=UnsafePickleError)


def test_wrong_typed_build_state_on_a_dict_is_one_line(tmp_path):
    pickled = (b"\x80\x02" + _global("collections", "OrderedDict") + b")R"
               + _push([1, 2]) + b"b.")
    _zip_pth(tmp_path / "s.pth", pickled)
    _refused(tmp_path / "s.pth", "damaged pickle")


@pytest.mark.parametrize("damage", ["truncate", "method", "crc"])
def test_damaged_zip_is_one_line(tmp_path, damage):
    path = _one_tensor(tmp_path / "z.pth", (4,), (1,), 4, raw=np.arange(4, dtype="f4").tobytes())
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("archive/data/0")
    if damage == "truncate":
        data = data[: info.header_offset + 40] + data[-200:]
    elif damage == "method":   # compression method 99 (AES) in the entry's central header
        central = data.find(b"archive/data/0", data.find(b"PK\x01\x02")) - 46
        data[central + 10:central + 12] = (99).to_bytes(2, "little")
    else:
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
        data[start] ^= 0xFF
    path.write_bytes(bytes(data))
    try:
        read_pth(path)
    except CorruptFileError as e:
        assert "\n" not in str(e)
    else:
        assert damage == "crc"   # reading only the bytes needed may stop before the CRC


def test_pickle_with_more_bytes_than_declared_is_cut(tmp_path):
    big = pickle.dumps({"x": "y" * 100}, protocol=2)
    _zip_pth(tmp_path / "p.pth", big)
    _refused(tmp_path / "p.pth", "entry 'x' is a str, not a tensor")
