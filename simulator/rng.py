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
from functools import lru_cache
from itertools import accumulate

import numpy as np
from numpy.random.bit_generator import ISeedSequence

BLOCK_SIZE = 5_000
"""Households per seeding block; part of the seeding scheme."""


@lru_cache(maxsize=4096)
def stable_id(name: str) -> int:
    """Return a 32-bit id for ``name`` that is the same in every process and run."""
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, *names: str | int) -> np.random.Generator:
    """Return the generator for ``seed`` and a path of stage / part names."""
    keys = [n if isinstance(n, int) else stable_id(n) for n in names]
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


# SeedSequence's constants (numpy/random/bit_generator.pyx), for block_generators.
_MASK32 = 0xFFFFFFFF
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715
_POOL_SIZE = 4


def _words(n: int) -> list[int]:
    """``n`` as SeedSequence reads an int: 32-bit words, least significant first."""
    out = []
    while True:
        out.append(n & _MASK32)
        n >>= 32
        if not n:
            return out


class _State(ISeedSequence):
    """A seed sequence whose state is already known (the PCG64 seed words)."""

    def __init__(self, state: np.ndarray):
        self.state = state

    def generate_state(self, n_words: int, dtype: type = np.uint32) -> np.ndarray:
        """The known state (PCG64 asks for 4 uint64 words, the only use)."""
        if n_words != len(self.state) or np.dtype(dtype) != self.state.dtype:
            raise ValueError("only the state it was made with")
        return self.state


def block_generators(
    seed: int, names: Sequence[str | int], blocks: Sequence[int]
) -> list[np.random.Generator]:
    """``[stream(seed, *names, b) for b in blocks]``, the same generators, faster.

    Every block's seed shares the words of ``seed`` and ``names``: SeedSequence
    mixes those once (numpy's own, for the shared words), then each block's words
    are mixed into a copy of the pool and the PCG64 seed drawn from it, following
    SeedSequence's algorithm (O'Neill's seed_seq) in plain integers. Streams of
    fewer than four shared words are made one by one.
    """
    keys = tuple(n if isinstance(n, int) else stable_id(n) for n in names)
    n_words = sum(len(_words(k)) for k in (seed, *keys))
    if n_words < _POOL_SIZE or any(not 0 <= b < 2**64 for b in blocks):
        return [stream(seed, *names, b) for b in blocks]
    pool, hashes = _shared_pool(seed, keys, n_words)
    if all(b <= _MASK32 for b in blocks):  # one word each (every block in practice)
        words = _one_word_states(_one_word_constants(pool, hashes), blocks)
    else:
        words = [w for b in blocks for w in _mixed_state(pool, hashes, int(b))]
    states = np.array(words, dtype=np.uint64).reshape(len(blocks), _POOL_SIZE)
    return [np.random.Generator(np.random.PCG64(_State(state))) for state in states]


@lru_cache(maxsize=1024)
def _shared_pool(
    seed: int, keys: tuple[int, ...], n_words: int
) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """SeedSequence's pool of ``seed`` and ``keys``, and a block's multipliers.

    The multipliers (before, after each step) with which a block's two words are
    mixed into the pool: the same for every chunk's blocks of a stream, so worked
    out once.
    """
    pool = tuple(int(v) for v in np.random.SeedSequence([seed, *keys]).pool)
    hash_a = _INIT_A
    for _ in range(_POOL_SIZE * _POOL_SIZE + _POOL_SIZE * (n_words - _POOL_SIZE)):
        hash_a = (hash_a * _MULT_A) & _MASK32
    hashes = []
    for _ in range(2 * _POOL_SIZE):
        after = (hash_a * _MULT_A) & _MASK32
        hashes.append((hash_a, after))
        hash_a = after
    return pool, tuple(hashes)


def _output_hashes() -> tuple[tuple[int, int, int, int], ...]:
    """The multipliers with which SeedSequence's ``generate_state`` draws its words.

    Before and after each step, for two 32-bit words at a time: a uint64 word of
    the seed.
    """
    steps, hash_b = [], _INIT_B
    for _ in range(2 * _POOL_SIZE):
        after = (hash_b * _MULT_B) & _MASK32
        steps.append((hash_b, after))
        hash_b = after
    return tuple((*steps[k], *steps[k + 1]) for k in range(0, len(steps), 2))


_OUTPUT_HASHES = _output_hashes()


def _mixed_state(
    pool: tuple[int, ...], hashes: tuple[tuple[int, int], ...], block: int
) -> list[int]:
    """The PCG64 seed (4 uint64 words) once ``block`` (< 2**64) is mixed in.

    SeedSequence's mixing in Python integers: a block is one or two 32-bit words,
    each mixed into every word of the pool with the multipliers ``hashes``
    (:func:`_shared_pool`); for a handful of blocks this is several times
    faster than numpy's operations over them.
    """
    mixed = list(pool)
    words = (block & _MASK32,) if block <= _MASK32 else (block & _MASK32, block >> 32)
    for n_word, word in enumerate(words):
        for i, (before, after) in enumerate(
            hashes[n_word * _POOL_SIZE : (n_word + 1) * _POOL_SIZE]
        ):
            value = ((word ^ before) * after) & _MASK32
            m = (_MIX_MULT_L * mixed[i] - _MIX_MULT_R * (value ^ value >> 16)) & _MASK32
            mixed[i] = m ^ (m >> 16)
    out = []
    for k, (b0, a0, b1, a1) in enumerate(_OUTPUT_HASHES):
        low = ((mixed[(2 * k) % _POOL_SIZE] ^ b0) * a0) & _MASK32
        high = ((mixed[(2 * k + 1) % _POOL_SIZE] ^ b1) * a1) & _MASK32
        out.append(low ^ (low >> 16) | (high ^ (high >> 16)) << 32)
    return out


