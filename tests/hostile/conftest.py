"""Baselines for the hostile-input suite: the peak memory of each entry point failing early."""
import pytest

from .helpers import finetune, run, tiny_config, write_yaml


@pytest.fixture(scope="session")
def finetune_baseline(tmp_path_factory):
    """Peak RSS of minitorch-finetune stopping at a missing weights file (after importing all
    that a run imports before it reads the weights)."""
    folder = tmp_path_factory.mktemp("baseline")
    cfg = write_yaml(folder / "c.yaml", tiny_config(folder / "out",
                                                     weights=str(folder / "none.h5")))
    outcome = finetune(cfg)
    assert outcome.code == 2, outcome
    return outcome.peak_bytes


@pytest.fixture(scope="session")
def convert_baseline(tmp_path_factory):
    """Peak RSS of scripts/convert_torchvision.py stopping at a missing input."""
    folder = tmp_path_factory.mktemp("baseline")
    outcome = run(["scripts/convert_torchvision.py", folder / "none.pth", folder / "out.h5"])
    assert outcome.code == 2, outcome
    return outcome.peak_bytes
