"""Run a program written against ``torch`` with ``torch`` bound to minitorch or to PyTorch.

``run(path, "minitorch")`` makes every ``import torch...`` inside the program resolve to the
matching minitorch module (``torch.nn.functional`` -> ``minitorch.nn.functional``, and so on; a
module minitorch lacks is an ImportError, as a user would see), runs the file as ``__main__``
in a temporary working directory, and puts the real ``torch`` modules back afterwards.
``run(path, "torch")`` runs it against PyTorch itself. Both return the recorded losses and
outputs (see support.py).
"""
import contextlib
import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys

from . import support

__all__ = ["run", "torch_is_minitorch"]


class _MinitorchAsTorch(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves ``torch`` and ``torch.X.Y`` to ``minitorch`` and ``minitorch.X.Y``."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        return importlib.import_module("minitorch" + spec.name[len("torch"):])

    def exec_module(self, module):
        pass   # the minitorch module is imported already


def _torch_modules():
    return {name: mod for name, mod in sys.modules.items()
            if name == "torch" or name.startswith("torch.")}


@contextlib.contextmanager
def torch_is_minitorch():
    saved = _torch_modules()
    for name in saved:
        del sys.modules[name]
    finder = _MinitorchAsTorch()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for name in _torch_modules():
            del sys.modules[name]
        sys.modules.update(saved)


def run(path, framework, workdir):
    """(losses, outputs, compare) of running the program at ``path`` with ``torch`` =
    ``framework``; ``compare`` is the program's ``COMPARE_LOSSES`` (default True: False for a
    program whose random draws, e.g. dropout masks, differ between the frameworks)."""
    support.LOSSES.clear()
    support.OUTPUTS.clear()
    old = os.getcwd()
    os.chdir(workdir)
    try:
        if framework == "minitorch":
            with torch_is_minitorch():
                names = runpy.run_path(str(path), run_name="__main__")
        else:
            import torch
            threads = torch.get_num_threads()
            # One thread: these programs' ops are tiny, and on a shared machine torch's thread
            # pool then spends most of the run waiting for a core (measured 40 s against 5).
            torch.set_num_threads(1)
            try:
                names = runpy.run_path(str(path), run_name="__main__")
            finally:
                torch.set_num_threads(threads)
    finally:
        os.chdir(old)
    bound = names.get("torch")
    if bound is not None and bound.__name__ != framework:
        raise AssertionError(f"{path.name}: torch was {bound.__name__}, not {framework}")
    return list(support.LOSSES), dict(support.OUTPUTS), names.get("COMPARE_LOSSES", True)
