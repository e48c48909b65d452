"""Counting judged records by group without a frame of flags per record.

Link quality summarises every judged record (about six per household) overall, by
source and by each household group column, within every source and without. Building
a frame of nine counts per record and grouping it by string keys, once per table,
cost more than the whole council side at 1,000,000 households. Here each record's
seven flags are packed into one small integer, its **state**; each grouping column is
factorised once into integer codes (a household column at the household level, then
taken to the records through their households); and the records are counted per cell
(group codes and state) with one ``bincount``. The few observed cells, each with the
value of every key taken from the data itself, then go through the same pandas
``groupby`` as before, so a table's index, order, dtypes and counts are those of
grouping the records themselves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

STATE_FLAGS = (
    "linkable",
    "linked",
    "correct",
    "false_link",
    "missed",
    "wrong_subject",
    "true_subject",
)
"""The record flags packed into a state, lowest bit first."""
N_STATES = 2 ** len(STATE_FLAGS)
COUNT_COLUMNS = (
    "n_records",
    "n_linkable",
    "n_linked",
    "n_correct",
    "n_false",
    "n_missed",
    "n_missed_unlinked",
    "n_wrong_subject",
    "n_subject",
)
"""The counts summed per group (``n_subject``: links to the person concerned)."""
DENSE_LIMIT = 1 << 22
"""Most cells counted with a dense ``bincount``; beyond, cells are hashed."""


def _state_counts() -> np.ndarray:
    """What one record in each state adds to each of :data:`COUNT_COLUMNS`."""
    bits = (np.arange(N_STATES)[:, None] >> np.arange(len(STATE_FLAGS))) & 1
    linkable, linked, correct, false_link, missed, wrong, subject = bits.T
    ones = np.ones(N_STATES, dtype=np.int64)
    unlinked_missed = missed & (1 - linked)
    columns = [ones, linkable, linked, correct, false_link, missed, unlinked_missed]
    return np.column_stack([*columns, wrong, subject]).astype(np.int64)


STATE_COUNTS = _state_counts()


def record_states(flags: Sequence[np.ndarray]) -> np.ndarray:
    """Each record's state: its :data:`STATE_FLAGS` (booleans, in order) as bits."""
    state = np.zeros(len(flags[0]), dtype=np.uint8)
    for bit, flag in enumerate(flags):  # seven flags, not rows
        state |= np.asarray(flag, dtype=bool).view(np.uint8) << np.uint8(bit)
    return state.astype(np.int64)


def first_positions(codes: np.ndarray, n: int) -> np.ndarray:
    """Where each code in ``range(n)`` first occurs in ``codes``."""
    first = np.full(n, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes), dtype=np.int64))
    return first


@dataclass(frozen=True)
class GroupKey:
    """A grouping column as integer codes.

    Attributes
    ----------
    name : object
        The column's name (the level name of the grouped table).
    codes : ndarray
        int64, one per record, in ``range(len(values))``.
    values : Series
        The column's value for each code (taken from the column itself, so its
        dtype), on a default index.
    """

    name: object
    codes: np.ndarray
    values: pd.Series

    @classmethod
    def of(cls, column: pd.Series) -> GroupKey:
        """``column``'s codes; missing values are a code of their own."""
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        codes = np.asarray(codes, dtype=np.int64)
        first = first_positions(codes, len(uniques))
        return cls(column.name, codes, column.iloc[first].reset_index(drop=True))


def cell_ids(codes: Sequence[np.ndarray], sizes: Sequence[int]) -> np.ndarray:
    """Dense ids of the combinations of ``codes``, in order of first appearance."""
    combined = np.zeros(len(codes[0]), dtype=np.int64)
    span = 1
    for column, size in zip(codes, sizes, strict=True):  # keys, not rows
        if span * size >= 1 << 62:
            combined = np.asarray(pd.factorize(combined)[0], dtype=np.int64)
            span = int(combined.max()) + 1
        combined = combined * size + column
        span *= size
    return np.asarray(pd.factorize(combined)[0], dtype=np.int64)


