"""What each spine household's linked records count for the view, summed from files.

Every feature the view takes from records is a count or a maximum per household
(:func:`simulator.council.view.view_of_linked`): events of each counted type in the
window, pupils on a roll, persistently absent pupils, the highest absence rate. Where
every counted record's household is found by a table indexed by id
(:class:`~simulator.council.view_partitions.HouseholdTables`), they are summed into
arrays with a row per spine household as the records files are read a batch at a
time (:mod:`simulator.council.view_records`), in any order: no record is cut into a
range of households, written and read back. Memory is the arrays (4 bytes a
household and counted event type, 16 more for the education columns), a batch and
the tables (or the records read once for several views,
:class:`~simulator.council.view_records.CountedRecords`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from simulator.council.view import (
    EDUCATION_COLUMNS,
    not_on_spine,
    rows_of,
    view_events,
)
from simulator.council.view_partitions import NO_HOUSEHOLD, HouseholdTables
from simulator.council.view_records import CountedBatch
from simulator.schema.view import ViewConfig

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
    ) -> None:
        n = len(households)
        where = pd.Index(households)
        self._events = view_events(config)
        # 4-byte rows (a truth table's) while a row times the events fits them.
        wide = n * max(len(self._events), 1) > np.iinfo(np.int32).max
        converted: dict[int, np.ndarray] = {}  # sources may share a table
        for table in tables.tables.values():
            if id(table) not in converted:
                rows = _rows_of(table, where)
                converted[id(table)] = rows.astype(np.int64) if wide else rows
        self._tables = tables
        self._rows = HouseholdTables(
            tables.key, {k: converted[id(t)] for k, t in tables.tables.items()}
        )
        self._persistent_rate = config.persistent_absence
        self._counts = np.zeros(n * len(self._events), np.int32)
        self._pupils = np.zeros(n, np.int32)
        self._persistent = np.zeros(n, np.int32)
        self._highest = np.zeros(n)
        self._census_off_spine: list[np.ndarray] = []

    def add(self, source: str, batches: Iterable[CountedBatch]) -> None:
        """Count the records of ``source`` in ``batches`` (:mod:`view_records`).

        Records without a household are left out. Raises, as the view in memory
        does, naming the households of its counted events (not its census rows:
        :meth:`done`) that are not on the spine.
        """
        n_events = len(self._events)
        off_spine = []
        for batch in batches:
            row = self._rows.of(source, batch.events)
            if (row == OFF_SPINE).any():
                off_spine.append(
                    self._tables.of(source, batch.events[row == OFF_SPINE])
                )
            linked = row >= 0
            at = row * n_events + batch.columns
            np.add.at(self._counts, at if linked.all() else at[linked], ONE)
            if len(batch.pupils):
                self._census(batch.pupils, batch.rates, source)
        if sum(map(len, off_spine)):
            raise not_on_spine(np.concatenate(off_spine), "links table")

    def _census(self, ids: np.ndarray, rates: np.ndarray, source: str) -> None:
        """Count the pupils of census rows in the window (ids and absence rates)."""
        at = self._rows.of(source, ids)
        bad = at == OFF_SPINE
        self._census_off_spine.append(self._tables.of(source, ids[bad]))
        linked = at >= 0
        at, rates = at[linked], rates[linked]
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
