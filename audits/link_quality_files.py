"""Link quality of a dataset on disk, a batch of records at a time.

What :func:`audits.link_quality.link_quality` measures from frames in memory,
measured from the files ``linkaudit link`` writes: each source's links are read
once (their row groups of that source: the links are ordered by source) and its
records a batch of rows at a time in file order, each record given its link by
``record_id`` (:class:`simulator.id_positions.IdPositions`); each batch is judged
(:func:`audits.link_quality.quality_part`) and the batches are combined
(:func:`audits.link_quality.combined`): the same tables, byte for byte. The
spine's truth columns, indexed once for every batch
(:class:`audits.link_quality.SpineTruth`), and the households' group columns stay
in memory (one row per spine row or household, a few integers each), and so do one
source's links (``record_id`` and ``spine_person_id``, about 24 bytes a record);
the per-record table (:attr:`~audits.link_quality.LinkQuality.records`) is not kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import closing
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from audits.link_quality import (
    BY_GROUP_ORDER,
    HouseholdGroups,
    LinkQuality,
    QualityPart,
    SpineTruth,
    combined,
    household_groups,
    judged_part,
    quality_part,
)
from audits.link_truth import CARRIED, ERR, source_errors, truth_of
from simulator.errors import InputDataError
from simulator.id_positions import SPARSE_FACTOR, IdPositions
from simulator.world.arrow_memory import system_arrow_memory

TRUTH_COLUMNS = ("record_id", "true_person_id", CARRIED, "true_household_id")
"""The record columns link quality reads, besides the ``err_*`` flags."""


def _columns(path: Path, wanted: tuple[str, ...]) -> list[str]:
    """``wanted`` columns the file has, then its ``err_*`` flags."""
    names = pq.read_schema(path).names
    return [c for c in wanted if c in names] + [c for c in names if c.startswith(ERR)]


def _empty(path: Path) -> pd.DataFrame:
    """A records file's truth columns and flags, with no rows."""
    table = pq.read_schema(path).empty_table()
    return table.select(_columns(path, TRUTH_COLUMNS)).to_pandas()


def _source_runs(links: pq.ParquetFile) -> list[tuple[str | None, int, int]]:
    """Runs of rows of one ``source`` (None: missing): name, first row, row after.

    ``links`` read with ``source`` as a dictionary, one row group at a time.
    """
    runs: list[tuple[str | None, int, int]] = []
    offset = 0
    for i in range(links.metadata.num_row_groups):
        for chunk in links.read_row_group(i, columns=["source"]).column(0).chunks:
            names = chunk.dictionary.to_pylist()
            codes = pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False)
            cut = np.flatnonzero(codes[1:] != codes[:-1]) + 1
            starts = np.r_[0, cut] if len(codes) else np.empty(0, np.int64)
            for a, b in zip(starts, np.r_[starts[1:], len(codes)], strict=True):
                name = names[codes[a]] if codes[a] >= 0 else None
                if runs and runs[-1][0] == name and runs[-1][2] == offset + a:
                    runs[-1] = (name, runs[-1][1], offset + int(b))
                else:
                    runs.append((name, offset + int(a), offset + int(b)))
            offset += len(codes)
    return runs


