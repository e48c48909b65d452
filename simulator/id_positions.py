"""Where ids are in a column: a direct table for small non-negative integers.

Link quality looks up millions of ids (records in their source, links in the
spine, records in their households). The world numbers them ``0`` to ``n - 1`` in
some order, so a table indexed by the id itself finds each in one array access,
without the hash table a pandas index builds; ids ``0`` to ``n - 1`` in order (a
source's links, the households) need no table: each is its own position. Ids that
are not small non-negative integers fall back to :class:`pandas.Index`, with the
same answers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SPARSE_FACTOR = 4
"""A direct table is used while the largest id is below this many times the ids."""


def _integers(values: object) -> np.ndarray | None:
    """``values`` as an integer ndarray, or None if they are not plain integers."""
    array = values.to_numpy() if isinstance(values, pd.Series | pd.Index) else values
    if isinstance(array, np.ndarray) and array.dtype.kind in "iu":
        return array
    return None


def _within(array: np.ndarray, size: int) -> bool:
    """Every value of ``array`` indexes a table of ``size`` slots (none if empty)."""
    return not len(array) or (array.min() >= 0 and array.max() < size)


class IdPositions:
    """The position of each id of a column (like ``pd.Index(ids).get_indexer``).

    Parameters
    ----------
    ids : Series, Index or ndarray
        The column's ids.
    """

    def __init__(self, ids: pd.Series | pd.Index | np.ndarray) -> None:
        self._ids = ids
        self._table: np.ndarray | None = None
        self._index: pd.Index | None = None
        self._size: int | None = None  # ids in range(size) have a slot
        array = _integers(ids)
        n = len(ids)
        if array is not None and n and array.min() >= 0:
            top = int(array.max())
            if top == n - 1 and bool((array[1:] > array[:-1]).all()):
                # 0 to n - 1 in order: each id is its own position, no table.
                self._size = n
                self.is_unique = True
                return
            if top < SPARSE_FACTOR * n + 1024:
                table = np.full(top + 1, -1, dtype=np.int64)
                table[array] = np.arange(n, dtype=np.int64)
                self._table = table
                self._size = top + 1
                # Unique iff every id filled a slot of its own: a scan of the
                # table, not a gather of n scattered slots.
                self.is_unique = int(np.count_nonzero(table >= 0)) == n
                return
        self._index = pd.Index(ids)
        self.is_unique = bool(self._index.is_unique)

    def _slots(self, array: np.ndarray) -> np.ndarray:
        """The positions of ids each in ``range(self._size)`` (-1: not an id)."""
        return array.astype(np.int64) if self._table is None else self._table[array]

    def positions(self, target: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
        """Each target id's position among the ids, -1 where absent.

        The ids must be unique (:attr:`is_unique`), as for ``get_indexer``.
        """
        if not self.is_unique:
            raise ValueError("ids are not unique")
        array = _integers(target)
        if self._size is None or array is None:
            index = self._index if self._index is not None else pd.Index(self._ids)
            return np.asarray(index.get_indexer(target), dtype=np.int64)
        if _within(array, self._size):  # one gather, no masks
            return self._slots(array)
        out = np.full(len(array), -1, dtype=np.int64)
        inside = (array >= 0) & (array < self._size)
        out[inside] = self._slots(array[inside])
        return out

    def contains(self, target: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
        """Whether each target id is among the ids (repeated ids allowed)."""
        array = _integers(target)
        if self._size is None or array is None:
            return pd.Series(target).isin(self._ids).to_numpy(bool)
        if _within(array, self._size):
            return self._slots(array) >= 0
        inside = (array >= 0) & (array < self._size)
        out = np.zeros(len(array), dtype=bool)
        out[inside] = self._slots(array[inside]) >= 0
        return out
