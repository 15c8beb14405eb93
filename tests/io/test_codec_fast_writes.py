"""The codec's low-level dataset and attribute writes (``_dataset``, ``_str_attr``) make the same
HDF5 objects as h5py's ``create_dataset`` and ``attrs[...] =``, which readers rely on."""
import io

import h5py
import numpy as np
import pytest

from minitorch.io import codec


@pytest.mark.parametrize("value", [
    np.float64(2.5), np.float32(1.5), np.int64(-7), np.bool_(True), np.complex64(1 + 2j),
    np.arange(6, dtype=np.float32).reshape(2, 3), np.ones((2, 1, 3, 3), np.float64)[:, :, ::2],
    np.array([True, False]), np.zeros((0, 4), np.float32), np.arange(3, dtype=">i4"),
])
def test_a_fast_dataset_is_the_dataset_h5py_makes(value):
    with h5py.File(io.BytesIO(), "w", track_order=True) as f:
        fast = h5py.Dataset(codec._dataset(f, "fast", value))
        slow = f.create_dataset("slow", data=np.asarray(value, order="C"))
        assert fast.shape == slow.shape and fast.dtype == slow.dtype
        assert fast.id.get_space().get_simple_extent_type() == \
            slow.id.get_space().get_simple_extent_type()   # scalar stays scalar
        assert fast.chunks == slow.chunks and fast.compression == slow.compression
        assert fast.id.get_create_plist().get_obj_track_times() == \
            slow.id.get_create_plist().get_obj_track_times()
        np.testing.assert_array_equal(fast[()], slow[()])


def test_a_fast_string_attribute_reads_back_as_h5py_writes_it():
    with h5py.File(io.BytesIO(), "w") as f:
        a, b = f.create_group("a"), f.create_group("b")
        codec._str_attr(a, "kind", "state_dict")
        b.attrs["kind"] = "state_dict"
        assert a.attrs["kind"] == b.attrs["kind"] == "state_dict"
        assert a.attrs.get_id("kind").get_type() == b.attrs.get_id("kind").get_type()
        assert a.attrs.get_id("kind").shape == b.attrs.get_id("kind").shape == ()