class SourceLinks:
    """A links file's links of one source at a time, the file read once.

    The ``source`` column is read first (as dictionary codes, a row group at a
    time) to find each source's run of rows: linkaudit writes links ordered by
    source, so a source's links are then read from the row groups holding its run
    alone, and a row group that two sources' runs share is read once, held until
    the second reads it, whatever order the sources are read in. A source whose
    links are not one run is filtered from the whole file.
    """

    def __init__(self, links_file: Path):
        self.path = links_file
        self._file = pq.ParquetFile(links_file, read_dictionary=["source"])
        meta = self._file.metadata
        sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        self._starts = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        self._runs: dict[str | None, tuple[int, int] | None] = {}
        for name, a, b in _source_runs(self._file):  # None: more than one run
            self._runs[name] = None if name in self._runs else (a, b)
        self._readers: dict[int, int] = {}  # row group: runs yet to read it
        for run in self._runs.values():
            for g in self._groups(run) if run is not None else ():
                self._readers[g] = self._readers.get(g, 0) + 1
        self._held: dict[int, pa.Table] = {}

    def _groups(self, run: tuple[int, int]) -> range:
        """The row groups holding rows ``[a, b)``."""
        a, b = run
        first = int(np.searchsorted(self._starts, a, side="right")) - 1
        return range(first, int(np.searchsorted(self._starts, b, side="left")))

    def _group(self, g: int, columns: list[str]) -> pa.Table:
        """Row group ``g``'s ``columns``, read once: held while a run still needs it."""
        table = self._held.pop(g, None)
        if table is None:
            table = self._file.read_row_group(g, columns=columns)
        self._readers[g] -= 1
        if self._readers[g]:
            self._held[g] = table
        return table

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def _table(self, source: str) -> pa.Table:
        """The source's ``record_id`` and ``spine_person_id`` with a ``record_id``."""
        columns = ["record_id", "spine_person_id"]
        if source not in self._runs:
            return self._file.schema_arrow.empty_table().select(columns)
        run = self._runs[source]
        if run is None:
            wanted = pc.field("source") == source
            table = pq.read_table(self.path, columns=columns, filters=wanted)
        else:
            groups = self._groups(run)
            table = pa.concat_tables([self._group(g, columns) for g in groups])
            a, b = run
            table = table.slice(a - int(self._starts[groups[0]]), b - a)
        if table.column("record_id").null_count:
            table = table.filter(pc.is_valid(table.column("record_id")))
        return table

    def of(self, source: str) -> tuple[IdPositions, pa.ChunkedArray]:
        """Where each of the source's ``record_id`` is, and its spine person.

        A link without a ``record_id`` is no record's; the spine persons are
        Arrow's (null if unlinked).

        Raises
        ------
        InputDataError
            If the links have a record of ``source`` twice.
        """
        table = self._table(source)
        ids = IdPositions(table.column("record_id").to_numpy())
        if not ids.is_unique:
            raise InputDataError("links table has a record more than once")
        return ids, table.column("spine_person_id")


def judged_batches(
    links: SourceLinks, source: str, records_file: Path, rows: int
) -> Iterator[tuple[pd.DataFrame, pd.Series, pa.RecordBatch]]:
    """A source's truth columns and links, ``rows`` records at a time, in file order.

    Each batch is a frame of the file's truth columns (a block per column, as
    Arrow holds them: not copied into one), the links table's
    ``spine_person_id`` of each record (NA if unlinked or absent from the
    links), and the file's ``err_*`` flags as Arrow columns: only false and
    missed links' are read from them (a few in a hundred), not turned into a
    frame of every row. The source's links are read once and looked up by
    ``record_id``.
    """
    ids, person = links.of(source)
    # The links' ids and gaps as arrays once: a batch takes from them with numpy,
    # a slot past the end standing for a record absent from the links.
    values = np.zeros(len(person) + 1, dtype=np.int64)
    values[:-1] = pc.fill_null(person, 0).to_numpy()
    missing = np.ones(len(person) + 1, dtype=bool)
    missing[:-1] = person.is_null().to_numpy()
    columns = _columns(records_file, TRUTH_COLUMNS)
    truth = [c for c in columns if not c.startswith(ERR)]
    flags = [c for c in columns if c.startswith(ERR)]
    with pq.ParquetFile(records_file) as records:
        for batch in records.iter_batches(rows, columns=columns, use_threads=False):
            frame = batch.select(truth).to_pandas(split_blocks=True)
            at = ids.positions(frame["record_id"])
            at[at < 0] = len(values) - 1
            linked = pd.Series(
                pd.arrays.IntegerArray(values[at], missing[at]), copy=False
            )
            yield frame, linked, batch.select(flags)


def _parts(
    links_file: Path,
    record_files: Mapping[str, Path],
    spine: SpineTruth,
    households: pd.DataFrame,
    rows: int,
) -> Iterator[QualityPart]:
    """Every source's records judged, a batch at a time, sources in mapping order."""
    groups = household_groups(households, None)
    source_links = SourceLinks(links_file)
    with closing(source_links):
        yield from _judged_parts(source_links, record_files, spine, groups, rows)


