"""``minitorch.Generator``: torch's explicit generator (``torch.Generator().manual_seed(42)``).

It *is* a numpy ``Generator`` (PCG64), so every function that takes ``generator=`` (``rand``,
``randperm``, ``random_split``, samplers, the DataLoader) draws from it directly. Equal seeds
give equal streams within minitorch; the numbers differ from torch's (another algorithm).
"""
import numpy as np

from ._device import check_device

__all__ = ["Generator"]

# torch.Generator()'s seed before any manual_seed.
_DEFAULT_SEED = 67280421310721


class Generator(np.random.Generator):
    def __init__(self, device="cpu"):
        check_device(device)
        self._initial_seed = _DEFAULT_SEED
        super().__init__(np.random.PCG64(_DEFAULT_SEED))

    @property
    def device(self):
        return check_device(None)

    def manual_seed(self, seed) -> "Generator":
        """Reseed and return self, so ``Generator().manual_seed(42)`` is one expression."""
        seed = int(seed)
        self._initial_seed = seed
        self.bit_generator.state = np.random.PCG64(seed % 2 ** 64).state
        return self

    def seed(self) -> int:
        """Reseed from OS entropy; return the new seed."""
        seed = int(np.random.SeedSequence().entropy % 2 ** 63)
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._initial_seed

    def get_state(self) -> dict:
        return dict(self.bit_generator.state)

    def set_state(self, state) -> "Generator":
        self.bit_generator.state = state
        return self

    def __reduce__(self):
        # numpy's own reduce would rebuild a plain np.random.Generator and lose manual_seed.
        return (_rebuild, (self.get_state(), self._initial_seed))


def _rebuild(state, initial_seed):
    g = Generator()
    g._initial_seed = initial_seed
    return g.set_state(state)
