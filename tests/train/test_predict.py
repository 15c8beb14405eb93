"""minitorch-predict and the classifier reader: the recorded eval transform gives validation's
exact inputs, top-k and TTA, and one clear line for each kind of bad input."""
import csv
import json

import numpy as np
import pytest

from minitorch.io import load_attrs, save_state_dict
from minitorch.train.classifier import ClassifierFileError, load_classifier
from minitorch.train.cli import predict_main

from .helpers import REPO, make_weights, run_cli
from .image_helpers import CLASSES, copy_image_folder_run

SHIPPED = REPO / "models" / "weights" / "resnet18_small_w16_digits04.h5"


@pytest.fixture(scope="module")
def run(tmp_path_factory, image_folder_run):
    return copy_image_folder_run(image_folder_run, tmp_path_factory.mktemp("predict"))


def test_checkpoint_records_the_eval_transform(run):
    _, best, _ = run
    attrs = load_attrs(best)
    assert attrs["image_size"] == 16 and attrs["resize"] == "shorter_side"
    assert attrs["crop"] == "center" and attrs["image_mode"] == "RGB"
    assert attrs["in_channels"] == 3 and attrs["class_names"] == sorted(CLASSES)
    assert attrs["mean"] == pytest.approx([0.485, 0.456, 0.406])


def test_predict_input_equals_validation_input_bitwise(run):
    trainer, best, _ = run
    clf = load_classifier(best)
    val = trainer.val_set
    assert len(val) >= 3
    for i in range(len(val)):
        path = val.dataset.samples[val.indices[i]][0]
        expected = np.asarray(val[i][0])
        got = clf.transform(path)
        assert got.dtype == expected.dtype == np.float32 and got.shape == expected.shape
        assert got.tobytes() == expected.tobytes(), path


def test_classifier_is_the_trained_model_in_eval_mode(run):
    trainer, best, _ = run
    clf = load_classifier(best)
    assert not clf.model.training and clf.class_names == trainer.class_names
    x = clf.preprocess([trainer.val_set.dataset.samples[0][0]])
    trainer.model.eval()
    import minitorch as mt
    with mt.no_grad():
        np.testing.assert_array_equal(clf.logits(x), trainer.model(x).numpy())


def test_predict_json_lists_topk_sorted_and_capped(run, tmp_path, capsys):
    _, best, root = run
    out = tmp_path / "p.json"
    assert predict_main([str(best), str(root), "--topk", "10", "--json", str(out)]) == 0
    records = json.loads(out.read_text())
    assert len(records) == 15
    for r in records:
        probs = [p["probability"] for p in r["predictions"]]
        assert len(probs) == len(CLASSES)              # capped by the number of classes
        assert probs == sorted(probs, reverse=True)
        assert sum(probs) == pytest.approx(1.0, abs=1e-5)
        assert {p["class"] for p in r["predictions"]} == set(CLASSES)


def test_predict_accepts_files_folders_and_list_files(run, tmp_path):
    _, best, root = run
    files = sorted(str(p) for p in (root / "dots").iterdir())
    listing = tmp_path / "list.txt"
    listing.write_text("# two images\n" + "\n".join(files[:2]) + "\n\n")
    out = tmp_path / "p.csv"
    assert predict_main([str(best), files[4], str(listing), str(root / "circle"), "--topk",
                         "1", "--csv", str(out)]) == 0
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["path", "class1", "prob1"]
    assert [r[0] for r in rows[1:]] == [files[4], *files[:2]] + sorted(
        str(p) for p in (root / "circle").iterdir())


def _symmetric_image(path):
    from PIL import Image
    rng = np.random.default_rng(3)
    half = rng.integers(0, 255, size=(24, 12, 3), dtype=np.uint8)
    Image.fromarray(np.concatenate([half, half[:, ::-1]], axis=1)).save(path)
    return path


