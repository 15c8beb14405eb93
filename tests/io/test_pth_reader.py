"""read_pth: torch's files read exactly without torch; hostile pickles refused before running."""
import os
import pickle
import zipfile

import numpy as np
import pytest

from minitorch.io import CorruptFileError, UnsafePickleError
from minitorch.io.pth_reader import read_pth


class _RunsCommand:
    """Unpickling this calls os.system: what a malicious .pth does."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def _zip_pth(path, pickle_bytes, storages=None, prefix="archive"):
    """A file with torch's zip layout around the given pickle and raw storages."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{prefix}/data.pkl", pickle_bytes)
        z.writestr(f"{prefix}/byteorder", "little")
        for key, raw in (storages or {}).items():
            z.writestr(f"{prefix}/data/{key}", raw)
        z.writestr(f"{prefix}/version", "3\n")


def _push(value) -> bytes:
    """Opcodes that push a plain value (pickle's own output minus PROTO and STOP)."""
    return pickle.dumps(value, protocol=2)[2:-1]


def _global(module, name) -> bytes:
    return f"c{module}\n{name}\n".encode()


def _tensor_pickle(offset, size, stride, numel, storage_type="FloatStorage") -> bytes:
    """A hand-assembled state-dict pickle {'w': tensor}, exactly as torch lays it out."""
    storage_pid = (b"(" + _push("storage") + _global("torch", storage_type) + _push("0")
                   + _push("cpu") + _push(numel) + b"tQ")  # TUPLE, BINPERSID
    args = (b"(" + storage_pid + _push(offset) + _push(tuple(size)) + _push(tuple(stride))
            + _push(False) + _global("collections", "OrderedDict") + b")R" + b"tR")
    return (b"\x80\x02" + _global("collections", "OrderedDict") + b")R"
            + b"(" + _push("w") + _global("torch._utils", "_rebuild_tensor_v2") + args
            + b"u.")  # SETITEMS, STOP


def test_hand_assembled_file_reads_with_strides_and_offset(tmp_path):
    storage = np.arange(12, dtype=np.float32)
    _zip_pth(tmp_path / "a.pth", _tensor_pickle(2, (3, 2), (1, 3), 12),
             {"0": storage.tobytes()})
    got = read_pth(tmp_path / "a.pth")["w"]
    expected = np.lib.stride_tricks.as_strided(storage[2:], (3, 2), (4, 12))
    np.testing.assert_array_equal(got, expected)
    assert got.flags.c_contiguous and got.dtype == np.float32


def test_out_of_bounds_strides_are_refused(tmp_path):
    _zip_pth(tmp_path / "a.pth", _tensor_pickle(0, (4, 4), (4, 1), 4),
             {"0": np.zeros(4, np.float32).tobytes()})
    with pytest.raises(CorruptFileError, match="reaches element 15 of a storage of 4"):
        read_pth(tmp_path / "a.pth")


def test_negative_strides_are_refused(tmp_path):
    _zip_pth(tmp_path / "a.pth", _tensor_pickle(3, (2,), (-1,), 4),
             {"0": np.zeros(4, np.float32).tobytes()})
    with pytest.raises(UnsafePickleError, match="stride"):
        read_pth(tmp_path / "a.pth")


def test_bfloat16_bits_widen_to_float32(tmp_path):
    values = np.array([1.5, -2.0, 3.140625], np.float32)
    bf16_bits = (values.view(np.uint32) >> 16).astype(np.uint16)
    _zip_pth(tmp_path / "b.pth", _tensor_pickle(0, (3,), (1,), 3, "BFloat16Storage"),
             {"0": bf16_bits.tobytes()})
    got = read_pth(tmp_path / "b.pth")["w"]
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, values)


@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_malicious_pickle_is_refused_and_does_not_run(tmp_path, layout):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"w": _RunsCommand(f"touch {marker}")}, protocol=2)
    path = tmp_path / "evil.pth"
    if layout == "zip":
        _zip_pth(path, payload)
    else:
        path.write_bytes(payload)
    with pytest.raises(UnsafePickleError, match=r"refused to load global '(posix|os)\.system'"):
        read_pth(path)
    assert not marker.exists()


def test_other_globals_are_refused(tmp_path):
    payload = b"\x80\x02" + _global("builtins", "eval") + _push(("1+1",)) + b"R."
    _zip_pth(tmp_path / "e.pth", payload)
    with pytest.raises(UnsafePickleError, match="'builtins.eval'"):
        read_pth(tmp_path / "e.pth")


