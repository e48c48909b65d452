"""The records a view counts, read from their files whatever their households.

Every feature the view takes from records (:mod:`simulator.council.view_counts`)
reads, of each record, only its id, which of the view's event columns it counts
(events of a counted type in the window) and, of a pupil census row in the window,
its absence rate. Which household each record joins is asked only when they are
summed (:meth:`~simulator.council.view_counts.RecordCounts.add`). So views of the
same records files with other spines (the attribution ladder's ``model`` and
``spine`` rungs of one world, viewed through the truth) can read them once
(:class:`CountedRecords`) and each sum them by its own households.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from simulator.council import view_partitions
from simulator.council.view import (
    CENSUS,
    OPTIONAL_COLUMNS,
    absence_rates,
    in_window,
    view_events,
)
from simulator.council.view_partitions import event_codes
from simulator.schema.view import ViewConfig

ABSENCE = OPTIONAL_COLUMNS[0]
"""The records' column of pupils' absence rates (census rows only)."""
NOT_COUNTED = -1
"""A type's event column where no event column counts it."""


class CountedBatch(NamedTuple):
    """A batch's records that the view counts, by the id their households are found by.

    ``events``: ids of the events of a counted type in the window; ``columns``:
    each one's event column (its place in
    :func:`~simulator.council.view.view_events`). ``pupils``: ids of the pupil
    census rows in the window (none unless the file has ``absence_rate``);
    ``rates``: their absence rates as the view reads them
    (:func:`~simulator.council.view.absence_rates`).
    """

    events: np.ndarray
    columns: np.ndarray
    pupils: np.ndarray
    rates: np.ndarray


class CountedFile(NamedTuple):
    """A records file as a view counts it.

    ``source``'s file ``path``; ``key`` the column its records' households are
    found by; ``types`` the source's event types the view reads
    (:func:`~simulator.council.view.counted_types`); ``absence``: the file has
    ``absence_rate`` (read for census rows); the view's ``config`` and
    ``reference_date``.
    """

    path: Path
    source: str
    key: str
    types: tuple[str, ...]
    absence: bool
    config: ViewConfig
    reference_date: dt.date

    def asked(self) -> tuple[object, ...]:
        """What the counted records depend on, hashable (the config's event columns)."""
        return (*self[:5], tuple(view_events(self.config)), self.reference_date)


class _Counting(NamedTuple):
    """What :func:`_counted` asks of a file's records: :func:`counting` of it."""

    column: np.ndarray  # each type's event column (NOT_COUNTED: none)
    census: int  # the census rows' type (NOT_COUNTED: none)
    pupils: bool  # census rows' absence rates read
    wanted: pa.Array  # the types, as strings
    reference_date: dt.date


def counting(file: CountedFile) -> _Counting:
    """How the view counts ``file``'s records, read or drawn as they are."""
    _, source, _, types, absence, config, reference_date = file
    events = view_events(config)
    column = np.array(
        [
            events.index((source, t)) if (source, t) in events else NOT_COUNTED
            for t in types
        ],
        dtype=np.int16,
    )
    census = types.index(CENSUS[1]) if source == CENSUS[0] else NOT_COUNTED
    pupils = absence and census != NOT_COUNTED
    return _Counting(
        column, census, pupils, pa.array(types, pa.string()), reference_date
    )


def _counted(
    how: _Counting,
    ids: np.ndarray,
    kinds: pa.Array,
    dates: np.ndarray,
    rates: Callable[[np.ndarray], np.ndarray],
) -> CountedBatch:
    """The counted records of rows: their ``ids``, event types, dates and rates.

    ``dates`` as NumPy's ``datetime64``; ``rates(rows)`` the absence rates of those
    rows as floats (NaN: unknown), asked only where ``how.pupils``.
    """
    code = event_codes(kinds, how.wanted)
    kept = np.flatnonzero(code >= 0)
    code = code[kept]
    window = in_window(dates[kept], how.reference_date)
    ids = ids.astype(np.int64, copy=False)[kept]
    column = how.column
    hit = np.flatnonzero(window & (column[code] >= 0))
    pupil = np.flatnonzero(window & (code == how.census)) if how.pupils else kept[:0]
    read = absence_rates(rates(kept[pupil])) if how.pupils else np.empty(0)
    return CountedBatch(ids[hit], column[code[hit]], ids[pupil], read)