def _judged_parts(
    source_links: SourceLinks,
    record_files: Mapping[str, Path],
    spine: SpineTruth,
    groups: HouseholdGroups | None,
    rows: int,
) -> Iterator[QualityPart]:
    """:func:`_parts` with the links open."""
    empty = {name: _empty(path) for name, path in record_files.items()}
    for name, path in record_files.items():
        marks = np.zeros(0, dtype=bool)
        for batch, linked_ids, flags in judged_batches(source_links, name, path, rows):
            repeated, marks = _repeated(batch["record_id"].to_numpy(), marks)
            if repeated:
                raise InputDataError(f"source {name} has a record_id more than once")
            truth = truth_of({**empty, name: batch})
            record_flags = partial(_record_flags, empty, name, flags)
            yield judged_part(
                linked_ids, truth, spine, groups, record_flags=record_flags
            )


def _record_flags(
    empty: Mapping[str, pd.DataFrame],
    name: str,
    flags: pa.RecordBatch,
    rows: np.ndarray,
) -> pd.DataFrame:
    """The ``err_*`` flags of a batch of source ``name``'s records ``rows``.

    As :func:`audits.link_truth.record_errors` of the batch with its flags read
    whole (every source's columns; ``empty``: every source with no rows), from
    the rows taken alone.
    """
    sources = {**empty, name: flags.take(pa.array(rows, pa.int64())).to_pandas()}
    starts = np.zeros(len(sources) + 1, dtype=np.int64)
    starts[list(sources).index(name) + 1 :] = len(rows)
    return source_errors(sources, starts, np.arange(len(rows), dtype=np.int64))


def _repeated(ids: np.ndarray, marks: np.ndarray) -> tuple[bool, np.ndarray]:
    """Whether a batch's ``ids`` repeat, and ``marks`` to reuse for the next batch.

    Small non-negative integers are marked in ``marks`` (all False, grown to the
    largest id, cleared again after): a scan of the batch and of the marks, not a
    hash table per batch, whose ids are scattered over the whole source. Other
    ids go through :class:`simulator.id_positions.IdPositions`.
    """
    if not len(ids):
        return False, marks
    if ids.dtype.kind not in "iu" or ids.min() < 0:
        return not IdPositions(ids).is_unique, marks
    top = int(ids.max())
    if top >= len(marks):
        if top > SPARSE_FACTOR * len(ids) + (1 << 24):
            return not IdPositions(ids).is_unique, marks
        marks = np.zeros(top + 1, dtype=bool)
    marks[ids] = True
    distinct = int(np.count_nonzero(marks))
    marks[ids] = False
    return distinct < len(ids), marks


@system_arrow_memory()
def link_quality_files(
    links_file: Path,
    record_files: Mapping[str, Path],
    spine_file: Path,
    households_file: Path,
    *,
    rows: int,
) -> LinkQuality:
    """Measure a links file against the truth in records files, batch by batch.

    Parameters
    ----------
    links_file : Path
        The links table (``source``, ``record_id``, ``spine_person_id``).
    record_files : mapping of str to Path
        Each source's records file (with its hidden truth columns), in the order
        the tables list sources.
    spine_file, households_file : Path
        The spine (with its hidden truth) and the truth households.
    rows : int
        Records judged at a time.

    Returns
    -------
    LinkQuality
        As :func:`audits.link_quality.link_quality` of the same data, without
        ``records`` (empty). Arrow's buffers come from the system pool (mimalloc
        faulted every batch's pages in again: 1 s of system CPU at 1,000,000
        households).
    """
    if not record_files:
        raise InputDataError("link quality needs at least one source")
    spine_columns = _columns(spine_file, ("spine_person_id", *TRUTH_COLUMNS[1:3]))
    table = pq.read_table(spine_file, columns=spine_columns)
    flags = [c for c in spine_columns if c.startswith(ERR)]
    spine = SpineTruth.of(table.drop_columns(flags).to_pandas(), table.select(flags))
    names = pq.read_schema(households_file).names
    households = pq.read_table(
        households_file,
        columns=["household_id", *(c for c in BY_GROUP_ORDER if c in names)],
    ).to_pandas()
    parts = list(_parts(links_file, record_files, spine, households, rows))
    if not parts:  # no records at all: judge none
        empty = {n: _empty(p) for n, p in record_files.items()}
        links = pd.DataFrame({"source": [], "record_id": [], "spine_person_id": []})
        groups = household_groups(households, None)
        parts = [quality_part(links, truth_of(empty), spine, groups)]
    return combined(parts, True)
