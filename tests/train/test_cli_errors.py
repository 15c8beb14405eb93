"""Every bad input of issue 5: one ``error:`` line naming the culprit, exit code 2, no
traceback, and the output folder exactly as it was (a previous run's files untouched)."""
import numpy as np
import pytest
from PIL import Image

from minitorch.train.cli import evaluate_main, finetune_main
from tests.train.helpers import (config_dict, make_weights, run_cli, snapshot,
                                 write_config)


@pytest.fixture
def out(tmp_path):
    """An output folder holding a previous run's files, which an error must not touch."""
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "metrics.jsonl").write_text('{"epoch": 1, "val_acc": 0.5}\n')
    (folder / "config.yaml").write_text("seed: 0\n")
    (folder / "best.h5").write_bytes(b"previous best")
    return folder


def _image_folder(root, classes=("cat", "dog"), per_class=3):
    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / c / f"{i}.png")
    return root


def _expect_user_error(capsys, out, argv, *fragments, main=finetune_main):
    before = snapshot(out)
    capsys.readouterr()
    assert main([str(a) for a in argv]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in captured.err + captured.out
    assert snapshot(out) == before
    return lines[0]


def _config(tmp_path, out, **sections):
    return write_config(tmp_path / "config.yaml", config_dict(out, **sections))


def test_misspelt_key_is_named_with_a_suggestion(tmp_path, out, capsys):
    cfg = config_dict(out)
    cfg["model"]["widht"] = 8
    config = write_config(tmp_path / "c.yaml", cfg)
    _expect_user_error(capsys, out, [config], "model.widht: unknown key",
                       "did you mean 'model.width'")


def test_all_problems_of_a_config_in_one_line(tmp_path, out, capsys):
    line = _expect_user_error(capsys, out,
                              [_config(tmp_path, out), "--set", "train.epochs=two",
                               "--set", "train.optimizer.lr=-1"],
                              "train.epochs: expected integer", "train.optimizer.lr: must be > 0")
    assert "2 problems" in line


def test_value_out_of_range(tmp_path, out, capsys):
    _expect_user_error(capsys, out, [_config(tmp_path, out), "--set", "data.val_fraction=1.5"],
                       "data.val_fraction", "< 1.0")


def test_missing_config_file(tmp_path, out, capsys):
    _expect_user_error(capsys, out, [tmp_path / "nope.yaml"], "config file not found",
                       "nope.yaml")


def test_missing_weights_file(tmp_path, out, capsys):
    config = _config(tmp_path, out, model={"weights": str(tmp_path / "gone.h5")})
    _expect_user_error(capsys, out, [config], "model.weights: file not found", "gone.h5")


@pytest.mark.parametrize("setting, key", [
    ("model.freeze=[layr3]", "model.freeze: prefix 'layr3'"),
    ("train.layer_lr={layr3: 0.1}", "train.layer_lr: prefix 'layr3'"),
])
def test_a_setup_error_about_a_key_names_the_config_file(tmp_path, out, capsys, setting, key):
    config = _config(tmp_path, out)
    line = _expect_user_error(capsys, out, [config, "--set", setting], key)
    assert line.startswith(f"error: {config}: {key}"), line


def test_truncated_weights_file(tmp_path, out, capsys):
    weights = make_weights(tmp_path / "w.h5")
    data = weights.read_bytes()
    weights.write_bytes(data[:len(data) // 2])
    config = _config(tmp_path, out, model={"weights": str(weights), "freeze": "backbone"})
    _expect_user_error(capsys, out, [config], "model.weights:", "w.h5")


def test_weights_of_another_architecture(tmp_path, out, capsys):
    weights = make_weights(tmp_path / "w4.h5", width=4)
    config = _config(tmp_path, out, model={"weights": str(weights), "width": 8,
                                           "freeze": "backbone"})
    _expect_user_error(capsys, out, [config], "w4.h5 does not fit resnet18(variant='small', "
                       "width=8", "size mismatch for conv1.weight: (4, 3, 3, 3) in the file, "
                       "(8, 3, 3, 3) in the model")


def test_empty_image_folder(tmp_path, out, capsys):
    (tmp_path / "empty").mkdir()
    config = _config(tmp_path, out, data={"dataset": "image_folder",
                                          "root": str(tmp_path / "empty"), "classes": None})
    _expect_user_error(capsys, out, [config], "has no class sub-folders", "empty")


def test_image_that_fails_to_decode_is_named(tmp_path, out, capsys):
    root = _image_folder(tmp_path / "images")
    (root / "dog" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    config = _config(tmp_path, out, data={"dataset": "image_folder", "root": str(root),
                                          "classes": None},
                     model={"num_classes": None})
    _expect_user_error(capsys, out, [config], "cannot decode image",
                       str(root / "dog" / "broken.png"))


def test_class_list_that_does_not_match_the_folders(tmp_path, out, capsys):
    root = _image_folder(tmp_path / "images")
    config = _config(tmp_path, out, data={"dataset": "image_folder", "root": str(root),
                                          "classes": ["cat", "cow"]},
                     model={"num_classes": None})
    _expect_user_error(capsys, out, [config], "no folder for class 'cow'")


def test_num_classes_that_does_not_match_the_data(tmp_path, out, capsys):
    config = _config(tmp_path, out, model={"num_classes": 3})
    _expect_user_error(capsys, out, [config], "model.num_classes is 3 but the data has 5")


def test_freeze_prefix_that_matches_nothing(tmp_path, out, capsys):
    config = _config(tmp_path, out, model={"freeze": ["layer9"]})
    _expect_user_error(capsys, out, [config], "model.freeze: prefix 'layer9'")


def test_resume_from_a_missing_or_corrupt_checkpoint(tmp_path, out, capsys):
    config = _config(tmp_path, out)
    _expect_user_error(capsys, out, [config, "--resume", tmp_path / "nope.h5"],
                       "--resume: checkpoint not found")
    (tmp_path / "bad.h5").write_bytes(b"garbage")
    _expect_user_error(capsys, out, [config, "--resume", tmp_path / "bad.h5"], "--resume:",
                       "bad.h5")


def test_unknown_command_line_option(tmp_path, out, capsys):
    _expect_user_error(capsys, out, [_config(tmp_path, out), "--frobnicate"],
                       "unrecognized arguments: --frobnicate")


def test_evaluate_a_file_that_is_not_a_checkpoint(tmp_path, out, capsys):
    weights = make_weights(tmp_path / "w.h5")
    _expect_user_error(capsys, out, [weights], "not a checkpoint", main=evaluate_main)


@pytest.mark.parametrize("setting, fragment", [
    ("model.widht=8", "did you mean 'model.width'"),
    ("model.weights=/nonexistent/w.h5", "model.weights: file not found"),
])
def test_the_process_exits_2_with_one_line_and_no_traceback(tmp_path, out, setting, fragment):
    before = snapshot(out)
    proc = run_cli(["-m", "minitorch.train.cli", _config(tmp_path, out), "--set", setting])
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert snapshot(out) == before


def test_output_piped_into_a_reader_that_stops_is_no_traceback(tmp_path):
    # ``minitorch-predict ... | head -1``: the reader closes the pipe before the table is written
    import subprocess
    import sys
    from tests.train.helpers import REPO
    images = _image_folder(tmp_path / "photos")
    weights = REPO / "models" / "weights" / "resnet18_small_w16_digits04.h5"
    code = "import sys; from minitorch.train.cli import predict_main; sys.exit(predict_main())"
    proc = subprocess.Popen([sys.executable, "-c", code, str(weights), str(images)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, stderr   # 128 + SIGPIPE, as a shell tool's
    assert "Traceback" not in stderr and "Broken pipe" not in stderr, stderr
