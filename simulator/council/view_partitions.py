"""The view's inputs read by spine household without a join or a sort.

:mod:`simulator.council.view_files` builds the view a range of spine households at
a time. Where every counted record's household is found by an id numbered from 0
(its ``record_id`` in the links table, or its ``true_person_id`` for the truth's
view), a table indexed by that id gives it (:class:`HouseholdTables`), so no join
is needed; and as every feature is a count or a maximum per household (the first
member's area: of the lowest id, then in file order), no sort either: the counted
records and the spine are read a batch at a time and summed per household
(:mod:`simulator.council.view_counts`, :mod:`simulator.council.view_spine`).
Memory is a batch, the sums and the tables (8 bytes an id), not the population's
records.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

BATCH_ROWS = 1 << 20
"""Rows of a file read at a time."""
NO_HOUSEHOLD = -1
"""A table's value for an id whose record links to no spine household."""


@dataclass(frozen=True)
class HouseholdTables:
    """Each counted record's spine household, by an id numbered from 0.

    ``key`` is the records' column looked up (``record_id`` or ``true_person_id``);
    ``tables[source]`` is indexed by that id and holds the household
    (:data:`NO_HOUSEHOLD`: none). An id outside its table has no household.
    """

    key: str
    tables: Mapping[str, np.ndarray]

    def of(self, source: str, ids: np.ndarray) -> np.ndarray:
        """The households of ``source``'s records with ``ids`` (-1: none).

        Examples
        --------
        >>> tables = HouseholdTables("record_id", {"a": np.array([5, -1, 7]),
        ...                                        "b": np.empty(0, np.int64)})
        >>> tables.of("a", np.array([2, 0, 9, -4])).tolist()
        [7, 5, -1, -1]
        >>> tables.of("b", np.array([0, 3])).tolist()
        [-1, -1]
        """
        table = self.tables[source]
        if not len(ids) or (ids.min() >= 0 and ids.max() < len(table)):
            return table[ids]
        if not len(table):
            return np.full(len(ids), NO_HOUSEHOLD, dtype=np.int64)
        inside = (ids >= 0) & (ids < len(table))
        return np.where(inside, table[np.where(inside, ids, 0)], NO_HOUSEHOLD)


def event_codes(kinds: pa.Array, wanted: pa.Array) -> np.ndarray:
    """Each value's place in ``wanted`` (-1: not there, or null), int16.

    A dictionary's values are looked up once, not once a row.
    """
    if not pa.types.is_dictionary(kinds.type):
        return pc.fill_null(pc.index_in(kinds, value_set=wanted), -1).to_numpy()
    places = pc.index_in(kinds.dictionary.cast(pa.string()), value_set=wanted)
    lookup = np.append(pc.fill_null(places, -1).to_numpy(), -1).astype(np.int16)
    return lookup[pc.fill_null(kinds.indices, -1).to_numpy()]


def spine_batches(
    path: Path, columns: tuple[str, ...], dictionaries: tuple[str, ...] = ()
) -> Iterator[pa.RecordBatch]:
    """The spine's ``columns`` in that order, a batch at a time, in file order.

    ``dictionaries``: columns read as Arrow dictionaries (from the file's own, where
    it has them: no string hashed).
    """
    with pq.ParquetFile(path, read_dictionary=list(dictionaries)) as file:
        for batch in file.iter_batches(BATCH_ROWS, columns=list(columns)):
            yield batch.select(list(columns))
