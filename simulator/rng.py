"""Named, spawnable random streams, so that every stage and block draws independently.

A stream is keyed by the scenario seed plus stable names (``zlib.crc32``, never the
per-process salted ``hash``). Households are grouped in fixed seeding blocks of
``BLOCK_SIZE``; every draw about a household, a person or a record comes from its
block's stream. Chunks (for memory and parallelism) are whole numbers of blocks, so
outputs do not depend on the chunk size or on how many workers run.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence

import numpy as np

BLOCK_SIZE = 5_000
"""Households per seeding block; part of the seeding scheme."""


def stable_id(name: str) -> int:
    """Return a 32-bit id for ``name`` that is the same in every process and run."""
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, *names: str | int) -> np.random.Generator:
    """Return the generator for ``seed`` and a path of stage / part names."""
    keys = [n if isinstance(n, int) else stable_id(n) for n in names]
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


def draw_seed(rng: np.random.Generator) -> int:
    """Draw an int seed for libraries that take ``random_state`` ints (scikit-learn)."""
    return int(rng.integers(0, 2**31 - 1))


class BlockStreams:
    """One generator per seeding block, for draws over rows sorted by block.

    Every method takes ``counts``, the number of rows in each block (in block order),
    and returns the concatenation of each block's draw. The rows of a table must be
    sorted by block and, within a block, in an order that does not depend on chunking.

    Parameters
    ----------
    seed : int
        The scenario seed.
    names : sequence of str
        The stream path, e.g. ``("corruption", "police", "name_typo")``.
    blocks : sequence of int
        The global indices of the blocks covered.
    """

    def __init__(self, seed: int, names: Sequence[str], blocks: Sequence[int]):
        self.blocks = [int(b) for b in blocks]
        self._gens = [stream(seed, *names, b) for b in self.blocks]

    def _draw(
        self, counts: np.ndarray, fn: Callable[[np.random.Generator, int], np.ndarray]
    ) -> np.ndarray:
        if len(counts) != len(self._gens):
            raise ValueError(
                f"counts has {len(counts)} blocks, the streams cover {len(self._gens)}"
            )
        parts = [fn(g, int(c)) for g, c in zip(self._gens, counts, strict=True)]
        return np.concatenate(parts) if parts else np.empty(0)

    def random(self, counts: np.ndarray) -> np.ndarray:
        """Uniform floats in [0, 1), one per row."""
        return self._draw(counts, lambda g, n: g.random(n))

    def normal(self, counts: np.ndarray) -> np.ndarray:
        """Standard normal draws, one per row."""
        return self._draw(counts, lambda g, n: g.standard_normal(n))

    def poisson(self, counts: np.ndarray, lam: np.ndarray) -> np.ndarray:
        """Poisson draws with a per-row mean ``lam``."""
        parts = np.split(np.asarray(lam, dtype=float), np.cumsum(counts)[:-1])
        it = iter(parts)
        return self._draw(counts, lambda g, n: g.poisson(next(it))).astype(np.int64)

    def beta(self, counts: np.ndarray, a: float, b: float) -> np.ndarray:
        """Beta(a, b) draws, one per row."""
        return self._draw(counts, lambda g, n: g.beta(a, b, n))

    def integers(self, counts: np.ndarray, high: np.ndarray | int) -> np.ndarray:
        """Integers in ``[0, high)`` with a per-row (or scalar) ``high`` >= 1."""
        u = self.random(counts)
        return np.minimum((u * high).astype(np.int64), np.asarray(high) - 1)


def block_counts(block_of_row: np.ndarray, blocks: Sequence[int]) -> np.ndarray:
    """Rows per block, for rows sorted by block, over the given ``blocks``."""
    first = int(blocks[0]) if len(blocks) else 0
    return np.bincount(
        np.asarray(block_of_row, dtype=np.int64) - first, minlength=len(blocks)
    )
