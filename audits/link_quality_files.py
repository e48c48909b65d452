"""Link quality of a dataset on disk, a batch of records at a time.

What :func:`audits.link_quality.link_quality` measures from frames in memory,
measured from the files ``linkaudit link`` writes: each source's records are read
with their links a batch of rows at a time (DuckDB joins the records file to the
links file and returns them in the file's row order, within its memory limit), each
batch is judged (:func:`audits.link_quality.quality_part`) and the batches are
combined (:func:`audits.link_quality.combined`): the same tables, byte for byte.
The spine's truth columns, indexed once for every batch
(:class:`audits.link_quality.SpineTruth`), and the households' group columns stay in
memory (one row per spine row or household, a few integers each); the per-record table
(:attr:`~audits.link_quality.LinkQuality.records`) is not kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
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


def _quoted(path: Path) -> str:
    """A path as an SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def judged_batches(
    con: duckdb.DuckDBPyConnection,
    links_file: Path,
    source: str,
    records_file: Path,
    rows: int,
) -> Iterator[pd.DataFrame]:
    """A source's truth columns and links, ``rows`` records at a time, in file order.

    Each batch has the file's truth columns and ``err_*`` flags, and the links
    table's ``spine_person_id`` (NA if unlinked or absent from the links).
    """
    columns = ", ".join(f'r."{c}"' for c in _columns(records_file, TRUTH_COLUMNS))
    sql = f"""SELECT {columns}, l.spine_person_id
FROM read_parquet({_quoted(records_file)}, file_row_number = true) AS r
LEFT JOIN (
    SELECT record_id, spine_person_id FROM read_parquet({_quoted(links_file)})
    WHERE source = $source
) AS l USING (record_id)
ORDER BY r.file_row_number"""
    reader = con.sql(sql, params={"source": source}).to_arrow_reader(rows)
    for batch in reader:
        frame = pa.Table.from_batches([batch]).to_pandas()
        frame["spine_person_id"] = frame["spine_person_id"].astype("Int64")
        yield frame


def _parts(
    con: duckdb.DuckDBPyConnection,
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
        for batch in judged_batches(con, links_file, name, path, rows):
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
        DuckDB's memory limit while it joins and orders (its default if None).
    work : Path, optional
        Where DuckDB spills beyond its limit.

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
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        if memory_limit_gb is not None:
            con.execute("SET memory_limit = ?", [f"{memory_limit_gb:g}GB"])
        if work is not None:
            con.execute("SET temp_directory = ?", [str(work)])
        parts = list(_parts(con, links_file, record_files, spine, households, rows))
    finally:
        con.close()
    if not parts:  # no records at all: judge none
        empty = {n: _empty(p) for n, p in record_files.items()}
        links = pd.DataFrame({"source": [], "record_id": [], "spine_person_id": []})
        groups = household_groups(households, None)
        parts = [quality_part(links, truth_of(empty), spine, groups)]
    return combined(parts, True)
