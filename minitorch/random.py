"""minitorch's global random generator: ``manual_seed`` and the RNG state for exact resume.

One numpy ``Generator`` (PCG64) serves every random factory, initialiser and dropout mask, so a
single ``mt.manual_seed(s)`` makes a run reproducible. Its stream differs from PyTorch's: equal
seeds give equal runs within minitorch, not equal numbers to torch.
"""
import numpy as np

__all__ = ["manual_seed", "seed", "initial_seed", "default_generator", "get_rng_state",
           "set_rng_state"]

_seed = 0
_generator = np.random.Generator(np.random.PCG64(_seed))


def manual_seed(s: int):
    """Reseed the global generator (and return it, as PyTorch returns its Generator)."""
    global _seed
    _seed = int(s)
    _generator.bit_generator.state = np.random.PCG64(_seed).state
    return _generator


def seed() -> int:
    """Seed the global generator from OS entropy and return the seed used."""
    s = int(np.random.SeedSequence().entropy % (2**63))
    manual_seed(s)
    return s


def initial_seed() -> int:
    return _seed


def default_generator() -> np.random.Generator:
    """The generator behind ``rand``, ``randn``, ``nn.init`` and dropout."""
    return _generator


def get_rng_state() -> dict:
    """The global generator's full state as a plain dict (numbers only), for checkpoints."""
    state = _generator.bit_generator.state
    # The 128-bit PCG64 words are kept as decimal strings: HDF5 has no 128-bit integers.
    return {"bit_generator": state["bit_generator"], "state": str(state["state"]["state"]),
            "inc": str(state["state"]["inc"]), "has_uint32": int(state["has_uint32"]),
            "uinteger": int(state["uinteger"]), "seed": _seed}


def set_rng_state(state: dict) -> None:
    """Restore a state returned by ``get_rng_state``."""
    global _seed
    _generator.bit_generator.state = {
        "bit_generator": state["bit_generator"],
        "state": {"state": int(state["state"]), "inc": int(state["inc"])},
        "has_uint32": int(state["has_uint32"]), "uinteger": int(state["uinteger"]),
    }
    _seed = int(state.get("seed", _seed))
