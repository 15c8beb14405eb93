"""Small, fast runs of the finetuning tool for the trainer tests.

Runs use a width-4 small ResNet-18 on 8x8 digits so an epoch takes well under a second; a
"pretrained" file is a randomly initialised model saved in the weights layout (what matters to
the tests is that loading, freezing and resuming keep it exactly).
"""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[2]


def make_weights(path, num_classes=5, width=4, seed=1, attrs=None):
    """A weights file of a small ResNet-18 with ``num_classes`` outputs; returns its path."""
    import minitorch as mt
    from minitorch.io import save_state_dict
    from models import resnet18
    mt.manual_seed(seed)
    model = resnet18(num_classes=num_classes, variant="small", width=width)
    # Non-trivial BN statistics, so "unchanged" is a real check.
    for name, buf in model.named_buffers():
        if name.endswith("running_mean"):
            buf.detach().numpy()[...] = np.linspace(-0.5, 0.5, buf.detach().numpy().size, dtype=np.float32)
        elif name.endswith("running_var"):
            buf.detach().numpy()[...] = np.linspace(0.5, 2.0, buf.detach().numpy().size, dtype=np.float32)
    base = {"arch": "resnet18", "num_classes": num_classes, "mean": [0.3], "std": [0.4]}
    save_state_dict(model.state_dict(), path, attrs={**base, **(attrs or {})})
    return Path(path)


def config_dict(out_dir, weights=None, **sections):
    """A tiny digits config as a dict; ``sections`` update the top-level sections."""
    cfg = {
        "seed": 0,
        "model": {"arch": "resnet18", "variant": "small", "width": 4,
                  "weights": None if weights is None else str(weights), "num_classes": 5,
                  "freeze": "backbone" if weights is not None else "none"},
        "data": {"dataset": "digits", "classes": [5, 6, 7, 8, 9], "image_size": 8,
                 "val_fraction": 0.2, "batch_size": 64},
        "train": {"epochs": 2, "optimizer": {"lr": 0.05, "momentum": 0.9},
                  "scheduler": {"name": "cosine"}, "feature_cache": "off"},
        "output": {"dir": str(out_dir), "plot": False},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key].update(value)
        else:
            cfg[key] = value
    return cfg


def write_config(path, cfg):
    Path(path).write_text(yaml.safe_dump(cfg, sort_keys=False))
    return Path(path)


def _thread_env():
    """This process's numba and BLAS thread counts, for a subprocess that must compute the same
    bits (a reduction split over another number of threads rounds differently)."""
    import numba
    from threadpoolctl import threadpool_info
    blas = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    env = {"NUMBA_NUM_THREADS": str(numba.get_num_threads())}
    if blas:
        env.update(OPENBLAS_NUM_THREADS=str(blas[0]), OMP_NUM_THREADS=str(blas[0]))
    return env


def run_cli(args, timeout=180, env=None):
    """``python args...`` in a subprocess (for exit codes, stderr and kills), with this
    process's thread counts."""
    full_env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get(
        "PYTHONPATH", ""), **_thread_env(), **(env or {}))
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env=full_env)


def snapshot(folder):
    """{relative path: sha1 of its bytes} of every file under ``folder``."""
    folder = Path(folder)
    if not folder.exists():
        return None
    return {str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def checkpoint_arrays(path, skip=("extra", "config")):
    """Every leaf of a checkpoint as {dotted path: numpy array or value}, minus ``skip`` (the
    history holds wall-clock seconds and the config names the output folder)."""
    import minitorch as mt
    flat = {}

    def walk(prefix, node):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(node, (list, tuple)):
            for i, v in enumerate(node):
                walk(f"{prefix}[{i}]", v)
        else:
            flat[prefix] = node.numpy() if hasattr(node, "numpy") else node

    walk("", {k: v for k, v in mt.load(path).items() if k not in skip})
    return flat


def assert_bitwise_equal(a, b):
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, key
            assert x.tobytes() == y.tobytes(), key
        else:
            assert x == y, key
