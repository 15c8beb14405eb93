"""minitorch-export: ONNX (BatchNorm folded, dynamic batch) checked in onnxruntime, safetensors
and HDF5 copies that predict reads like the checkpoint; unsupported layers are one clear line."""
import numpy as np
import pytest

import minitorch as mt
from minitorch import nn
from minitorch.train.classifier import load_classifier
from minitorch.train.cli import export_main, predict_main
from models import resnet18

from .image_helpers import copy_image_folder_run

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def run(tmp_path_factory, image_folder_run):
    _, best, root = copy_image_folder_run(image_folder_run, tmp_path_factory.mktemp("export"))
    return best, root


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def test_onnx_export_of_a_checkpoint_matches_minitorch(run, tmp_path, capsys):
    best, _ = run
    out = tmp_path / "m.onnx"
    assert export_main([str(best), str(out)]) == 0
    assert "onnxruntime matches minitorch" in capsys.readouterr().out
    proto = onnx.load(str(out))
    ops = {n.op_type for n in proto.graph.node}
    assert "BatchNormalization" not in ops and "Conv" in ops
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    clf = load_classifier(best)
    session = _session(out)
    for batch in (1, 5):                                     # the batch axis is dynamic
        x = np.random.default_rng(batch).standard_normal((batch, 3, 16, 16)).astype(np.float32)
        assert _rel(session.run(None, {"input": x})[0], clf.logits(x)) < 1e-5


def test_onnx_export_of_the_imagenet_stem_matches_minitorch(tmp_path):
    from minitorch.export import export_onnx
    mt.manual_seed(0)
    model = resnet18(num_classes=6, variant="imagenet", width=8).eval()
    for name, buf in model.named_buffers():
        if name.endswith("running_var"):
            buf._data[...] = np.linspace(0.5, 2.0, buf._data.size, dtype=np.float32)
        elif name.endswith("running_mean"):
            buf._data[...] = np.linspace(-0.3, 0.3, buf._data.size, dtype=np.float32)
    export_onnx(model, str(tmp_path / "i.onnx"), (3, 40, 40))
    x = np.random.default_rng(0).standard_normal((2, 3, 40, 40)).astype(np.float32)
    with mt.no_grad():
        want = model(mt.tensor(x)).numpy()
    assert _rel(_session(tmp_path / "i.onnx").run(None, {"input": x})[0], want) < 1e-5


class Swish(nn.Module):
    def forward(self, x):
        return x * x.sigmoid()


def test_a_layer_onnx_cannot_express_is_named():
    from minitorch.export import OnnxExportError, build_onnx_model
    model = resnet18(num_classes=3, variant="small", width=4)
    model.fc = nn.Sequential(Swish(), nn.Linear(32, 3))
    with pytest.raises(OnnxExportError, match=r"cannot export layer fc\.0 \(Swish\)"):
        build_onnx_model(model.eval(), (3, 8, 8))


def test_safetensors_and_h5_exports_predict_like_the_checkpoint(run, tmp_path):
    best, root = run
    images = sorted(str(p) for p in (root / "stripes").iterdir())
    want = load_classifier(best).predict(images, topk=3)
    for name in ("m.safetensors", "m.h5"):
        assert export_main([str(best), str(tmp_path / name)]) == 0
        clf = load_classifier(tmp_path / name)
        assert clf.transform.to_attrs() == load_classifier(best).transform.to_attrs()
        assert clf.predict(images, topk=3) == want


def test_export_bad_suffix_is_one_line_exit_2(run, tmp_path, capsys):
    best, _ = run
    assert export_main([str(best), str(tmp_path / "m.pt")]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "unknown suffix '.pt'" in err
    assert not (tmp_path / "m.pt").exists()


def test_a_foreign_safetensors_file_exports_to_h5_keeping_what_fits(tmp_path):
    """Metadata written by other tools may be any JSON: what a weights file cannot hold as an
    attribute is left out, not an error."""
    import safetensors.numpy as st
    from minitorch.io import load_attrs
    from minitorch.train.export import export_file
    model = resnet18(num_classes=3, variant="small", width=4)
    st.save_file({k: v.numpy() for k, v in model.state_dict().items()},
                 str(tmp_path / "f.safetensors"),
                 metadata={"format": "pt", "nested": '{"a": [1, {"b": 2}]}', "note": "hi"})
    export_file(tmp_path / "f.safetensors", tmp_path / "f.h5")
    attrs = load_attrs(tmp_path / "f.h5")
    assert attrs["note"] == "hi" and "nested" not in attrs
    loaded = resnet18(num_classes=3, variant="small", width=4, weights=tmp_path / "f.h5")
    assert loaded.state_dict()["fc.weight"].numpy().tobytes() == \
        model.state_dict()["fc.weight"].numpy().tobytes()