def test_predict_and_evaluate_run_their_forward_once(run, tmp_path, monkeypatch):
    # the CLIs' forward runs each image once: under ops.conv.forward_once, which the kernels
    # they compile on a cold cache (kernels_for(..., inference=True)) are listed for
    from minitorch.nn.module import Module
    from minitorch.ops import conv as conv_ops
    from minitorch.train.cli import evaluate_main
    _, best, root = run
    seen, real = [], Module.__call__

    def call(self, *args, **kwargs):
        if type(self).__name__ == "ResNet":
            seen.append(conv_ops.in_forward_once())
        return real(self, *args, **kwargs)
    monkeypatch.setattr(Module, "__call__", call)
    assert predict_main([str(best), str(root), "--topk", "1"]) == 0
    assert evaluate_main([str(best), "--data", str(root), "--out", str(tmp_path)]) == 0
    assert len(seen) >= 2 and all(seen)


def test_tta_flip_on_a_mirror_symmetric_image_equals_no_tta(run, tmp_path):
    _, best, _ = run
    clf = load_classifier(best)
    image = _symmetric_image(tmp_path / "sym.png")
    x = clf.preprocess([image])
    np.testing.assert_array_equal(x.numpy(), x.numpy()[..., ::-1])   # symmetric input
    plain, flipped = clf.probabilities(x), clf.probabilities(x, tta="flip")
    np.testing.assert_allclose(flipped, plain, rtol=1e-6, atol=1e-7)
    asym = clf.preprocess([str(sorted((run[2] / "dots").iterdir())[0])])
    assert not np.allclose(clf.probabilities(asym), clf.probabilities(asym, tta="flip"),
                           rtol=1e-7, atol=1e-7)


def test_python_api_takes_paths_pil_images_and_tensors(run):
    from PIL import Image
    _, best, root = run
    clf = load_classifier(best)
    path = str(sorted((root / "stripes").iterdir())[1])
    by_path = clf.predict(path, topk=2)
    by_pil = clf.predict([Image.open(path)], topk=2)
    by_tensor = clf.predict(clf.preprocess([path]), topk=2)
    assert by_path == by_pil == by_tensor and len(by_path[0]) == 2


def test_shipped_weights_file_derives_its_transform_from_its_config():
    clf = load_classifier(SHIPPED)
    t = clf.transform
    assert (t.image_size, t.resize, t.image_mode, t.in_channels) == (32, "square", "L", 3)
    assert clf.class_names == ["0", "1", "2", "3", "4"]


def test_shipped_digits_model_predicts_digits_from_image_files(tmp_path):
    """A digit saved as a PNG comes back as the same digit (the square grayscale pipeline)."""
    from PIL import Image
    from minitorch.data.datasets.digits import _load_raw
    images, labels = _load_raw()
    clf = load_classifier(SHIPPED)
    paths, truth = [], []
    for i in np.flatnonzero(labels < 5)[:20]:
        path = tmp_path / f"{i}.png"
        Image.fromarray(np.round(images[i] * 255).astype(np.uint8)).save(path)
        paths.append(str(path))
        truth.append(str(labels[i]))
    top1 = [top[0][0] for top in clf.predict(paths, topk=1)]
    assert np.mean(np.array(top1) == np.array(truth)) >= 0.9


# ----- bad input ---------------------------------------------------------------------------

def _error_lines(stderr):
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_a_file_without_class_names_is_refused_in_one_line(tmp_path):
    weights = make_weights(tmp_path / "backbone.h5", width=4)
    with pytest.raises(ClassifierFileError, match="records no class names"):
        load_classifier(weights)


def test_a_file_without_a_transform_names_what_is_missing(tmp_path):
    weights = make_weights(tmp_path / "w.h5", width=4, attrs={"class_names": list("abcde")})
    with pytest.raises(ClassifierFileError, match="missing image_size, resize"):
        load_classifier(weights)


