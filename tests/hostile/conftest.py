"""The finished tiny run every run-level hostile case starts from (copied, never changed)."""
import pytest

from tests.hostile.run_helpers import baseline_mb, finetune, tiny_config


@pytest.fixture(scope="session")
def finished(tmp_path_factory):
    """A whole 1-epoch run of the tiny digits job: the folder the resume cases copy."""
    tmp = tmp_path_factory.mktemp("template")
    out = tmp / "out"
    result = finetune(tiny_config(tmp, out, epochs=1))
    assert result.returncode == 0, result
    return out


@pytest.fixture(scope="session", autouse=True)
def _warm_kernels():
    """The memory baseline (and its one tiny run that fills a cold numba cache) before any
    measured run: a refused run on a cold cache would otherwise be measured compiling."""
    baseline_mb()