def combinations(keys: Sequence[GroupKey]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each row's combination of ``keys``'s codes, and each key's code of each.

    The combinations are numbered densely in order of first appearance (at least
    one key). Rows counted by their combination, each cell then given its keys'
    codes, are counted as by the keys themselves, with one code to take and count
    per row rather than one per key.
    """
    ids = cell_ids([k.codes for k in keys], [len(k.values) for k in keys])
    first = first_positions(ids, int(ids.max()) + 1 if len(ids) else 0)
    return ids, [k.codes[first] for k in keys]


def cell_counts(
    state: np.ndarray,
    keys: Sequence[GroupKey],
    weights: np.ndarray | None = None,
    dense_limit: int = DENSE_LIMIT,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The observed cells (key codes and state) and how many records each holds.

    Parameters
    ----------
    state : ndarray
        Each record's state (:func:`record_states`).
    keys : sequence of GroupKey
        The grouping keys, one code per record each.
    weights : ndarray, optional
        How many records each row stands for (int64; default one each), e.g.
        the counts of a :class:`Tally`.
    dense_limit : int
        Count with a dense ``bincount`` while the number of possible cells is at
        most this; else hash the observed ones (the same cells and counts).

    Returns
    -------
    list of ndarray, ndarray, ndarray
        Each key's code of each cell, each cell's state, and its record count
        (int64, at least 1), in no particular order.
    """
    codes = [k.codes for k in keys] + [state]
    sizes = [len(k.values) for k in keys] + [N_STATES]
    if math.prod(sizes) <= dense_limit:
        flat = np.ravel_multi_index(codes, sizes) if keys else state
        counts = _counted(flat, weights, math.prod(sizes))
        cells = np.flatnonzero(counts)
        parts = np.unravel_index(cells, sizes)
        return list(parts[:-1]), parts[-1], counts[cells]
    ids = cell_ids(codes, sizes)
    counts = _counted(ids, weights, 0)
    first = first_positions(ids, len(counts))
    return [c[first] for c in codes[:-1]], state[first], counts


def _counted(ids: np.ndarray, weights: np.ndarray | None, n: int) -> np.ndarray:
    """How many records each id holds (int64; exact: weights sum below 2**53)."""
    if weights is None:
        return np.bincount(ids, minlength=n)
    return np.bincount(ids, weights, minlength=n).round().astype(np.int64)


@dataclass(frozen=True)
class Tally:
    """Records counted once per cell of all keys, to be summed by any of them.

    Attributes
    ----------
    state : ndarray
        Each cell's state.
    keys : tuple of GroupKey
        The keys, with one code per cell.
    counts : ndarray
        The records in each cell (int64).
    """

    state: np.ndarray
    keys: tuple[GroupKey, ...]
    counts: np.ndarray

    @classmethod
    def of(
        cls,
        state: np.ndarray,
        keys: Sequence[GroupKey],
        weights: np.ndarray | None = None,
    ) -> Tally:
        """The records of ``state`` and ``keys`` (one each per record) by cell.

        ``weights``: how many records each row stands for (default one each).
        """
        codes, states, counts = cell_counts(state, keys, weights)
        cells = (
            GroupKey(k.name, c, k.values) for k, c in zip(keys, codes, strict=True)
        )
        return cls(states, tuple(cells), counts)

    @classmethod
    def merged(cls, tallies: Sequence[Tally]) -> Tally:
        """The records of every tally together, by cell.

        The tallies' keys must share their codes (the same key values, as the
        batches of :func:`audits.link_quality.quality_part` do); the counts of a
        cell are summed exactly.
        """
        first = tallies[0]
        keys = [
            GroupKey(
                k.name, np.concatenate([t.keys[i].codes for t in tallies]), k.values
            )
            for i, k in enumerate(first.keys)
        ]
        state = np.concatenate([t.state for t in tallies])
        return cls.of(state, keys, np.concatenate([t.counts for t in tallies]))

    def summed(self, keys: Sequence[int]) -> pd.DataFrame:
        """:func:`summed_counts` of the records by the keys at ``keys``."""
        return summed_counts(self.state, [self.keys[i] for i in keys], self.counts)


def summed_counts(
    state: np.ndarray, keys: Sequence[GroupKey], weights: np.ndarray | None = None
) -> pd.DataFrame:
    """:data:`COUNT_COLUMNS` summed over the records, overall or by keys.

    Parameters
    ----------
    state : ndarray
        Each record's state (:func:`record_states`).
    keys : sequence of GroupKey
        Grouping keys; none for one overall row.
    weights : ndarray, optional
        How many records each row stands for (:func:`cell_counts`).

    Returns
    -------
    DataFrame
        int64 counts: with keys, as ``groupby(columns, observed=True, sort=True,
        dropna=False).sum()`` of per-record counts would give them (the same
        index); without, one row with index ``0``.
    """
    key_codes, states, counts = cell_counts(state, keys, weights)
    flags = pd.DataFrame(
        STATE_COUNTS[states] * counts[:, None], columns=list(COUNT_COLUMNS)
    )
    if not keys:
        return flags.sum().to_frame().T.astype(np.int64)
    by = [
        k.values.iloc[c].reset_index(drop=True).rename(k.name)
        for k, c in zip(keys, key_codes, strict=True)
    ]
    return flags.groupby(by, observed=True, sort=True, dropna=False).sum()
