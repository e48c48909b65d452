"""The view's inputs cut into ranges of spine households on disk, without a sort.

:mod:`simulator.council.view_files` builds the view a range of spine households at
a time. Where every counted record's household is found by an id numbered from 0
(its ``record_id`` in the links table, or its ``true_person_id`` for the truth's
view), a table indexed by that id gives it (:class:`HouseholdTables`), so no join
is needed; and as every feature is a count or a maximum per household, and a
household's spine rows keep their file order within a range, no sort either. The
spine and the counted records are read a batch at a time, each batch's rows
appended to the file of their range (:class:`RangeFiles`, Arrow IPC in a work
directory), then each range is read back whole: memory is a batch, a range and the
tables (8 bytes an id), not the population's records.
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
        """The households of ``source``'s records with ``ids`` (int64, -1: none).

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


class RangeFiles:
    """Rows cut by range of spine households, each range's rows in a file of its own.

    ``lows`` are the lower bounds of the ranges after the first (the first range is
    open below, the last above, as :func:`simulator.council.view_files._ranges`
    gives them). Rows keep their order within a range.
    """

    def __init__(self, directory: Path, name: str, schema: pa.Schema, lows: list[int]):
        self._paths = [directory / f"{name}-{r}.arrow" for r in range(len(lows) + 1)]
        self._lows = np.asarray(lows, dtype=np.int64)
        self._schema = schema
        self._writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}

    def add(self, table: pa.Table, households: np.ndarray) -> None:
        """Append ``table``'s rows to their ranges, in order.

        ``households``: each row's household. The rows are taken once, grouped by
        range (not at all if they fall in one).
        """
        where = np.searchsorted(self._lows, households, side="right")
        if len(self._paths) <= np.iinfo(np.uint16).max:  # NumPy's radix sort
            where = where.astype(np.uint16)
        order = np.argsort(where, kind="stable")
        cut = np.searchsorted(where[order], np.arange(len(self._paths) + 1))
        if len(np.flatnonzero(np.diff(cut))) > 1:
            table = table.take(order)
        for r in np.flatnonzero(np.diff(cut)):
            writer = self._writers.get(r)
            if writer is None:
                writer = pa.ipc.new_file(self._paths[r], self._schema)
                self._writers[r] = writer
            writer.write_table(table.slice(cut[r], cut[r + 1] - cut[r]))

    def close(self) -> None:
        """Finish writing (before :meth:`read`)."""
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def read(self, r: int) -> pa.Table:
        """Range ``r``'s rows, in the order they were added."""
        if not self._paths[r].exists():
            return self._schema.empty_table()
        with pa.memory_map(str(self._paths[r])) as source:
            return pa.ipc.open_file(source).read_all()


def event_codes(kinds: pa.Array, wanted: pa.Array) -> np.ndarray:
    """Each value's place in ``wanted`` (-1: not there, or null), int16.

    A dictionary's values are looked up once, not once a row.
    """
    if not pa.types.is_dictionary(kinds.type):
        return pc.fill_null(pc.index_in(kinds, value_set=wanted), -1).to_numpy()
    places = pc.index_in(kinds.dictionary.cast(pa.string()), value_set=wanted)
    lookup = np.append(pc.fill_null(places, -1).to_numpy(), -1).astype(np.int16)
    return lookup[pc.fill_null(kinds.indices, -1).to_numpy()]


def spine_batches(path: Path, columns: tuple[str, ...]) -> Iterator[pa.Table]:
    """The spine's ``columns``, a batch at a time, in file order."""
    with pq.ParquetFile(path) as file:
        for batch in file.iter_batches(BATCH_ROWS, columns=list(columns)):
            yield pa.Table.from_batches([batch])
