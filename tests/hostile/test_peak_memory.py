"""The memory figure the hostile tests bound is the run's own, whatever the test process holds."""
import numpy as np

from tests.hostile.run_helpers import run


def test_a_run_reports_its_own_peak_not_the_parents():
    held = np.ones(600 * 2**20 // 8)   # this process grows by 600 MiB before starting the run
    small = run(["-c", "import sys; sys.exit(3)"])
    big = run(["-c", "import numpy as np; x = np.ones(400 * 2**20 // 8); x[::512].sum()"])
    assert held[-1] == 1.0
    assert small.returncode == 3   # the exit code comes through the reporting launcher
    assert small.peak_mb < 100, small   # wait4 alone would report more than 600
    assert 400 < big.peak_mb < 500, big


def test_a_script_run_sees_its_own_argv_and_path(tmp_path):
    # (``-m minitorch.train.cli`` runs, the other form, are most of this folder's tests)
    script = tmp_path / "show.py"
    script.write_text("import sys; print(sys.argv[1:], sys.path[0] == %r)" % str(tmp_path))
    shown = run([script, "a", "--b"])
    assert shown.stdout.strip() == "['a', '--b'] True", shown
