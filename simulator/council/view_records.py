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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from simulator.council import view_partitions
from simulator.council.view import CENSUS, absence_rates, in_window, view_events
from simulator.council.view_partitions import event_codes
from simulator.schema.view import ViewConfig

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


def read_counted(file: CountedFile) -> Iterator[CountedBatch]:
    """The counted records of ``file``, a batch at a time."""
    path, source, key, types, absence, config, reference_date = file
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
    columns = [key, "event_type", "event_date"] + ["absence_rate"] * absence
    wanted = pa.array(types, pa.string())
    with pq.ParquetFile(path, read_dictionary=["event_type"]) as file:
        for batch in file.iter_batches(
            view_partitions.BATCH_ROWS, columns=columns, use_threads=False
        ):
            code = event_codes(batch.column(1), wanted)
            kept = np.flatnonzero(code >= 0)
            code = code[kept]
            dates = batch.column(2).cast(pa.timestamp("us"))
            window = in_window(
                dates.to_numpy(zero_copy_only=False)[kept], reference_date
            )
            ids = batch.column(0).to_numpy(zero_copy_only=False)
            ids = ids.astype(np.int64, copy=False)[kept]
            hit = np.flatnonzero(window & (column[code] >= 0))
            pupil = np.flatnonzero(window & (code == census)) if pupils else kept[:0]
            rates = (
                absence_rates(
                    batch.column(3)
                    .cast(pa.float64())
                    .to_numpy(zero_copy_only=False)[kept[pupil]]
                )
                if pupils
                else np.empty(0)
            )
            yield CountedBatch(ids[hit], column[code[hit]], ids[pupil], rates)


class CountedRecords:
    """Records files' counted records, read once and held for every view of them.

    A view of the same files asks again (:meth:`batches`, with the same
    arguments): they are not read again, whatever its households. The files must
    not change while held. Memory: about 14 bytes a counted event (ids narrowed
    to 4 bytes where they fit) and 12 a census row.
    """

    def __init__(self) -> None:
        self._held: dict[tuple[object, ...], list[CountedBatch]] = {}

    def batches(self, file: CountedFile) -> Iterable[CountedBatch]:
        """:func:`read_counted` of ``file``, read the first time only."""
        asked = file.asked()
        if asked not in self._held:
            self._held[asked] = [_narrowed(batch) for batch in read_counted(file)]
        return self._held[asked]


def _narrowed(batch: CountedBatch) -> CountedBatch:
    """``batch`` with its ids as int32 where they all fit (half the memory held)."""
    ids = np.concatenate([batch.events, batch.pupils])
    small = np.iinfo(np.int32)
    if len(ids) and (ids.min() < small.min or ids.max() > small.max):
        return batch
    return batch._replace(
        events=batch.events.astype(np.int32), pupils=batch.pupils.astype(np.int32)
    )
