"""``import minitorch`` has no process-wide side effects (the tuning is minitorch.runtime's)."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs in a fresh interpreter: numpy and numba first (as most scripts do), spies on everything a
# library could use to change the process, then imports minitorch and the modules a training
# step loads, and reports what changed.
_PROBE = r'''
import ctypes, json, os, subprocess, sys, threading
import numpy, numba, numba.core.caching as caching
from numba.core.dispatcher import Dispatcher

events = []
real_popen_init, real_fork = subprocess.Popen.__init__, os.fork
def popen_init(self, *a, **k):
    events.append("Popen")
    return real_popen_init(self, *a, **k)
subprocess.Popen.__init__ = popen_init
os.fork = lambda: events.append("fork") or real_fork()
class SpyCDLL(ctypes.CDLL):
    def __getitem__(self, name):  # CDLL's attribute access comes through here too
        events.append("CDLL." + str(name))
        return super().__getitem__(name)
ctypes.CDLL = SpyCDLL

def class_dicts():
    return {n: dict(vars(c)) for n, c in vars(caching).items() if isinstance(c, type)}
env, classes, threads = dict(os.environ), class_dicts(), threading.active_count()

import minitorch, minitorch.kernels, minitorch.nn, minitorch.optim, minitorch.nn.functional
import models

patched = [f.__name__ for m in vars(minitorch.kernels).values() if hasattr(m, "__dict__")
           for f in vars(m).values() if isinstance(f, Dispatcher)
           and "save" in vars(getattr(getattr(f, "_cache", None), "_cache_file", object()))]
print(json.dumps({
    "env_added": sorted(set(os.environ) - set(env)),
    "env_changed": sorted(k for k in env if os.environ.get(k) != env[k]),
    "events": events,
    "numba_classes_changed": [n for n, d in class_dicts().items() if d != classes.get(n)],
    "dispatchers_patched": patched,
    "threads_added": threading.active_count() - threads,
    "dispatcher_count": sum(isinstance(f, Dispatcher) for m in vars(minitorch.kernels).values()
                            if hasattr(m, "__dict__") for f in vars(m).values()),
}))
'''


def _probe(env_extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_THREAD_TIMEOUT", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(env_extra or {})
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_sets_no_env_var_starts_nothing_and_leaves_numba_and_malloc_alone(tmp_path):
    # an empty numba cache: where the old import started a background compiler
    report = _probe({"NUMBA_CACHE_DIR": str(tmp_path)})
    assert report["dispatcher_count"] > 20  # the probe did see the kernels
    assert report["env_added"] == [] and report["env_changed"] == []
    assert report["events"] == []           # no Popen, no fork, no libc call (mallopt)
    assert report["numba_classes_changed"] == []
    assert report["dispatchers_patched"] == []
    assert report["threads_added"] == 0
    # nothing compiled into the cache either (numba makes the empty directories)
    assert [f for _, _, files in os.walk(tmp_path) for f in files] == []


def test_the_probe_does_see_a_mallopt_call():
    # the spy must catch what runtime.configure does, or the test above proves nothing
    code = _PROBE.replace("import models", "import models\nminitorch.runtime.tune_allocator()")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert "CDLL.mallopt" in report["events"]
