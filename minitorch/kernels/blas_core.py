"""OpenBLAS's AVX-512 kernels where it was left on its AVX2 ones.

numpy's wheels ship OpenBLAS built for every x86 core (DYNAMIC_ARCH); it picks one kernel set
when it loads: by CPU model, or the one ``OPENBLAS_CORETYPE`` names. Machines set that variable
for all processes (``Haswell`` for reproducible numbers across a fleet, or as a workaround for
hypervisors that once lost AVX-512 state), and CPUs newer than OpenBLAS's tables get its AVX2
(Haswell) set too. On a CPU with AVX-512 that halves single-precision products (measured on an
AMD EPYC: 130 against 240 GFLOP/s on one thread; ``scripts/benchmark.py`` reports the set in
use), where PyTorch's own kernels use AVX-512 whatever the variable says.

``prefer_avx512`` re-runs OpenBLAS's choice through its exported entry points, with the variable
naming the AVX-512 set (``SkylakeX``) for the duration of the call only: ``gotoblas_dynamic_quit``
forgets the choice, ``gotoblas_dynamic_init`` makes it again, as at load time. Only
``runtime.configure`` calls it (process tuning is explicit; ``configure(blas_avx512=False)``
keeps OpenBLAS's set). It changes nothing unless OpenBLAS runs its AVX2 set and the CPU reports
(in ``/proc/cpuinfo``, which the kernel clears when the OS does not save AVX-512 state) every
AVX-512 subset the SkylakeX kernels use; afterwards it checks a product against float64 and goes
back to the previous set if they disagree. The products then differ from the AVX2 kernels' by
float32 rounding only (another summation order).
"""
import ctypes
import os

import numpy as np

__all__ = ["prefer_avx512", "core_names", "cpu_has_avx512"]

# OpenBLAS's names for its AVX2 kernels (what the fallback picks), and its AVX-512 set
_AVX2_CORES = {"haswell", "zen"}
_AVX512_CORE = "SkylakeX"
# the subsets OpenBLAS's SkylakeX kernels are compiled for
_AVX512_FLAGS = {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}


def cpu_has_avx512(cpuinfo="/proc/cpuinfo") -> bool:
    """Whether the CPU reports every AVX-512 subset of OpenBLAS's SkylakeX kernels (Linux)."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith("flags"):
                    return _AVX512_FLAGS <= set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return False


def prefer_avx512() -> list:
    """Switch each loaded OpenBLAS that runs its AVX2 kernels on an AVX-512 CPU to its AVX-512
    ones (see the module docstring); the kernel sets in use afterwards, as ``core_names``."""
    names = []
    for dynlib in _openblas_libraries():
        core = _core_name(dynlib)
        if core.lower() in _AVX2_CORES and cpu_has_avx512():
            _choose(dynlib, _AVX512_CORE)
            if not _products_agree():
                _choose(dynlib, core)   # the previous set again
            core = _core_name(dynlib)
        names.append(core)
    return names


def core_names() -> list:
    """The kernel set (OpenBLAS's name, e.g. "Haswell") of each loaded OpenBLAS that chooses
    its kernels at run time (empty without threadpoolctl or such a library)."""
    return [_core_name(dynlib) for dynlib in _openblas_libraries()]


def _openblas_libraries() -> list:
    """The ctypes handles of the loaded OpenBLAS libraries built for every core (the others'
    kernels are fixed when they are built)."""
    try:
        from threadpoolctl import ThreadpoolController
        libs = ThreadpoolController().select(internal_api="openblas").lib_controllers
    except Exception:  # noqa: BLE001  (no threadpoolctl, or it cannot inspect this process)
        return []
    return [lib.dynlib for lib in libs if _entry_points(lib.dynlib)]


def _entry_points(dynlib) -> bool:
    return all(hasattr(dynlib, f) for f in
               ("gotoblas_dynamic_quit", "gotoblas_dynamic_init", "gotoblas_corename"))


def _core_name(dynlib) -> str:
    """The name of the kernel set OpenBLAS uses now."""
    dynlib.gotoblas_corename.restype = ctypes.c_char_p
    return dynlib.gotoblas_corename().decode()


def _choose(dynlib, core) -> None:
    """OpenBLAS's kernel choice made again, with ``OPENBLAS_CORETYPE=core`` for the duration of
    the call (``os.environ`` sets the C environment OpenBLAS reads too)."""
    saved = os.environ.get("OPENBLAS_CORETYPE")
    try:
        os.environ["OPENBLAS_CORETYPE"] = core
        dynlib.gotoblas_dynamic_quit()
        dynlib.gotoblas_dynamic_init()
    finally:
        os.environ.pop("OPENBLAS_CORETYPE", None)
        if saved is not None:
            os.environ["OPENBLAS_CORETYPE"] = saved


def _products_agree() -> bool:
    """float32 products through numpy's BLAS against float64, to float32 rounding: one small
    (OpenBLAS's small-matrix kernels) and one through its blocked GEMM."""
    rng = np.random.default_rng(0)
    for m, k, n in ((24, 40, 16), (256, 320, 288)):
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        exact = a.astype(np.float64) @ b.astype(np.float64)
        if not np.allclose(a @ b, exact, rtol=1e-5, atol=1e-4 * np.sqrt(k)):
            return False
    return True
