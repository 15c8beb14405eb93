"""The suite under pytest-xdist (``python -m pytest -n 2``): what runs once, what stays together.

* Tests that share a module- or class-scoped fixture of this suite (a trained run, a folder of
  images) are sent to one worker (xdist's ``loadgroup``, one group per module), so the fixture
  is made once and not once per worker. Everything else is dealt out test by test.
* Tests that compile the same kernel signatures on a cold cache, signatures that the suite's
  pre-compile (``tests/conftest.py``) does not cover, stay together too (``COMPILE_GROUPS``):
  dealt out test by test, both workers compiled the same Winograd kernels at once (the
  F(4x4, 3x3) ones and the per-plane kernels the scatter tests keep as references).
* Session fixtures are made once per worker: each is a few seconds warm, less than keeping
  their users on one worker would cost.
* ``one_worker_at_a_time`` serialises a step across the workers of one run (the cold-cache
  kernel compile: the first worker compiles, the next finds the cache warm).

Without xdist, or with ``-p no:xdist``, all of this does nothing.
"""
import contextlib
import fcntl
import os

import pytest

__all__ = ["COMPILE_GROUPS", "group_by_shared_fixtures", "mark_groups", "one_worker_at_a_time"]

_SHARED_SCOPES = ("class", "module", "package")
_LOADGROUP_ENV = "MINITORCH_TESTS_LOADGROUP"

# group name -> the test modules whose first tests compile the same kernels for signatures used
# nowhere else in the suite (F(4x4, 3x3), the differential programs' ops): the first test compiles,
# the others on the same worker load numba's cache
COMPILE_GROUPS = {
    "winograd-kernels": ("tests/kernels/test_winograd_kernels.py",
                         "tests/kernels/test_winograd43_kernels.py",
                         "tests/kernels/test_winograd43_grad_kernels.py",
                         "tests/kernels/test_winograd_scatter_kernels.py"),
    "nn-programs": ("tests/differential/test_nn_programs.py",),
    "optim-programs": ("tests/differential/test_optim_programs.py",),
}
_MODULE_GROUP = {module: group for group, modules in COMPILE_GROUPS.items() for module in modules}


def _xdist_dist(config):
    return getattr(config.option, "dist", "no")


def group_by_shared_fixtures(config):
    """``-n N`` alone means xdist's per-test ``load``: make it ``loadgroup`` so the groups
    below hold (xdist's own ``--dist load`` default is applied before any conftest sees it)."""
    if _xdist_dist(config) == "load":
        config.option.dist = "loadgroup"
        # the workers parse the command line again (their dist is "load", so xdist tells them
        # loadgroup=False) before any conftest runs: tell them through their environment
        os.environ[_LOADGROUP_ENV] = "1"
    if hasattr(config, "workerinput") and os.environ.get(_LOADGROUP_ENV) == "1":
        config.option.loadgroup = True


def _shares_a_fixture(item):
    """Does ``item`` use a class/module/package-scoped fixture defined in this suite?"""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    for defs in info.name2fixturedefs.values():
        fixture = defs[-1]
        if fixture.scope in _SHARED_SCOPES and fixture.baseid.startswith("tests"):
            return True
    return False


def mark_groups(config, items):
    """Mark every test that shares a module's fixture with that module's xdist group, and every
    test of a ``COMPILE_GROUPS`` module with its group."""
    # a worker's own ``dist`` is "no"; xdist tells it the run's choice in ``option.loadgroup``
    if not (getattr(config.option, "loadgroup", False) or _xdist_dist(config) == "loadgroup"):
        return
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        module = item.nodeid.split("::")[0]
        if module in _MODULE_GROUP:
            item.add_marker(pytest.mark.xdist_group(_MODULE_GROUP[module]))
        elif _shares_a_fixture(item):
            item.add_marker(pytest.mark.xdist_group(module))


@contextlib.contextmanager
def one_worker_at_a_time(config, name):
    """Hold an exclusive lock named ``name`` shared by this run's xdist workers (a no-op
    outside xdist). The lock file lives in the run's temporary root, which pytest prunes."""
    if not hasattr(config, "workerinput"):
        yield
        return
    # a worker's basetemp is <run's basetemp>/popen-gwN: the parent is the run's, shared
    path = config._tmp_path_factory.getbasetemp().parent / f"{name}.lock"
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
