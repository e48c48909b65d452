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
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from audits.link_quality import (
    BY_GROUP_ORDER,
    LinkQuality,
    QualityPart,
    SpineTruth,
    combined,
    household_groups,
    quality_part,
)
from audits.link_truth import CARRIED, ERR, truth_of
from simulator.errors import InputDataError
from simulator.id_positions import IdPositions

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


def _source_links(links_file: Path, source: str) -> tuple[IdPositions, pd.Series]:
    """The links of ``source``: where each ``record_id`` is, and its spine person.

    Links are ordered by source, so Parquet's statistics skip the row groups of
    other sources; a link without a ``record_id`` is no record's.

    Raises
    ------
    InputDataError
        If the links have a record of ``source`` twice.
    """
    wanted = (pc.field("source") == source) & pc.field("record_id").is_valid()
    table = pq.read_table(
        links_file, columns=["record_id", "spine_person_id"], filters=wanted
    )
    ids = IdPositions(table.column("record_id").to_numpy())
    if not ids.is_unique:
        raise InputDataError("links table has a record more than once")
    person = table.column("spine_person_id").to_pandas(
        types_mapper={pa.int64(): pd.Int64Dtype()}.get
    )
    return ids, person


def judged_batches(
    links_file: Path, source: str, records_file: Path, rows: int
) -> Iterator[pd.DataFrame]:
    """A source's truth columns and links, ``rows`` records at a time, in file order.

    Each batch has the file's truth columns and ``err_*`` flags, and the links
    table's ``spine_person_id`` (NA if unlinked or absent from the links). The
    source's links are read once and looked up by ``record_id``.
    """
    ids, person = _source_links(links_file, source)
    columns = _columns(records_file, TRUTH_COLUMNS)
    with pq.ParquetFile(records_file) as records:
        for batch in records.iter_batches(rows, columns=columns, use_threads=False):
            frame = batch.to_pandas()
            at = ids.positions(frame["record_id"])
            frame["spine_person_id"] = person.array.take(at, allow_fill=True)
            yield frame


def _parts(
    links_file: Path,
    record_files: Mapping[str, Path],
    spine: SpineTruth,
    households: pd.DataFrame,
    rows: int,
) -> Iterator[QualityPart]:
    """Every source's records judged, a batch at a time, sources in mapping order."""
    groups = household_groups(households, None)
    empty = {name: _empty(path) for name, path in record_files.items()}
    for name, path in record_files.items():
        for batch in judged_batches(links_file, name, path, rows):
            links = pd.DataFrame(
                {
                    "source": name,
                    "record_id": batch["record_id"],
                    "spine_person_id": batch["spine_person_id"],
                }
            )
            truth = truth_of({**empty, name: batch.drop(columns="spine_person_id")})
            yield quality_part(links, truth, spine, groups)


def link_quality_files(
    links_file: Path,
    record_files: Mapping[str, Path],
    spine_file: Path,
    households_file: Path,
    *,
    rows: int,
    memory_limit_gb: float | None = None,
    work: Path | None = None,
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
    memory_limit_gb : float, optional
        Not used (the links were joined in DuckDB, within this limit); kept for
        callers.
    work : Path, optional
        Not used (DuckDB's spill directory); kept for callers.

    Returns
    -------
    LinkQuality
        As :func:`audits.link_quality.link_quality` of the same data, without
        ``records`` (empty).
    """
    if not record_files:
        raise InputDataError("link quality needs at least one source")
    spine_columns = _columns(spine_file, ("spine_person_id", *TRUTH_COLUMNS[1:3]))
    spine = SpineTruth.of(pq.read_table(spine_file, columns=spine_columns).to_pandas())
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
