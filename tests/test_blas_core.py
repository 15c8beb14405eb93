"""``kernels.blas_core``: OpenBLAS's AVX-512 kernels where it runs its AVX2 ones."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from minitorch.kernels import blas_core

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_FLAGS = "fpu sse2 avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl"


class _CFunction:
    """A ctypes function's face: callable, with a ``restype``."""

    def __init__(self, f):
        self.f, self.restype = f, None

    def __call__(self):
        return self.f()


class _FakeOpenBLAS:
    """The three entry points, choosing as OpenBLAS does: the variable, or its detection."""

    def __init__(self, detected):
        self.detected, self.core, self.calls = detected, None, []
        self.gotoblas_corename = _CFunction(lambda: (self.core or "Unknown").encode())

    def gotoblas_dynamic_quit(self):
        self.calls.append("quit")
        self.core = None

    def gotoblas_dynamic_init(self):
        self.calls.append("init")
        if self.core is None:
            self.core = os.environ.get("OPENBLAS_CORETYPE", self.detected)


def _fake(monkeypatch, core, avx512=True, agree=True):
    lib = _FakeOpenBLAS(core)
    lib.core = core   # as chosen when it loaded
    monkeypatch.setattr(blas_core, "_openblas_libraries", lambda: [lib])
    monkeypatch.setattr(blas_core, "cpu_has_avx512", lambda: avx512)
    monkeypatch.setattr(blas_core, "_products_agree", lambda: agree)
    return lib


@pytest.mark.parametrize("core", ["Haswell", "Zen"])
def test_an_avx2_choice_on_an_avx512_cpu_is_made_again_as_skylakex(monkeypatch, core):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    lib = _fake(monkeypatch, core)
    assert blas_core.prefer_avx512() == ["SkylakeX"]
    assert lib.calls == ["quit", "init"]
    assert os.environ["OPENBLAS_CORETYPE"] == "Haswell"   # the user's variable as it was


def test_the_variable_is_unset_again_when_the_user_had_none(monkeypatch):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    _fake(monkeypatch, "Haswell")
    assert blas_core.prefer_avx512() == ["SkylakeX"]
    assert "OPENBLAS_CORETYPE" not in os.environ


@pytest.mark.parametrize("core, avx512", [("Haswell", False), ("SkylakeX", True),
                                          ("SapphireRapids", True), ("Sandybridge", True)])
def test_nothing_changes_without_avx512_or_off_the_avx2_kernels(monkeypatch, core, avx512):
    lib = _fake(monkeypatch, core, avx512=avx512)
    assert blas_core.prefer_avx512() == [core]
    assert lib.calls == []


def test_kernels_that_disagree_with_float64_are_given_up(monkeypatch):
    lib = _fake(monkeypatch, "Haswell", agree=False)
    assert blas_core.prefer_avx512() == ["Haswell"]
    assert lib.calls == ["quit", "init", "quit", "init"]


@pytest.mark.parametrize("flags, expected", [
    (_FLAGS, True), (_FLAGS.replace(" avx512bw", ""), False),
    (_FLAGS.replace(" avx512vl", ""), False), ("fpu sse2 avx2 fma", False)])
def test_cpu_has_avx512_needs_every_subset_the_kernels_use(tmp_path, flags, expected):
    info = tmp_path / "cpuinfo"
    info.write_text(f"processor\t: 0\nmodel name\t: X\nflags\t\t: {flags}\n")
    assert blas_core.cpu_has_avx512(str(info)) is expected
    assert blas_core.cpu_has_avx512(str(tmp_path / "missing")) is False


def test_the_product_check_catches_wrong_products(monkeypatch):
    assert blas_core._products_agree()
    real = np.ndarray.__matmul__
    monkeypatch.setattr(np, "allclose", lambda a, b, **kw: False)
    assert not blas_core._products_agree()
    assert np.ndarray.__matmul__ is real


_SWITCH = r'''
import json, os, sys
import numpy as np
import minitorch
from minitorch.kernels import blas_core
s = minitorch.runtime.configure(blas_avx512=sys.argv[1] == "1")
rng = np.random.default_rng(1)
a, b = rng.standard_normal((300, 400), np.float32), rng.standard_normal((400, 200), np.float32)
err = float(np.abs(a @ b - a.astype(np.float64) @ b.astype(np.float64)).max())
print(json.dumps({"kernels": s.blas_kernels, "now": blas_core.core_names(),
                  "env": os.environ.get("OPENBLAS_CORETYPE"), "err": err,
                  "avx512": blas_core.cpu_has_avx512()}))
'''


@pytest.mark.parametrize("avx512", [True, False])
def test_configure_in_a_process_told_to_use_the_avx2_kernels(avx512):
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
    out = subprocess.run([sys.executable, "-c", _SWITCH, "1" if avx512 else "0"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if not r["now"]:   # numpy's BLAS is not an OpenBLAS built for every core
        assert r["kernels"] == []
    else:
        want = "SkylakeX" if avx512 and r["avx512"] else "Haswell"
        assert r["kernels"] == r["now"] == [want] * len(r["now"])
    assert r["env"] == "Haswell" and r["err"] < 1e-3