@lru_cache(maxsize=1024)
def _one_word_constants(
    pool: tuple[int, ...], hashes: tuple[tuple[int, int], ...]
) -> np.ndarray:
    """What :func:`_one_word_states` mixes a one-word block with, for one stream.

    A row per pool word: the multipliers of the block's word, and ``_MIX_MULT_L``
    times the pool's word (mod 2**32: the mixing is mod 2**32, so it can be taken
    first). Read only.
    """
    rows = [(*hashes[i], (_MIX_MULT_L * pool[i]) & _MASK32) for i in range(_POOL_SIZE)]
    out = np.array(rows, dtype=np.uint64)
    out.flags.writeable = False
    return out


_OUTPUT_STEPS = np.array(_OUTPUT_HASHES, dtype=np.uint64)
""":data:`_OUTPUT_HASHES` as an array, a row per uint64 word of the seed."""
_LOW_WORD = [(2 * k) % _POOL_SIZE for k in range(_POOL_SIZE)]
_HIGH_WORD = [(2 * k + 1) % _POOL_SIZE for k in range(_POOL_SIZE)]
"""The pool words each seed word's low and high halves are drawn from."""


def _one_word_states(constants: np.ndarray, blocks: Sequence[int]) -> np.ndarray:
    """:func:`_mixed_state` of each block (each < 2**32), one flat array of words.

    The same integer steps on uint64 arrays, a row per block and a column per pool
    word, with the stream's share worked out once (:func:`_one_word_constants`).
    Products of two 32-bit words fit in 64 bits, and a difference that wraps
    around 2**64 is still right mod 2**32, which is all that is kept.
    """
    before, after, mixed_pool = constants.T
    word = np.asarray(blocks, dtype=np.uint64)[:, None]
    value = ((word ^ before) * after) & _MASK32
    m = (mixed_pool - np.uint64(_MIX_MULT_R) * (value ^ value >> 16)) & _MASK32
    mixed = m ^ (m >> 16)
    b0, a0, b1, a1 = _OUTPUT_STEPS.T
    low = ((mixed[:, _LOW_WORD] ^ b0) * a0) & _MASK32
    high = ((mixed[:, _HIGH_WORD] ^ b1) * a1) & _MASK32
    return ((low ^ low >> 16) | (high ^ high >> 16) << 32).ravel()


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
        self._gens = block_generators(seed, names, self.blocks)

    def _check(self, counts: np.ndarray) -> None:
        if len(counts) != len(self._gens):
            raise ValueError(
                f"counts has {len(counts)} blocks, the streams cover {len(self._gens)}"
            )

    def _draw(
        self, counts: np.ndarray, fn: Callable[[np.random.Generator, int], np.ndarray]
    ) -> np.ndarray:
        self._check(counts)
        parts = [fn(g, int(c)) for g, c in zip(self._gens, counts, strict=True)]
        return np.concatenate(parts) if parts else np.empty(0)

    def _fill(
        self,
        counts: np.ndarray,
        fill: Callable[[np.random.Generator, np.ndarray], object],
        out: np.ndarray | None,
    ) -> np.ndarray:
        """Each block's floats written in place into ``out`` (made if None).

        In block order, what :meth:`_draw` joins, without the parts and their copy.
        """
        self._check(counts)
        ends = list(accumulate(int(c) for c in counts))  # a few blocks: no numpy call
        total = ends[-1] if ends else 0
        if out is None:
            out = np.empty(total)
        elif out.shape != (total,):
            raise ValueError(f"out has shape {out.shape}, the counts sum to {total}")
        start = 0
        for g, end in zip(self._gens, ends, strict=True):
            fill(g, out[start:end])
            start = end
        return out

    def random(self, counts: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Uniform floats in [0, 1), one per row (written into ``out`` if given)."""
        return self._fill(counts, lambda g, o: g.random(out=o), out)

    def normal(self, counts: np.ndarray) -> np.ndarray:
        """Standard normal draws, one per row."""
        return self._fill(counts, lambda g, o: g.standard_normal(out=o), None)

    def poisson(self, counts: np.ndarray, lam: np.ndarray | float) -> np.ndarray:
        """Poisson draws with a per-row mean ``lam`` (or one mean for every row).

        Each block's draws written into one array (no parts joined, no copy cast).
        One mean takes numpy's scalar path (no array of means read per draw) and a
        mean of 0 draws nothing (numpy's 0 for it takes no uniform): the same
        numbers as an array of that mean.
        """
        self._check(counts)
        ends = list(accumulate(int(c) for c in counts))
        n = ends[-1] if ends else 0
        out = np.empty(n, dtype=np.int64)
        scalar = np.ndim(lam) == 0
        if scalar:
            lam = float(lam)
            if lam == 0.0:
                return np.zeros(n, dtype=np.int64)
        else:
            lam = np.asarray(lam, dtype=float)
            if len(lam) != n:
                raise ValueError(f"lam has {len(lam)} rows, the counts sum to {n}")
        start = 0
        for g, end in zip(self._gens, ends, strict=True):
            if scalar:
                out[start:end] = g.poisson(lam, end - start)
            else:
                out[start:end] = g.poisson(lam[start:end])
            start = end
        return out

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