def read_counted(file: CountedFile) -> Iterator[CountedBatch]:
    """The counted records of ``file``, a batch at a time."""
    how = counting(file)
    columns = [file.key, "event_type", "event_date"] + [ABSENCE] * file.absence
    with pq.ParquetFile(file.path, read_dictionary=["event_type"]) as parquet:
        for batch in parquet.iter_batches(
            view_partitions.BATCH_ROWS, columns=columns, use_threads=False
        ):
            dates = batch.column(2).cast(pa.timestamp("us"))

            def rates(rows: np.ndarray, batch: pa.RecordBatch = batch) -> np.ndarray:
                rate = batch.column(3).cast(pa.float64())
                return rate.to_numpy(zero_copy_only=False)[rows]

            yield _counted(
                how,
                batch.column(0).to_numpy(zero_copy_only=False),
                batch.column(1),
                dates.to_numpy(zero_copy_only=False),
                rates,
            )


class CountedRecords:
    """Records files' counted records, read once and held for every view of them.

    A view of the same files asks again (:meth:`batches`, with the same
    arguments): they are not read again, whatever its households. The files must
    not change while held. Memory: about 14 bytes a counted event (ids narrowed
    to 4 bytes where they fit) and 12 a census row.

    Or the records of files never written, counted as they are drawn
    (:meth:`draw`: a world that only the truth's views read, a rung task's): a
    view asks of them what was drawn, and what their files would hold
    (:meth:`columns`).
    """

    def __init__(self) -> None:
        self._held: dict[tuple[object, ...], list[CountedBatch]] = {}
        self._drawn: dict[Path, tuple[str, ...]] = {}

    def batches(self, file: CountedFile) -> Iterable[CountedBatch]:
        """:func:`read_counted` of ``file``, read the first time only (or drawn)."""
        asked = file.asked()
        if asked not in self._held:
            if file.path in self._drawn:
                raise ValueError(f"{file.path}: records drawn for another view")
            self._held[asked] = [_narrowed(batch) for batch in read_counted(file)]
        return self._held[asked]

    def columns(self, path: Path) -> tuple[str, ...] | None:
        """The columns of the drawn records file at ``path`` (None: not drawn)."""
        return self._drawn.get(Path(path))

    def draw(
        self,
        path: Path,
        columns: tuple[str, ...],
        file: CountedFile | None,
        rows: Mapping[str, np.ndarray | pa.Array],
    ) -> None:
        """Hold the counted records of ``rows``, drawn for a file never written.

        ``path`` and ``columns``: the file the rows (a chunk's, in file order)
        would be written to, and its columns; ``file``: how the view counts them
        (its ``path`` the same; None: the view counts none of them). Each id and
        truth column is as a written file's would be, never missing.
        """
        self._drawn[Path(path)] = columns
        if file is None:
            return
        if Path(file.path) != Path(path) or file.absence != (ABSENCE in columns):
            raise ValueError(f"{path}: counted as another file")
        held = self._held.setdefault(file.asked(), [])
        dates = rows["event_date"]
        if isinstance(dates, pa.Array | pa.ChunkedArray):
            dates = dates.cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)
        kinds = rows["event_type"]
        if isinstance(kinds, pa.ChunkedArray):
            kinds = kinds.combine_chunks()
        if not isinstance(kinds, pa.Array):
            kinds = pa.array(kinds)
        ids = np.asarray(rows[file.key])

        def rates(at: np.ndarray) -> np.ndarray:
            rate = rows.get(ABSENCE)
            if rate is None:  # a chunk without census rows: a written file's nulls
                return np.full(len(at), np.nan)
            if isinstance(rate, pa.Array | pa.ChunkedArray):
                rate = rate.cast(pa.float64()).to_numpy(zero_copy_only=False)
            return np.asarray(rate, dtype=float)[at]

        held.append(_narrowed(_counted(counting(file), ids, kinds, dates, rates)))


def _narrowed(batch: CountedBatch) -> CountedBatch:
    """``batch`` with its ids as int32 where they all fit (half the memory held)."""
    ids = np.concatenate([batch.events, batch.pupils])
    small = np.iinfo(np.int32)
    if len(ids) and (ids.min() < small.min or ids.max() > small.max):
        return batch
    return batch._replace(
        events=batch.events.astype(np.int32), pupils=batch.pupils.astype(np.int32)
    )
