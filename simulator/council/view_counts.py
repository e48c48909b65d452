"""What each spine household's linked records count for the view, summed from files.

Every feature the view takes from records is a count or a maximum per household
(:func:`simulator.council.view.view_of_linked`): events of each counted type in the
window, pupils on a roll, persistently absent pupils, the highest absence rate. Where
every counted record's household is found by a table indexed by id
(:class:`~simulator.council.view_partitions.HouseholdTables`), they are summed into
arrays with a row per spine household as the records files are read a batch at a
time, in any order: no record is cut into a range of households, written and read
back. Memory is the arrays (4 bytes a household and counted event type, 16 more for
the education columns), a batch and the tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simulator.council import view_partitions
from simulator.council.view import (
    CENSUS,
    EDUCATION_COLUMNS,
    absence_rates,
    in_window,
    not_on_spine,
    rows_of,
    view_events,
)
from simulator.council.view_partitions import NO_HOUSEHOLD, HouseholdTables, event_codes
from simulator.schema.view import ViewConfig

NOT_COUNTED = -1
"""A type's event column where no event column counts it."""
OFF_SPINE = -2
"""A record's row where its household is not on the spine."""
ONE = np.ones(1, np.int32)
ONE.setflags(write=False)
"""What ``np.add.at`` adds to the counts: of their type, NumPy's fast path (a
Python ``1`` took ten times as long)."""


def _rows_of(table: np.ndarray, households: pd.Index) -> np.ndarray:
    """A table of households by id as one of rows: each household's row.

    :data:`NO_HOUSEHOLD` stays; a household not on the spine is
    :data:`OFF_SPINE`. Households numbered ``0`` to ``n - 1`` are their own rows.
    """
    n = len(households)
    numbered = bool(n) and households[0] == 0 and households[-1] == n - 1
    if numbered and NO_HOUSEHOLD <= table.min(initial=0) <= table.max(initial=0) < n:
        return table
    rows = rows_of(households, table)
    rows[(rows < 0) & (table != NO_HOUSEHOLD)] = OFF_SPINE
    return rows


class RecordCounts:
    """Each spine household's counted linked records, summed a batch at a time.

    ``households`` are the spine's (sorted, unique: the view's rows) and ``tables``
    each record's household by id. Add each source's records (:meth:`add`, in the
    view's order of sources), call :meth:`done`, then take the rows of any range
    of households (:meth:`rows`): what :func:`~simulator.council.view.view_of_linked`
    counts of the records linked to them.
    """

    def __init__(
        self,
        households: np.ndarray,
        tables: HouseholdTables,
        config: ViewConfig,
        reference_date: dt.date,
    ) -> None:
        n = len(households)
        where = pd.Index(households)
        converted: dict[int, np.ndarray] = {}  # sources may share a table
        for table in tables.tables.values():
            if id(table) not in converted:
                converted[id(table)] = _rows_of(table, where)
        self._tables = tables
        self._rows = HouseholdTables(
            tables.key, {k: converted[id(t)] for k, t in tables.tables.items()}
        )
        self._events = view_events(config)
        self._reference_date = reference_date
        self._persistent_rate = config.persistent_absence
        self._counts = np.zeros(n * len(self._events), np.int32)
        self._pupils = np.zeros(n, np.int32)
        self._persistent = np.zeros(n, np.int32)
        self._highest = np.zeros(n)
        self._census_off_spine: list[np.ndarray] = []

    def _batches(
        self, path: Path, source: str, types: tuple[str, ...], absence: bool
    ) -> Iterator[tuple[np.ndarray, ...]]:
        """Each batch's records of ``types`` with a household.

        Type (its place among ``types``), row, id, date (``datetime64``) and, with
        ``absence``, the absence rate (NaN where missing).
        """
        columns = [self._tables.key, "event_type", "event_date"]
        columns += ["absence_rate"] * absence
        wanted = pa.array(types, pa.string())
        with pq.ParquetFile(path, read_dictionary=["event_type"]) as file:
            for batch in file.iter_batches(
                view_partitions.BATCH_ROWS, columns=columns, use_threads=False
            ):
                code = event_codes(batch.column(1), wanted)
                ids = batch.column(0).to_numpy(zero_copy_only=False)
                ids = ids.astype(np.int64, copy=False)
                row = self._rows.of(source, ids)
                kept = np.flatnonzero((code >= 0) & (row != NO_HOUSEHOLD))
                dates = batch.column(2).cast(pa.timestamp("us"))
                rate = (
                    batch.column(3).cast(pa.float64()).to_numpy(zero_copy_only=False)
                    if absence
                    else np.empty(len(batch))
                )
                yield (
                    code[kept],
                    row[kept],
                    ids[kept],
                    dates.to_numpy(zero_copy_only=False)[kept],
                    rate[kept],
                )

    def add(
        self, source: str, path: Path, types: tuple[str, ...], absence: bool
    ) -> None:
        """Count the records of ``source`` in ``path`` whose event types are ``types``.

        ``absence``: the file has ``absence_rate`` (read for census rows). Raises,
        as the view in memory does, naming the households of its counted events
        (not its census rows: :meth:`done`) that are not on the spine.
        """
        n_events = len(self._events)
        column = np.array(
            [
                self._events.index((source, t)) if (source, t) in self._events else -1
                for t in types
            ],
            dtype=np.int64,
        )
        census = types.index(CENSUS[1]) if source == CENSUS[0] else NOT_COUNTED
        off_spine = []
        for code, row, ids, dates, rate in self._batches(path, source, types, absence):
            window = in_window(dates, self._reference_date)
            hit = np.flatnonzero(window & (column[code] >= 0))
            bad = row[hit] == OFF_SPINE
            off_spine.append(self._tables.of(source, ids[hit[bad]]))
            hit = hit[~bad]
            np.add.at(self._counts, row[hit] * n_events + column[code[hit]], ONE)
            if absence and census != NOT_COUNTED:
                self._census(window & (code == census), row, ids, source, rate)
        if sum(map(len, off_spine)):
            raise not_on_spine(np.concatenate(off_spine), "links table")

    def _census(
        self,
        rows: np.ndarray,
        row: np.ndarray,
        ids: np.ndarray,
        source: str,
        rate: np.ndarray,
    ) -> None:
        """Count the pupils of ``rows`` (a batch's census rows in the window)."""
        at = row[rows]
        bad = at == OFF_SPINE
        self._census_off_spine.append(self._tables.of(source, ids[rows][bad]))
        at = at[~bad]
        rates = absence_rates(rate[rows][~bad])
        np.add.at(self._pupils, at, ONE)
        np.add.at(self._persistent, at[rates >= self._persistent_rate], ONE)
        np.maximum.at(self._highest, at, rates)

    def done(self) -> None:
        """Every source added: refuse census rows linked to households off the spine."""
        if sum(map(len, self._census_off_spine)):
            raise not_on_spine(np.concatenate(self._census_off_spine), "links table")

    def rows(
        self, start: int, stop: int
    ) -> tuple[np.ndarray, Mapping[str, np.ndarray]]:
        """Households ``start`` to ``stop`` (rows): event counts and education."""
        n_events = len(self._events)
        counts = self._counts[start * n_events : stop * n_events]
        education = (
            self._pupils[start:stop].astype(np.int64),
            self._persistent[start:stop].astype(np.int64),
            self._highest[start:stop],
        )
        return (
            counts.reshape(stop - start, n_events).astype(np.int64),
            dict(zip(EDUCATION_COLUMNS, education, strict=True)),
        )
