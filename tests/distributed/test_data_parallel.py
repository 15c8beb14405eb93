"""A 2-rank data-parallel run takes the same SGD steps as one process on the global batch."""
import numpy as np
import pytest

HERE = __import__("pathlib").Path(__file__).resolve().parent
WORKER = HERE / "worker_train.py"


def _run(mpi, tmp_path, kind, n):
    out = tmp_path / f"{kind}_{n or 1}.npz"
    proc = mpi([WORKER, out, kind, 4], n=n, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with np.load(out) as f:
        return {k: f[k] for k in f.files}


# conv + BatchNorm + Linear, all trained; and with a frozen conv/BatchNorm stem. (The worker
# also builds plain "mlp" and "conv" models for debugging.)
@pytest.mark.parametrize("kind", ["convbn", "frozen"])
def test_two_ranks_match_one_process_on_the_global_batch(mpi, tmp_path, kind):
    # Each run also asserts in the worker that both ranks are bitwise identical after every step.
    alone = _run(mpi, tmp_path, kind, None)
    pair = _run(mpi, tmp_path, kind, 2)
    assert alone.keys() == pair.keys()
    for name in alone:
        np.testing.assert_allclose(pair[name], alone[name], rtol=1e-5, atol=1e-6, err_msg=name)
    # The runs really trained: every trainable weight moved from rank 0's initialisation.
    last_fc = max(k for k in alone if k.endswith("weight") and not k.startswith("initial."))
    assert not np.allclose(alone[last_fc], alone["initial." + last_fc], atol=1e-3)