def test_undecodable_image_is_named_the_others_predicted_exit_2(run, tmp_path, capsys):
    _, best, root = run
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG not really")
    good = str(sorted((root / "dots").iterdir())[0])
    assert predict_main([str(best), good, str(bad), "--topk", "1"]) == 2
    captured = capsys.readouterr()
    assert good in captured.out and "broken.png" not in captured.out
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "broken.png" in errors[0] and "decode" in errors[0]
    assert predict_main([str(best), good, str(bad), "--skip-bad"]) == 0
    assert "warning: skipped" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["no_class_names", "empty_folder", "topk_0", "missing_path",
                                  "not_hdf5"])
def test_bad_input_is_one_error_line_and_exit_2(run, tmp_path, case, capsys):
    _, best, root = run
    image = str(sorted((root / "dots").iterdir())[0])
    (tmp_path / "empty").mkdir()
    args = {
        "no_class_names": [make_weights(tmp_path / "b.h5", width=4), image],
        "empty_folder": [best, tmp_path / "empty"],
        "topk_0": [best, image, "--topk", "0"],
        "missing_path": [best, tmp_path / "nope.jpg"],
        "not_hdf5": [tmp_path / "x.h5", image],
    }[case]
    (tmp_path / "x.h5").write_text("hello")
    assert predict_main([str(a) for a in args]) == 2
    captured = capsys.readouterr()
    assert len(_error_lines(captured.err)) == 1 and captured.out == "", captured.err


def test_cli_error_has_no_traceback_in_a_fresh_process(tmp_path):
    result = run_cli(["-c", "import sys; from minitorch.train.cli import predict_main; "
                            "sys.exit(predict_main())", SHIPPED, tmp_path / "missing.png"])
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert _error_lines(result.stderr) == [
        f"error: no such image, folder or list file: {tmp_path / 'missing.png'}"]


@pytest.mark.parametrize("suffix", [".h5", ".safetensors"])
def test_model_weights_may_be_a_checkpoint_or_safetensors(run, tmp_path, suffix):
    """Finetuning can start from a run's checkpoint (or its safetensors export): the backbone
    comes from the file and the class names decide whether the head is kept."""
    from minitorch.train.build import read_weights
    from minitorch.train.export import export_file
    _, best, _ = run
    path = best if suffix == ".h5" else tmp_path / "m.safetensors"
    if suffix == ".safetensors":
        export_file(best, path)
    state, attrs = read_weights(str(path))
    assert "conv1.weight" in state and attrs["class_names"] == sorted(CLASSES)


def test_npz_run_predict_input_equals_validation_input_bitwise(tmp_path):
    """The square grayscale pipeline (npz, one channel, resized 10 -> 12): a PNG of a
    validation image gives exactly the tensor validation fed the network."""
    from PIL import Image
    from minitorch.train.config import load_config
    from minitorch.train.trainer import Trainer
    from .helpers import write_config
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(24, 10, 10), dtype=np.uint8)
    np.savez(tmp_path / "d.npz", x=x, y=np.arange(24) % 3)
    cfg = {"model": {"variant": "small", "width": 4, "in_channels": 1},
           "data": {"dataset": "npz", "root": str(tmp_path / "d.npz"), "image_size": 12,
                    "val_fraction": 0.25, "batch_size": 8},
           "train": {"epochs": 1, "feature_cache": "off"},
           "output": {"dir": str(tmp_path / "run"), "plot": False}}
    trainer = Trainer(load_config(write_config(tmp_path / "c.yaml", cfg)),
                      out=open(tmp_path / "log", "w"))
    trainer.fit()
    clf = load_classifier(tmp_path / "run" / "best.h5")
    assert (clf.transform.resize, clf.transform.image_mode) == ("square", "L")
    for i, index in enumerate(trainer.val_set.indices):
        Image.fromarray(x[index]).save(tmp_path / f"{index}.png")
        got = clf.transform(str(tmp_path / f"{index}.png"))
        assert got.tobytes() == np.asarray(trainer.val_set[i][0]).tobytes(), index
