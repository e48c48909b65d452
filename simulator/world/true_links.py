"""The true links: what perfect linkage would give. Reads the hidden truth columns.

A record links to the spine row of its true person (``true_person_id``); when that
person has several spine rows (duplicates on the spine), the lowest
``spine_person_id``; when the person is not on the spine, the record is unlinked.
:func:`oracle_links` links frames in memory; :func:`write_oracle_links` links
Parquet files in DuckDB, in bounded memory, to the same bytes; and
:func:`write_oracle_view_file` writes the council's view of those links from the
files without writing the links (a rung of the attribution ladder reads nothing
else of them).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from simulator.council.flagging import ScoredView
from simulator.council.linkage.backend import LinkageDB, sql_text
from simulator.council.linkage.links import assemble, record_index
from simulator.council.linkage.on_disk import (
    links_compression,
    present_ids,
    repeats,
    spilling_db,
    write_links,
)
from simulator.council.view_files import write_linked_view
from simulator.council.view_partitions import NO_HOUSEHOLD, HouseholdTables
from simulator.council.view_records import CountedRecords
from simulator.council.view_spine import HeldSpine
from simulator.errors import InputDataError
from simulator.io import SCRATCH_COMPRESSION, id_bound
from simulator.schema.scenario import Scenario
from simulator.vocabulary import INDEX


def spine_rows_of(
    true_person: np.ndarray, spine_person: np.ndarray, wanted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each wanted true person's spine rows: how many, and the lowest spine id.

    ``true_person`` and ``spine_person`` are the spine's two columns. Person ids
    as generated (from 0, fewer than four slots a row) are looked up in tables
    indexed by id; others by pandas' groups.

    Returns
    -------
    n_rows : ndarray of int64
        Per ``wanted`` id, its spine rows (0: not on the spine).
    lowest : ndarray of int64
        Per ``wanted`` id, the lowest ``spine_person_id`` (undefined where
        ``n_rows`` is 0).

    Examples
    --------
    >>> n, low = spine_rows_of(np.array([4, 2, 4]), np.array([7, 8, 5]),
    ...                        np.array([4, 3, 2]))
    >>> n.tolist(), low[n > 0].tolist()
    ([2, 0, 1], [5, 8])
    """
    low = min(true_person.min(initial=0), wanted.min(initial=0))
    top = int(max(true_person.max(initial=-1), wanted.max(initial=-1))) + 1
    if low >= 0 and top <= 4 * (len(true_person) + len(wanted)):
        n_rows = np.bincount(true_person, minlength=top)
        lowest = np.full(top, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(lowest, true_person, spine_person)
        return n_rows[wanted].astype(np.int64), lowest[wanted]
    spine = pd.Series(spine_person, index=pd.Index(true_person, name="true_person_id"))
    groups = spine.groupby(level=0, sort=True)
    first = groups.min()
    at = first.index.get_indexer(wanted)  # -1, not there: the appended 0
    n_rows = np.append(groups.size().to_numpy(np.int64), 0)[at]
    return n_rows, np.append(first.to_numpy(np.int64), 0)[at]


def oracle_found(
    sources: Mapping[str, pd.DataFrame], spine: pd.DataFrame
) -> pd.DataFrame:
    """Per linked record (``rid`` in source order), its true spine person."""
    missing = [
        f"{name}: true_person_id"
        for name, f in {**sources, "spine": spine}.items()
        if "true_person_id" not in f.columns
    ]
    if missing:
        raise InputDataError(
            "oracle linkage needs the hidden truth column:\n  " + "\n  ".join(missing)
        )
    truth = (
        np.concatenate(
            [f["true_person_id"].to_numpy(np.int64) for f in sources.values()]
        )
        if sources
        else np.empty(0, np.int64)
    )
    n_rows, lowest = spine_rows_of(
        spine["true_person_id"].to_numpy(np.int64),
        spine["spine_person_id"].to_numpy(np.int64),
        truth,
    )
    rid = np.flatnonzero(n_rows > 0)
    return pd.DataFrame(
        {
            "rid": rid.astype(np.int64),
            "spine_person_id": lowest[rid],
            "match_key": pd.Categorical.from_codes(
                np.zeros(len(rid), np.int8), categories=["oracle"]
            ),
            "match_probability": np.full(len(rid), np.nan),
            "n_candidates": n_rows[rid],
        },
        copy=False,  # new arrays, for assembly only
    )


def oracle_links(
    sources: Mapping[str, pd.DataFrame], spine: pd.DataFrame
) -> pd.DataFrame:
    """The links table of perfect linkage.

    Parameters
    ----------
    sources : mapping of str to DataFrame
        Each agency's records, with ``record_id`` and hidden ``true_person_id``.
    spine : DataFrame
        With ``spine_person_id``, ``spine_household_id`` and ``true_person_id``.

    Returns
    -------
    DataFrame
        The links table (see :mod:`simulator.council.linkage.links`); ``match_key`` is
        ``"oracle"`` for every linked record.
    """
    found = oracle_found(sources, spine)
    households = spine[["spine_person_id", "spine_household_id"]]
    return assemble(record_index(sources), found, households)


def _parquet(path: Path) -> str:
    """A SQL expression reading the Parquet file at ``path``, row numbers included."""
    return f"read_parquet({sql_text(path)}, file_row_number = true)"


def _check_oracle_files(
    db: LinkageDB, record_files: Mapping[str, Path], spine_file: Path
) -> None:
    """One error naming every missing truth or id column, missing id, repeated id."""
    wanted = {name: ["record_id", "true_person_id"] for name in record_files}
    files = {**record_files, "spine": spine_file}
    wanted["spine"] = ["spine_person_id", "spine_household_id", "true_person_id"]
    problems = []
    for name, path in files.items():
        have = set(pq.read_schema(path).names)
        if missing := [c for c in wanted[name] if c not in have]:
            problems.append(f"{name}: missing column(s) {', '.join(missing)}")
            continue
        nulls = ", ".join(f"count(*) - count({c})" for c in wanted[name])
        counts = db.row(f"SELECT {nulls} FROM {_parquet(path)}")
        problems += [
            f"{name}: {c} has missing values"
            for c, k in zip(wanted[name], counts, strict=True)
            if k
        ]
    if not problems and repeats(db, spine_file, "spine_person_id"):
        problems.append("spine: spine_person_id is not unique")
    if problems:
        raise InputDataError(
            "oracle linkage needs the hidden truth and the ids:\n  "
            + "\n  ".join(problems)
        )


def _sound_by_footers(record_files: Mapping[str, Path], spine_file: Path) -> bool:
    """Whether the files pass :func:`_check_oracle_files`, known without DuckDB.

    Every id and truth column there with no value missing (every row group's
    statistics say none), and ``spine_person_id`` unique by a table of ids
    (:func:`~simulator.council.linkage.on_disk.present_ids`). False where that is
    not known: DuckDB checks, and names what is wrong.
    """
    wanted = dict.fromkeys(record_files.values(), ("record_id", "true_person_id"))
    wanted[spine_file] = ("spine_person_id", INDEX, "true_person_id")
    for path, columns in wanted.items():
        meta = pq.ParquetFile(path).metadata
        have = (
            {
                meta.row_group(0).column(c).path_in_schema: c
                for c in range(meta.num_columns)
            }
            if meta.num_row_groups
            else {}
        )
        for column in columns:
            if column not in have:
                return False
            stats = [
                meta.row_group(g).column(have[column]).statistics
                for g in range(meta.num_row_groups)
            ]
            if not all(
                s is not None and s.has_null_count and not s.null_count for s in stats
            ):
                return False
    marked = present_ids(spine_file, "spine_person_id")
    return marked is not None and int(np.count_nonzero(marked[0])) == marked[1]


TOP32 = np.iinfo(np.int32).max
"""A truth table is of 4 bytes where its spine ids and households are below this."""


def _truth_tables(spine_file: Path, names: list[str]) -> HouseholdTables | None:
    """Each source's records' households by ``true_person_id``, or None.

    A table indexed by true person (ids as generated, from 0:
    :func:`simulator.io.id_bound`) holding the household of the person's lowest
    ``spine_person_id`` (-1: not on the spine), as the oracle links them; one table
    for every source. None where
    the spine's persons are not so numbered or a household id is negative (DuckDB
    joins). The spine's ids are checked first (:func:`_check_oracle_files`).
    """
    bound = id_bound(spine_file, "true_person_id")
    if bound is None:
        return None
    spine = pq.read_table(
        spine_file, columns=["true_person_id", "spine_person_id", INDEX]
    )
    person, spine_person, household = (
        c.to_numpy().astype(np.int64, copy=False) for c in spine.columns
    )
    if household.min(initial=0) < 0:
        return None
    # 4 bytes a person where the ids fit (half the fresh pages of int64's); the
    # type's highest value, no spine id: a person not on the spine (yet).
    small = all(
        a.min(initial=0) > -TOP32 and a.max(initial=0) < TOP32
        for a in (spine_person, household)
    )
    kind = np.int32 if small else np.int64
    table = np.full(bound, np.iinfo(kind).max, dtype=kind)
    spine_person = spine_person.astype(kind, copy=False)
    np.minimum.at(table, person, spine_person)  # each person's lowest spine id
    first = spine_person == table[person]  # one row a person: the ids are unique
    table.fill(NO_HOUSEHOLD)  # one table's memory, not two: fresh pages cost
    table[person[first]] = household[first]
    return HouseholdTables("true_person_id", dict.fromkeys(names, table))


def oracle_links_sql(record_files: Mapping[str, Path], spine_file: Path) -> str:
    """The oracle's links of records files, in the links table's order.

    Sources are numbered in name order; records of a source by ``record_id``, then
    their place in the file (as :func:`oracle_links` keeps a repeated id's rows).
    """
    names = sorted(record_files)
    records = "\nUNION ALL\n".join(
        f"SELECT {k} AS source, CAST(record_id AS BIGINT) AS record_id, "
        "file_row_number AS row, CAST(true_person_id AS BIGINT) AS true_person_id "
        f"FROM {_parquet(record_files[name])}"
        for k, name in enumerate(names)
    ) or (
        "SELECT NULL::BIGINT AS source, NULL::BIGINT AS record_id, "
        "NULL::BIGINT AS row, NULL::BIGINT AS true_person_id WHERE false"
    )
    return f"""WITH spine AS (
  SELECT CAST(true_person_id AS BIGINT) AS true_person_id,
         CAST(spine_person_id AS BIGINT) AS spine_person_id,
         CAST(spine_household_id AS BIGINT) AS spine_household_id
  FROM {_parquet(spine_file)}
), persons AS (
  SELECT true_person_id, count(*) AS n_candidates,
         min(spine_person_id) AS spine_person_id
  FROM spine GROUP BY true_person_id
), records AS (
{records}
)
SELECT r.source, r.record_id, p.spine_person_id, s.spine_household_id,
       CASE WHEN p.spine_person_id IS NOT NULL THEN 'oracle' END AS match_key,
       p.n_candidates
FROM records AS r
LEFT JOIN persons AS p USING (true_person_id)
LEFT JOIN spine AS s ON s.spine_person_id = p.spine_person_id
ORDER BY r.source, r.record_id, r.row"""


def write_oracle_links(
    record_files: Mapping[str, Path],
    spine_file: Path,
    out: Path,
    work_dir: Path,
    *,
    memory_limit_gb: float | None = None,
    rows: int = 1 << 17,
    scratch: bool = False,
) -> int:
    """Write the links table of perfect linkage from files, in bounded memory.

    The same bytes as ``write_parquet(oracle_links(sources, spine), out)`` of the
    files read whole, done in DuckDB over the Parquet files: it reads only ids and
    ``true_person_id`` (a lean world's files will do) and holds at most
    ``memory_limit_gb``, spilling the rest to ``work_dir``.

    Parameters
    ----------
    record_files : mapping of str to Path
        Each agency's records file (``record_id``, ``true_person_id``), by source.
    spine_file : Path
        The spine (``spine_person_id``, ``spine_household_id``, ``true_person_id``).
    out : Path
        The links table's file (Parquet), written here.
    work_dir : Path
        A directory made for what DuckDB spills (it must not exist), removed at
        the end.
    memory_limit_gb : float, optional
        DuckDB's memory limit; by default DuckDB's own (80% of RAM).
    rows : int
        Links converted and written at a time.
    scratch : bool
        ``out`` is a scratch world's (:class:`simulator.io.RowGroupWriter`).

    Returns
    -------
    int
        The links table's rows (one per record).

    Raises
    ------
    simulator.errors.InputDataError
        If a file lacks ``true_person_id`` or an id column, an id is missing, or a
        ``spine_person_id`` repeats.
    """
    with spilling_db(memory_limit_gb, work_dir) as db:
        _check_oracle_files(db, record_files, spine_file)
        sql = oracle_links_sql(record_files, spine_file)
        codec = (
            links_compression(out, record_files.values())
            if scratch
            else SCRATCH_COMPRESSION
        )
        return write_links(db, sql, sorted(record_files), out, rows, scratch, codec)


def write_oracle_view_file(
    record_files: Mapping[str, Path],
    spine_file: Path,
    deprivation: pd.DataFrame | None,
    scenario: Scenario,
    out: Path | ScoredView,
    work_dir: Path,
    *,
    households_per_range: int,
    memory_limit_gb: float | None = None,
    scratch: bool = False,
    records: CountedRecords | None = None,
    spine: HeldSpine | None = None,
) -> int:
    """Write the council's view of the true links to ``out``; return its rows.

    The bytes of :func:`~simulator.council.view_files.write_view_file` of the links
    file :func:`write_oracle_links` writes, without writing it: each counted
    record joins its true person's household on the spine (that of the person's
    lowest ``spine_person_id``) in DuckDB, so no links table is written, read back,
    checked or sorted by record. The files are checked as for
    :func:`write_oracle_links`; arguments as for ``write_view_file`` (``out``
    may score the view instead, nothing written).
    ``records``: the records files' counted records, read once and held there
    for each view of them with another spine (a rung task's ``model`` and
    ``spine`` rungs: :func:`~simulator.council.view_files.write_linked_view`);
    or drawn there as generated, their files never written
    (:meth:`~simulator.council.view_records.CountedRecords.draw`: neither read
    nor checked).
    ``spine``: the spine's sums kept for, or taken from, another view of the
    same spine file (the world's own view: ``write_linked_view``).

    Raises
    ------
    simulator.errors.InputDataError
        As :func:`write_oracle_links` and ``write_view_file`` do (a records file
        without the view's columns, a missing truth or id column or value, a
        repeated ``spine_person_id``); records whose ``record_id`` repeats within a
        source each count, where the links table of them is refused.
    """
    write = partial(
        write_linked_view,
        record_files=record_files,
        spine_file=spine_file,
        deprivation=deprivation,
        scenario=scenario,
        out=out,
        households_per_range=households_per_range,
        scratch=scratch,
        records=records,
        spine=spine,
    )
    # Records drawn, never written (a rung task's): their ids and truth are whole.
    written = {
        name: path
        for name, path in record_files.items()
        if records is None or records.columns(path) is None
    }
    sound = _sound_by_footers(written, spine_file)
    tables = _truth_tables(spine_file, sorted(record_files)) if sound else None
    if tables is not None:  # no DuckDB: its connection costs more than a check
        return write(None, households=tables)
    with spilling_db(memory_limit_gb, work_dir) as db:
        _check_oracle_files(db, written, spine_file)
        if not sound:  # read once the files are checked (else read above: None)
            tables = _truth_tables(spine_file, sorted(record_files))
        if tables is None and len(written) < len(record_files):
            raise ValueError("records drawn, not written, need the spine's persons")
        if tables is None:
            persons = db.name("persons")
            db.create(
                persons,
                "SELECT CAST(true_person_id AS BIGINT) AS true_person_id, "
                f"arg_min(CAST({INDEX} AS BIGINT), CAST(spine_person_id AS BIGINT)) "
                f"AS {INDEX} FROM {_parquet(spine_file)} GROUP BY 1",
            )

        def households(name: str, records: str) -> str:
            return (
                f"{persons} AS l ON CAST(r.true_person_id AS BIGINT) = l.true_person_id"
            )

        return write(db, households=households if tables is None else tables)
