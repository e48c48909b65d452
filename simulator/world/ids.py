"""The council's identifiers: seeded permutations, so no id carries the truth's order.

Rows are generated in true household order (households, then members, then rules).
If ``record_id``, ``spine_person_id`` or ``spine_household_id`` were row numbers, the
council could read family structure from its own identifiers: neighbouring ids would
be the same family, and any tie rule taking the lowest id would pick by true
household order. So every id is the row's position under a permutation drawn from the
named stream ``stream(seed, "ids", ...)`` over the whole table, after the chunks are
assembled: the ids are the same whatever ``generation.chunk_size``, and the same
scenario and seed give the same ids.
"""

from __future__ import annotations

import numpy as np

from simulator.rng import stream


def shuffled_ids(seed: int, name: str, n: int) -> np.ndarray:
    """Ids ``0..n-1`` in a seeded random order: the id of row ``i`` is element ``i``.

    Parameters
    ----------
    seed : int
        The scenario seed.
    name : str
        What is numbered (``"records/police"``, ``"spine_person"``, ...): each name
        has its own stream, so tables are shuffled independently.
    n : int
        Rows to number.

    Returns
    -------
    numpy.ndarray
        int64, a permutation of ``0..n-1``.

    Examples
    --------
    >>> ids = shuffled_ids(1, "records/police", 5)
    >>> sorted(ids.tolist()), ids.tolist() == shuffled_ids(1, "records/police", 5).tolist()
    ([0, 1, 2, 3, 4], True)
    """  # noqa: E501
    return stream(seed, "ids", name).permutation(n).astype(np.int64, copy=False)


def record_ids(seed: int, source: str, n: int) -> np.ndarray:
    """The ``record_id`` of each of a source's ``n`` rows (in generation order)."""
    return shuffled_ids(seed, f"records/{source}", n)


def spine_person_ids(seed: int, n: int) -> np.ndarray:
    """The ``spine_person_id`` of each of the spine's ``n`` rows."""
    return shuffled_ids(seed, "spine_person", n)


def spine_household_ids(seed: int, codes: np.ndarray) -> np.ndarray:
    """The ``spine_household_id`` of spine rows grouped as ``codes`` (``0..k-1``).

    ``codes`` number the council's households in order of first appearance, which is
    true household order; each code is replaced by its place in a seeded permutation
    of ``0..k-1``, so rows of one household still share an id.
    """
    codes = np.asarray(codes, dtype=np.int64)
    k = int(codes.max()) + 1 if len(codes) else 0
    return shuffled_ids(seed, "spine_household", k)[codes]
