"""RandomResizedCrop, ColorJitter, RandomRotation: torchvision's parameter rules and PIL
operations, reproducible from the generator, and marked continuous (no cacheable views)."""
import numpy as np
import pytest
from PIL import Image, ImageEnhance

from minitorch.data.errors import DataError
from minitorch.data.transforms import Compose, RandomHorizontalFlip, ToTensor
from minitorch.data.transforms_photo import ColorJitter, RandomResizedCrop, RandomRotation


def _photo(w=40, h=30, seed=0):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


def test_random_resized_crop_box_follows_scale_and_ratio():
    t = RandomResizedCrop(16, scale=(0.2, 0.6), ratio=(0.5, 2.0))
    for seed in range(50):
        top, left, h, w = t.draw(np.random.default_rng(seed), (30, 40))
        assert 0 <= top <= 30 - h and 0 <= left <= 40 - w
        # rounding of sqrt(area * ratio) to whole pixels widens the bounds a little
        assert 0.2 * 1200 * 0.8 <= h * w <= 0.6 * 1200 * 1.2
        assert 0.5 / 1.3 <= w / h <= 2.0 * 1.3


def test_random_resized_crop_is_crop_then_pil_bilinear_resize():
    img, t = _photo(), RandomResizedCrop((12, 10))
    top, left, h, w = t.draw(np.random.default_rng(3), (img.height, img.width))
    out = t(img, np.random.default_rng(3))
    expect = img.crop((left, top, left + w, top + h)).resize((10, 12), Image.BILINEAR)
    assert out.size == (10, 12) and np.array_equal(np.asarray(out), np.asarray(expect))


def test_random_resized_crop_falls_back_to_the_central_crop():
    # no crop of 100x the area fits: torchvision's fallback is the whole image clipped to ratio
    t = RandomResizedCrop(8, scale=(100.0, 200.0), ratio=(1.0, 1.0))
    assert t.draw(np.random.default_rng(0), (30, 40)) == (0, 5, 30, 30)


def test_color_jitter_ranges_and_order():
    t = ColorJitter(brightness=0.5, contrast=0, saturation=(0.9, 1.1), hue=0.1)
    assert t.brightness == (0.5, 1.5) and t.contrast is None and t.hue == (-0.1, 0.1)
    order, (b, c, s, hue) = t.draw(np.random.default_rng(1), None)
    assert sorted(order) == [0, 1, 2, 3] and c is None
    assert 0.5 <= b <= 1.5 and 0.9 <= s <= 1.1 and -0.1 <= hue <= 0.1


def test_color_jitter_applies_pil_enhancers_in_the_drawn_order():
    img, t = _photo(), ColorJitter(brightness=0.4, saturation=0.4)
    order, factors = t.draw(np.random.default_rng(2), None)
    expect = img
    for i in order:
        if factors[i] is not None:
            enhancer = (ImageEnhance.Brightness, None, ImageEnhance.Color)[i]
            expect = enhancer(expect).enhance(factors[i])
    out = t(img, np.random.default_rng(2))
    assert np.array_equal(np.asarray(out), np.asarray(expect))


def test_hue_shift_turns_red_to_green_and_blue():
    from minitorch.data.transforms_photo import _adjust_hue
    red = Image.new("RGB", (2, 2), (255, 0, 0))
    assert _adjust_hue(red, 1 / 3).getpixel((0, 0)) == (0, 255, 0)
    r, g, b = _adjust_hue(red, -1 / 3).getpixel((0, 0))   # -85 wraps to hue 171 of 256
    assert (g, b) == (0, 255) and r < 10


@pytest.mark.parametrize("bad", [dict(brightness=-1), dict(hue=0.7), dict(contrast="x")])
def test_color_jitter_rejects_bad_ranges(bad):
    with pytest.raises(DataError, match="ColorJitter"):
        ColorJitter(**bad)


def test_random_rotation_is_pil_rotate_with_the_drawn_angle():
    img, t = _photo(), RandomRotation(30, fill=7)
    angle = t.draw(np.random.default_rng(4), None)
    assert -30 <= angle <= 30
    expect = img.rotate(angle, Image.NEAREST, False, None, fillcolor=(7, 7, 7))
    assert np.array_equal(np.asarray(t(img, np.random.default_rng(4))), np.asarray(expect))


def test_continuous_transforms_have_no_views_and_say_why():
    pipeline = Compose([RandomRotation(10), ToTensor(), RandomHorizontalFlip()])
    assert pipeline.continuous == "RandomRotation draws a continuous angle"
    with pytest.raises(DataError, match="continuous angle"):
        pipeline.view_key(np.random.default_rng(0), (8, 8))
    assert Compose([ToTensor(), RandomHorizontalFlip()]).continuous is None


def test_photo_transforms_need_a_pil_image():
    with pytest.raises(DataError, match="takes a PIL image"):
        RandomRotation(5)(np.zeros((3, 4, 4), np.float32), np.random.default_rng(0))
