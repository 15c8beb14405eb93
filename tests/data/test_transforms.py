"""Transforms against plain numpy expectations (and torch's interpolate when installed)."""
import numpy as np
import pytest
from PIL import Image

from minitorch.data import (CenterCrop, Compose, DataError, Normalize, RandomCrop,
                            RandomHorizontalFlip, Resize, ToTensor, resize_bilinear)


def _img(c=3, h=6, w=8, seed=0):
    return np.random.default_rng(seed).random((c, h, w), dtype=np.float32)


def test_normalize_per_channel():
    x = _img()
    out = Normalize([0.1, 0.2, 0.3], [0.5, 0.25, 2.0])(x)
    expected = (x - np.array([0.1, 0.2, 0.3], np.float32)[:, None, None]) \
        / np.array([0.5, 0.25, 2.0], np.float32)[:, None, None]
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)


def test_normalize_rejects_bad_std_and_channel_count():
    with pytest.raises(DataError, match="std"):
        Normalize([0.0], [0.0])
    with pytest.raises(DataError, match="2 mean/std values for an image with 3 channels"):
        Normalize([0, 0], [1, 1])(_img())


def test_to_tensor_scales_uint8_hwc_to_chw():
    hwc = np.random.default_rng(1).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    out = ToTensor()(hwc)
    assert out.shape == (3, 4, 5) and out.dtype == np.float32
    np.testing.assert_array_equal(out, hwc.transpose(2, 0, 1).astype(np.float32) / 255)
    pil = ToTensor()(Image.fromarray(hwc))
    np.testing.assert_array_equal(pil, out)
    assert ToTensor()(hwc[:, :, 0]).shape == (1, 4, 5)


def test_center_crop_matches_torchvision_rounding():
    x = _img(h=7, w=8)
    out = CenterCrop((4, 5))(x)
    top, left = int(round(1.5)), int(round(1.5))   # Python rounds half to even: 2, 2
    np.testing.assert_array_equal(out, x[:, top:top + 4, left:left + 5])


def test_center_crop_larger_than_image_zero_pads():
    x = np.ones((1, 2, 2), np.float32)
    out = CenterCrop(4)(x)
    expected = np.zeros((1, 4, 4), np.float32)
    expected[:, 1:3, 1:3] = 1
    np.testing.assert_array_equal(out, expected)


def test_random_crop_is_a_padded_window_drawn_from_the_generator():
    x = _img(h=6, w=6)
    out = RandomCrop(6, padding=2)(x, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    top, left = rng.integers(0, 5), rng.integers(0, 5)
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2)))
    np.testing.assert_array_equal(out, padded[:, top:top + 6, left:left + 6])


def test_random_transforms_require_an_explicit_generator():
    with pytest.raises(DataError, match="np.random.Generator"):
        RandomCrop(4)(_img())
    with pytest.raises(DataError, match="np.random.Generator"):
        RandomHorizontalFlip()(_img())


def test_horizontal_flip_mirrors_the_last_axis():
    x = _img()
    np.testing.assert_array_equal(RandomHorizontalFlip(p=1.0)(x, np.random.default_rng(0)),
                                  x[:, :, ::-1])
    np.testing.assert_array_equal(RandomHorizontalFlip(p=0.0)(x, np.random.default_rng(0)), x)


def test_batch_application_equals_per_image_application():
    batch = np.stack([_img(seed=s) for s in range(5)])
    pipeline = Compose([RandomCrop((5, 7), padding=1), RandomHorizontalFlip(),
                        Normalize([0.5], [0.2])])
    rngs = [np.random.default_rng(100 + k) for k in range(5)]
    fast = pipeline.apply_batch(batch, rngs)
    rngs = [np.random.default_rng(100 + k) for k in range(5)]
    slow = np.stack([pipeline(batch[k], rngs[k]) for k in range(5)])
    np.testing.assert_array_equal(fast, slow)
    assert pipeline.is_random and not Compose([Normalize(0, 1)]).is_random


def _bilinear_reference(x, out_h, out_w):
    """Direct per-pixel half-pixel bilinear interpolation (align_corners=False)."""
    h, w = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + (out_h, out_w), dtype=np.float64)
    for i in range(out_h):
        for j in range(out_w):
            sy = max((i + 0.5) * h / out_h - 0.5, 0.0)
            sx = max((j + 0.5) * w / out_w - 0.5, 0.0)
            y0, x0 = min(int(sy), h - 1), min(int(sx), w - 1)
            y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
            ly, lx = sy - y0, sx - x0
            out[..., i, j] = ((1 - ly) * ((1 - lx) * x[..., y0, x0] + lx * x[..., y0, x1])
                              + ly * ((1 - lx) * x[..., y1, x0] + lx * x[..., y1, x1]))
    return out


@pytest.mark.parametrize("size", [(32, 32), (5, 3), (6, 8), (13, 17)])
def test_resize_bilinear_matches_reference(size):
    x = _img(c=2, h=6, w=8)
    out = resize_bilinear(x, size)
    assert out.shape == (2,) + size and out.dtype == np.float32
    np.testing.assert_allclose(out, _bilinear_reference(x.astype(np.float64), *size),
                               rtol=1e-5, atol=1e-6)


def test_resize_bilinear_matches_torch_interpolate():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).random((2, 3, 8, 8), dtype=np.float32)
    for size in [(32, 32), (5, 11)]:
        expected = torch.nn.functional.interpolate(torch.from_numpy(x), size=size,
                                                   mode="bilinear", align_corners=False)
        np.testing.assert_allclose(resize_bilinear(x, size), expected.numpy(), atol=2e-6)


def test_resize_int_keeps_aspect_ratio_for_arrays_and_pil():
    assert Resize(4)(_img(h=6, w=12)).shape == (3, 4, 8)
    assert Resize(4)(_img(h=12, w=6)).shape == (3, 8, 4)
    pil = Image.fromarray(np.zeros((20, 10, 3), np.uint8))
    assert Resize(5)(pil).size == (5, 10)                  # PIL sizes are (w, h)
    assert Resize((3, 7))(pil).size == (7, 3)


def test_resize_of_pil_uses_pil_bilinear():
    hwc = np.random.default_rng(2).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    pil = Image.fromarray(hwc)
    expected = np.asarray(pil.resize((8, 8), Image.BILINEAR))
    np.testing.assert_array_equal(np.asarray(Resize(8)(pil)), expected)


def test_bad_sizes_are_named():
    with pytest.raises(DataError, match="CenterCrop: invalid size 0"):
        CenterCrop(0)
    with pytest.raises(DataError, match="padding -1"):
        RandomCrop(4, padding=-1)
    with pytest.raises(DataError, match="larger than the padded image"):
        RandomCrop(10)(_img(), np.random.default_rng(0))


def test_views_list_every_outcome_in_order_or_none():
    flip = Compose([RandomCrop(8), RandomHorizontalFlip()])
    assert flip.views((8, 8), 4) == [((0, 0), False), ((0, 0), True)]
    assert Compose([RandomHorizontalFlip(0.0)]).views((8, 8), 4) == [(False,)]
    assert Compose([RandomCrop(10), RandomHorizontalFlip()]).views((8, 8), 4) is None  # too big
    crop = Compose([RandomCrop(6, padding=1), RandomHorizontalFlip()])
    assert crop.views((6, 6), 17) is None and len(crop.views((6, 6), 18)) == 18
    x = _img(h=6, w=6)
    for seed in range(10):
        key = crop.view_key(np.random.default_rng(seed), (6, 6))
        made = crop(x, np.random.default_rng(seed))
        assert crop.apply_views(x, [key])[0].tobytes() == made.tobytes()
