"""Resuming with another seed, other classes or another dataset is refused (one line naming
every difference, nothing written) unless --resume-anyway says to go on."""
import shutil

import pytest

from tests.hostile.run_helpers import assert_refused, finetune, folder_digest, tiny_config



@pytest.mark.parametrize("change, named", [
    ({"seed": 1}, "seed: 0 -> 1"),
    ({"data": {"classes": [5, 7]}}, "data.classes: [5, 6] -> [5, 7]"),
    ({"data": {"image_size": 12}}, "data.image_size: 8 -> 12"),
    ({"data": {"val_fraction": 0.3}}, "data.val_fraction"),
])
def test_other_data_is_refused_and_nothing_written(tmp_path, finished, change, named):
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    before = folder_digest(out)
    config = tiny_config(tmp_path, out, epochs=2, **change)
    assert_refused(finetune(config, "--resume", "auto"), out, before,
                   contains=(named, "--resume-anyway"))


def test_resume_anyway_goes_on(tmp_path, finished):
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    config = tiny_config(tmp_path, out, epochs=2, seed=1)
    result = finetune(config, "--resume", "auto", "--resume-anyway")
    assert result.returncode == 0, result
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2
