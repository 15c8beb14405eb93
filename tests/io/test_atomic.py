"""Atomic writes: a write that dies midway leaves the previous file whole and no temp file."""
import os

import numpy as np
import pytest

import minitorch.io.serialization as serialization
from minitorch.io import atomic_path, atomic_write_text, load, save
from minitorch.tensor import Tensor


def _weights(value):
    return {f"layer{i}.weight": Tensor(np.full((8, 8), value, np.float32)) for i in range(4)}


def _only_file(folder):
    return sorted(os.listdir(folder))


@pytest.mark.parametrize("error", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_failed_save_leaves_previous_file_intact(tmp_path, monkeypatch, error):
    path = tmp_path / "last.h5"
    save(_weights(1.0), path)
    before = path.read_bytes()
    real = serialization.write_state_dict

    def write_half_then_die(group, sd):
        # Write some of the new content first, so a non-atomic save would corrupt the file.
        real(group, dict(list(sd.items())[:2]))
        raise error

    monkeypatch.setattr(serialization, "write_state_dict", write_half_then_die)
    with pytest.raises(type(error)):
        save(_weights(2.0), path)
    assert path.read_bytes() == before
    assert _only_file(tmp_path) == ["last.h5"]
    np.testing.assert_array_equal(load(path)["layer3.weight"].detach().numpy(), np.ones((8, 8)))


def test_failed_object_save_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "obj.h5"
    save({"a": 1}, path)

    def boom(*args, **kwargs):
        raise OSError("no space left on device")

    monkeypatch.setattr(serialization, "write_container", boom)
    with pytest.raises(OSError, match="no space"):
        save({"a": 2, "b": [1, 2]}, path)
    assert load(path) == {"a": 1}
    assert _only_file(tmp_path) == ["obj.h5"]


def test_successful_write_replaces_and_honours_umask(tmp_path):
    path = tmp_path / "w.txt"
    atomic_write_text(path, "old")
    atomic_write_text(path, "new ✓")
    assert path.read_text(encoding="utf-8") == "new ✓"
    assert _only_file(tmp_path) == ["w.txt"]
    umask = os.umask(0)
    os.umask(umask)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~umask)


def test_temp_file_lives_in_the_destination_folder(tmp_path):
    # os.replace is only atomic within one filesystem, hence the same folder.
    with atomic_path(tmp_path / "x.bin") as temp:
        assert os.path.dirname(temp) == str(tmp_path)
        with open(temp, "wb") as f:
            f.write(b"data")
    assert (tmp_path / "x.bin").read_bytes() == b"data"


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="does-not-exist"):
        save({"a": 1}, tmp_path / "does-not-exist" / "w.h5")


def test_directory_destination_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        save({"a": 1}, tmp_path)


def test_atomic_copy_is_a_copy_that_later_writes_keep_apart(tmp_path):
    from minitorch.io import atomic_copy, atomic_write_bytes
    best, last = tmp_path / "best.h5", tmp_path / "last.h5"
    atomic_write_bytes(best, b"epoch 3")
    atomic_write_bytes(last, b"epoch 2")
    atomic_copy(best, last)
    assert last.read_bytes() == b"epoch 3"
    atomic_write_bytes(last, b"epoch 4")   # replacing one name leaves the other as it was
    assert best.read_bytes() == b"epoch 3" and last.read_bytes() == b"epoch 4"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.h5", "last.h5"]


def test_atomic_copy_copies_the_bytes_without_hard_links(tmp_path, monkeypatch):
    from minitorch.io import atomic, atomic_copy

    def no_links(source, target):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(atomic.os, "link", no_links)
    (tmp_path / "a").write_bytes(b"data")
    atomic_copy(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "b").read_bytes() == b"data"
    assert os.stat(tmp_path / "b").st_ino != os.stat(tmp_path / "a").st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]
