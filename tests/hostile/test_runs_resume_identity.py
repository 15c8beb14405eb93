"""Resuming with another seed, other classes or another dataset is refused (one line naming
every difference, nothing written) unless --resume-anyway says to go on."""
import shutil

import pytest

from tests.hostile.run_helpers import (assert_one_line, case_result, finetune,
                                       finetune_cases_in_one_process, resume_case, tiny_config)



CHANGES = {
    "seed": ({"seed": 1}, "seed: 0 -> 1"),
    "classes": ({"data": {"classes": [5, 7]}}, "data.classes: [5, 6] -> [5, 7]"),
    "image_size": ({"data": {"image_size": 12}}, "data.image_size: 8 -> 12"),
    "val_fraction": ({"data": {"val_fraction": 0.3}}, "data.val_fraction"),
}


@pytest.fixture(scope="module")
def refused(tmp_path_factory, finished):
    """Each change's resume of a copy of the finished run, all in one worker process."""
    tmp = tmp_path_factory.mktemp("identity")
    cases = [resume_case(tmp, finished, name, name, **change)
             for name, (change, _) in CHANGES.items()]
    return finetune_cases_in_one_process(tmp, cases)


@pytest.mark.parametrize("name", list(CHANGES))
def test_other_data_is_refused_and_nothing_written(refused, name):
    _, named = CHANGES[name]
    assert_one_line(case_result(refused, name), contains=(named, "--resume-anyway"))
    got = refused["results"][name]
    assert got["before"] is not None and got["after"] == got["before"]


def test_resume_anyway_goes_on(tmp_path, finished):
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    config = tiny_config(tmp_path, out, epochs=2, seed=1)
    result = finetune(config, "--resume", "auto", "--resume-anyway")
    assert result.returncode == 0, result
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2
