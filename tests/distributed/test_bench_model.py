"""The scaling model behind the README's table (scripts/bench_distributed.py)."""
import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "scripts" / "bench_distributed.py"
_spec = importlib.util.spec_from_file_location("bench_distributed", _PATH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_ring_allreduce_is_2_p_minus_1_over_p_bytes_over_bandwidth_plus_latency():
    nbytes = 4 * 11_689_512  # full ResNet-18 in float32
    t = bench.ring_allreduce_seconds(nbytes, machines=2, gbit=10, latency=0.0)
    assert t == pytest.approx(nbytes / 1.25e9)  # 2(p-1)/p = 1 at p = 2
    t64 = bench.ring_allreduce_seconds(nbytes, machines=64, gbit=100, latency=1e-5)
    assert t64 == pytest.approx(2 * 63 / 64 * nbytes / 12.5e9 + 2 * 63 * 1e-5)


def test_efficiency_weak_and_strong_scaling():
    rows = bench.scaling_rows(compute_s=1.0, n_params=250_000_000, batch=4, machines=(2, 8))
    t, weak, strong = rows[0][10]
    assert t == pytest.approx(bench.ring_allreduce_seconds(1e9, 2, 10))
    assert weak == pytest.approx(1.0 / (1.0 + t))
    assert strong == pytest.approx(0.5 / (0.5 + t))
    assert rows[1][10][2] is None  # 8 machines cannot split a batch of 4
