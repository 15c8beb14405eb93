"""One rank's failure ends the whole ``mpiexec -n 2`` job, with its message, in bounded time."""
import sys

import pytest

HERE = __import__("pathlib").Path(__file__).resolve().parent
WORKER = HERE / "worker_faults.py"


def test_exception_on_one_rank_aborts_job_with_its_message(mpi):
    proc = mpi([WORKER, "exception"], n=2, timeout=60)
    assert proc.returncode != 0
    assert "[rank 1]" in proc.stderr and "ValueError: rank one exploded at step 3" in proc.stderr
    assert "unreachable" not in proc.stdout


def test_sigkilled_rank_ends_job(mpi):
    # MPICH's Hydra notices the dead rank and kills the other within about a second; the
    # timeout turns a hang into a failure instead of a stuck CI job.
    proc = mpi([WORKER, "sigkill"], n=2, timeout=60)
    assert proc.returncode != 0
    assert "unreachable" not in proc.stdout


def test_user_error_on_one_rank_exits_2_with_its_line(mpi):
    proc = mpi([WORKER, "error_one"], n=2, timeout=60)
    assert proc.returncode == 2
    assert "[rank 1] error: only rank one saw this" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_user_error_on_every_rank_prints_one_line_and_exits_2(mpi):
    proc = mpi([WORKER, "error_all"], n=2, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["error: every rank saw this"]


def test_launched_without_mpi4py_names_the_extra(monkeypatch):
    from minitorch.distributed import env
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import fails as if not installed
    with pytest.raises(env.DistributedError, match=r'pip install -e "\.\[mpi\]"'):
        env._import_mpi(launched_size=2)
    assert env._import_mpi(launched_size=1) is None  # mpiexec -n 1: a world of one is fine


def test_alone_exit_with_error_prints_and_exits(capsys):
    import minitorch.distributed as dist
    with pytest.raises(SystemExit) as exc:
        dist.exit_with_error("error: bad thing", code=2)
    assert exc.value.code == 2
    assert capsys.readouterr().err == "error: bad thing\n"


def test_mpiexec_without_mpi4py_tells_how_to_install_the_extra(mpi, tmp_path):
    # A stand-in package that fails to import, first on the path: mpi4py "not installed".
    fake = tmp_path / "mpi4py"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError(\"No module named 'mpi4py'\")\n")
    from .conftest import REPO, worker_env
    env = worker_env()
    env["PYTHONPATH"] = f"{tmp_path}:{env['PYTHONPATH']}"
    out = tmp_path / "out"
    proc = mpi([REPO / "scripts" / "finetune.py", REPO / "configs" / "digits_finetune.yaml",
                "--set", f"output.dir={out}"], n=2, timeout=60, env=env)
    assert proc.returncode == 2
    lines = set(proc.stderr.strip().splitlines())  # every rank says it: they cannot agree
    assert len(lines) == 1 and 'pip install -e ".[mpi]"' in lines.pop()
    assert "Traceback" not in proc.stderr and not out.exists()
