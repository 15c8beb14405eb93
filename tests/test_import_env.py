"""``import minitorch`` sets OpenBLAS's thread timeout before numpy loads, unless the user did."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODE = ("import sys, minitorch, os; assert 'numpy' in sys.modules; "
        "print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))")


@pytest.mark.parametrize("preset,expected", [(None, "4"), ("1", "1")])
def test_openblas_thread_timeout_default_and_user_override(preset, expected):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    env["MINITORCH_BACKGROUND_COMPILE"] = "0"
    if preset is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = preset
    out = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == expected


def test_numpy_is_not_imported_before_the_timeout_is_set():
    """The setting only works if it precedes numpy: minitorch/__init__ must not import it first."""
    code = ("import builtins, os\n"
            "real = builtins.__import__\n"
            "def spy(name, *a, **k):\n"
            "    if name == 'numpy' and 'OPENBLAS_THREAD_TIMEOUT' not in os.environ:\n"
            "        raise SystemExit('numpy imported before the timeout was set')\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = spy\n"
            "import minitorch\n")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    env["MINITORCH_BACKGROUND_COMPILE"] = "0"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