def test_non_tensor_entries_are_named(tmp_path):
    _zip_pth(tmp_path / "c.pth", pickle.dumps({"epoch": 3}, protocol=2))
    with pytest.raises(CorruptFileError, match="entry 'epoch' is a int, not a tensor"):
        read_pth(tmp_path / "c.pth")


def test_bad_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        read_pth(tmp_path / "missing.pth")
    (tmp_path / "text.pth").write_text("not a checkpoint")
    with pytest.raises(CorruptFileError, match="neither a zip nor a pickle"):
        read_pth(tmp_path / "text.pth")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(CorruptFileError, match="no <name>/data.pkl"):
        read_pth(tmp_path / "other.zip")
    _zip_pth(tmp_path / "nostorage.pth", _tensor_pickle(0, (2,), (1,), 2))
    with pytest.raises(CorruptFileError, match="storage '0' is missing"):
        read_pth(tmp_path / "nostorage.pth")


# ----------------------------------------------------------------- live: files written by torch
def _torch_state_dict(torch):
    g = torch.Generator().manual_seed(0)
    conv = torch.nn.Conv2d(3, 4, 3)
    bn = torch.nn.BatchNorm2d(4)
    bn.running_mean.normal_(generator=g)
    sd = {}
    sd.update({f"conv.{k}": v for k, v in conv.state_dict().items()})
    sd.update({f"bn.{k}": v for k, v in bn.state_dict().items()})
    base = torch.randn(5, 6, generator=g)
    sd["view.transposed"] = base.t()             # non-contiguous
    sd["view.sliced"] = base[1:, 2:]             # storage offset, shared storage
    sd["dtype.f64"] = torch.randn(3, generator=g, dtype=torch.float64)
    sd["dtype.f16"] = torch.randn(3, generator=g).half()
    sd["dtype.bf16"] = torch.randn(3, generator=g).bfloat16()
    sd["dtype.bool"] = torch.tensor([True, False])
    sd["dtype.i32"] = torch.arange(4, dtype=torch.int32)
    sd["dtype.u8"] = torch.arange(4, dtype=torch.uint8)
    sd["scalar"] = torch.tensor(2.5)
    sd["empty"] = torch.zeros(0, 3)
    sd["param"] = torch.nn.Parameter(torch.ones(2))
    return sd


def _as_numpy(torch, t):
    t = t.detach()
    return t.float().numpy() if t.dtype == torch.bfloat16 else t.numpy()


@pytest.mark.parametrize("zipped", [True, False])
def test_files_saved_by_torch_read_exactly(tmp_path, zipped):
    torch = pytest.importorskip("torch")
    sd = _torch_state_dict(torch)
    path = tmp_path / "m.pth"
    torch.save(sd, path, _use_new_zipfile_serialization=zipped)
    got = read_pth(path)
    assert list(got) == list(sd)
    for key, value in sd.items():
        expected = _as_numpy(torch, value)
        assert got[key].dtype == expected.dtype, key
        assert got[key].shape == expected.shape, key
        np.testing.assert_array_equal(got[key], expected, err_msg=key)


def test_torch_saved_malicious_object_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    marker = tmp_path / "pwned"
    torch.save({"w": torch.ones(1), "x": _RunsCommand(f"touch {marker}")}, tmp_path / "evil.pth")
    with pytest.raises(UnsafePickleError, match="system"):
        read_pth(tmp_path / "evil.pth")
    assert not marker.exists()


def test_module_state_dict_with_metadata_reads(tmp_path):
    # A real Module.state_dict() is an OrderedDict carrying a _metadata attribute (BUILD opcode).
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    torch.save(model.state_dict(), tmp_path / "s.pth")
    got = read_pth(tmp_path / "s.pth")
    assert list(got) == list(model.state_dict())
    np.testing.assert_array_equal(got["0.weight"], model[0].weight.detach().numpy())
    assert got["1.num_batches_tracked"].dtype == np.int64


def test_legacy_truncated_file_is_named(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(100)}, tmp_path / "old.pth", _use_new_zipfile_serialization=False)
    data = (tmp_path / "old.pth").read_bytes()
    (tmp_path / "old.pth").write_bytes(data[:-40])
    with pytest.raises(CorruptFileError, match="truncated"):
        read_pth(tmp_path / "old.pth")

