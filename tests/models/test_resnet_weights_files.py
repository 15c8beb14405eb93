"""resnet18(weights=...) takes a weights file, a checkpoint (its model) or a .safetensors file,
and resnet18_arguments reads the architecture back from a state dict."""
import numpy as np
import pytest

import minitorch as mt
from minitorch.io import save_checkpoint, save_safetensors, save_state_dict
from models import resnet18
from models.resnet import WeightsMismatchError, resnet18_arguments


def _model():
    mt.manual_seed(3)
    return resnet18(num_classes=4, variant="small", width=4)


def _same(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    return all(sa[k].numpy().tobytes() == sb[k].numpy().tobytes() for k in sa)


@pytest.mark.parametrize("kind", ["weights", "checkpoint", "safetensors"])
def test_weights_accepts_every_file_kind(tmp_path, kind):
    model = _model()
    path = tmp_path / {"weights": "w.h5", "checkpoint": "c.h5",
                       "safetensors": "w.safetensors"}[kind]
    if kind == "weights":
        save_state_dict(model.state_dict(), path)
    elif kind == "checkpoint":
        save_checkpoint(path, model=model, epoch=1, global_step=3)
    else:
        save_safetensors(model.state_dict(), path)
    mt.manual_seed(99)
    loaded = resnet18(num_classes=4, variant="small", width=4, weights=str(path))
    assert _same(model, loaded)


def test_a_checkpoint_with_another_head_explains_the_mismatch(tmp_path):
    save_checkpoint(tmp_path / "c.h5", model=_model(), epoch=1, global_step=1)
    with pytest.raises(WeightsMismatchError, match="4-class head"):
        resnet18(num_classes=7, variant="small", width=4, weights=tmp_path / "c.h5")


@pytest.mark.parametrize("variant,width,channels,classes", [("small", 4, 1, 3),
                                                             ("imagenet", 8, 3, 10)])
def test_resnet18_arguments_reads_the_architecture(variant, width, channels, classes):
    model = resnet18(num_classes=classes, variant=variant, width=width, in_channels=channels)
    assert resnet18_arguments(model.state_dict()) == dict(
        num_classes=classes, variant=variant, width=width, in_channels=channels)
    with pytest.raises(ValueError, match="no fc.weight"):
        resnet18_arguments({"conv1.weight": np.zeros((4, 3, 3, 3))})
