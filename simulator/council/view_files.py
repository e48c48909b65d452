"""The linked family view from files, a range of spine households at a time.

What :func:`simulator.council.view.build_view` does with frames in memory, done from
the files ``linkaudit`` writes (each agency's records, the spine, the links table):
every feature of a spine household reads only its own spine rows, the records linked
to it and the public deprivation lookup
(:func:`~simulator.council.view.view_of_linked`), so DuckDB joins the records the
view counts to their links and sorts them, and the spine's view columns, by
``spine_household_id`` once; the view is then built for one range of households at
a time and written a row group at a time (:class:`simulator.io.RowGroupWriter`):
the same bytes as the whole view written at once, whatever the range. Memory is
bounded by the range, not the population; DuckDB holds at most ``memory_limit_gb``
and spills the rest to a work directory.

Only the columns the view reads are read: ``record_id``, ``event_type``,
``event_date`` and ``absence_rate`` of the records; ``source``, ``record_id`` and
``spine_household_id`` of the links; ``spine_person_id``, ``spine_household_id``,
``dob`` and ``postcode`` of the spine. No hidden ``true_``/``err_`` column is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from simulator.council.linkage.backend import LinkageDB, sql_text
from simulator.council.linkage.on_disk import spilling_db
from simulator.council.view import (
    OPTIONAL_COLUMNS,
    RECORD_COLUMNS,
    SPINE_COLUMNS,
    counted_types,
    view_of_linked,
)
from simulator.errors import InputDataError
from simulator.io import RowGroupWriter
from simulator.schema.scenario import Scenario
from simulator.vocabulary import INDEX

LINK_COLUMNS = ("source", "record_id", INDEX)
"""The links table's columns the view reads."""
ABSENCE = OPTIONAL_COLUMNS[0]


def _require_file(path: Path, columns: tuple[str, ...], what: str) -> list[str]:
    """The file's column names; an error names the view's columns it lacks."""
    try:
        names = pq.read_schema(path).names
    except (pa.ArrowInvalid, OSError) as e:
        raise InputDataError(f"{path}: not a readable Parquet file ({e})") from e
    missing = [c for c in columns if c not in names]
    if missing:
        raise InputDataError(
            f"{what}: missing column(s) {', '.join(missing)}; expected "
            f"{', '.join(columns)}"
        )
    return names


def _few(rows: list[tuple[object, ...]]) -> str:
    shown = ", ".join(str(r[0]) for r in rows[:5])
    return shown + (", ..." if len(rows) > 5 else "")


def _check_links(db: LinkageDB, name: str, records: str, links: str) -> None:
    """Every record of ``name`` has exactly one row in the links table."""
    src = sql_text(name)
    repeated = db.con.sql(
        f"SELECT record_id FROM {links} WHERE source = {src} GROUP BY record_id "
        "HAVING count(*) > 1 ORDER BY record_id LIMIT 6"
    ).fetchall()
    if repeated:
        raise InputDataError(
            f"links table: {name} record(s) have two rows or more, e.g. record_id "
            f"{_few(repeated)}"
        )
    absent = db.con.sql(
        f"SELECT record_id FROM {records} ANTI JOIN "
        f"(SELECT record_id FROM {links} WHERE source = {src}) USING (record_id) "
        "LIMIT 6"
    ).fetchall()
    if absent:
        raise InputDataError(
            f"links table: {name} record(s) have no row (the links table has one row "
            f"per record, linked or not), e.g. record_id {_few(absent)}"
        )


def id_bound(path: Path, column: str) -> int | None:
    """One more than the highest ``column`` value of a Parquet file, or None.

    None unless its ids are numbered from 0 (integers, none missing or negative,
    fewer than four slots a row), as the file's statistics say: the size of a
    table indexed by id, read from the footer alone (None for a file that is not
    readable, left to the caller's own check to name).
    """
    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowInvalid, OSError):
        return None
    stats = [
        meta.row_group(g).column(c).statistics
        for g in range(meta.num_row_groups)
        for c in range(meta.num_columns)
        if meta.row_group(g).column(c).path_in_schema == column
    ]
    if len(stats) != meta.num_row_groups or not all(
        s is not None and s.has_min_max and s.has_null_count and not s.null_count
        for s in stats
    ):
        return None
    if not stats:
        return 0
    low, high = min(s.min for s in stats), max(s.max for s in stats)
    ok = type(low) is int and low >= 0 and high < 4 * meta.num_rows
    return high + 1 if ok else None


def _links_complete(
    links_file: Path, record_files: Mapping[str, Path], names: list[str]
) -> bool:
    """Whether every record of the sources ``names`` has exactly one links row.

    Record ids as generated (from 0 in each source) are marked in a table per
    source, the links file and then the records read a batch at a time: a
    source's links repeat an id where they mark fewer ids than they have rows.
    False where the ids are not so numbered or a record's row is missing or
    repeated: :func:`_check_links` then asks DuckDB, which names the records
    (ten times as long).
    """
    bounds = {name: id_bound(record_files[name], "record_id") for name in names}
    if any(b is None for b in bounds.values()):
        return False
    seen = {name: np.zeros(bound or 0, dtype=bool) for name, bound in bounds.items()}
    rows = dict.fromkeys(names, 0)
    links = pq.ParquetFile(links_file, read_dictionary=["source"])
    for batch in links.iter_batches(
        batch_size=1 << 20, columns=["source", "record_id"]
    ):
        source, ids = batch.column(0), batch.column(1)
        if (
            not pa.types.is_dictionary(source.type)
            or not pa.types.is_integer(ids.type)
            or ids.null_count
        ):
            return False
        codes = pc.fill_null(source.indices, -1).to_numpy()
        ids = ids.to_numpy()
        for code, name in enumerate(source.dictionary.to_pylist()):
            if name not in seen:
                continue
            mine = ids[codes == code]
            if len(mine) and (mine.min() < 0 or mine.max() >= len(seen[name])):
                return False  # an id no record has (a repeat, or a stray link)
            seen[name][mine] = True
            rows[name] += len(mine)
    if any(np.count_nonzero(seen[n]) != rows[n] for n in names):
        return False
    for name in names:
        records = pq.ParquetFile(record_files[name])
        for batch in records.iter_batches(batch_size=1 << 20, columns=["record_id"]):
            if not seen[name][batch.column(0).to_numpy()].all():
                return False
    return True


def _linked_sql(
    record_files: Mapping[str, Path],
    types: Mapping[str, tuple[str, ...]],
    households: Callable[[str, str], str],
) -> tuple[str, list[str], set[str]]:
    """The query of every counted record with its household, sorted by household.

    ``households(name, records)`` gives, for source ``name`` whose records are the
    relation ``records``, what the records join to find their households: a
    relation ``l`` with ``spine_household_id`` and the join's ``USING`` or ``ON``
    clause (the links table's rows of the source, or the truth's households of
    :mod:`simulator.world.true_links`), records without a household left out.
    ``event_type`` is given as its place among the source's ``types`` (a small
    integer: DuckDB sorts and hands over no string per record). Returns the query,
    the sources it reads (``src`` numbers them) and the sources whose records carry
    ``absence_rate``.
    """
    names = sorted(n for n in record_files if n in types)
    with_absence: set[str] = set()
    parts = []
    for k, name in enumerate(names):
        columns = _require_file(
            record_files[name], ("record_id", *RECORD_COLUMNS), f"{name} records"
        )
        records = f"read_parquet({sql_text(record_files[name])})"
        join = households(name, records)
        absence = f"r.{ABSENCE}" if ABSENCE in columns else "NULL::DOUBLE"
        if ABSENCE in columns:
            with_absence.add(name)
        wanted = ", ".join(sql_text(t) for t in types[name])
        parts.append(
            f"SELECT {k}::SMALLINT AS src, l.{INDEX}, "
            f"(list_position([{wanted}], r.event_type) - 1)::SMALLINT AS event_type, "
            f"r.event_date, {absence}::DOUBLE AS {ABSENCE}\n"
            f"FROM {records} AS r JOIN {join}\nWHERE r.event_type IN ({wanted})"
        )
    if not parts:
        parts = [
            f"SELECT NULL::SMALLINT AS src, NULL::BIGINT AS {INDEX}, "
            "NULL::SMALLINT AS event_type, NULL::TIMESTAMP AS event_date, "
            f"NULL::DOUBLE AS {ABSENCE} WHERE false"
        ]
    return "\nUNION ALL\n".join(parts) + f"\nORDER BY {INDEX}", names, with_absence


def _ranges(
    households: np.ndarray, per_range: int
) -> Iterator[tuple[int | None, int | None]]:
    """``[low, high)`` bounds of ``per_range`` households at a time (None: open).

    The first range is open below and the last above, so a link to a household
    that is not on the spine falls in some range, and is refused there as in memory.
    """
    n = len(households)
    starts = list(range(0, n, per_range)) or [0]
    for i, start in enumerate(starts):
        low = int(households[start]) if i else None
        high = int(households[starts[i + 1]]) if i + 1 < len(starts) else None
        yield low, high


def _where(low: int | None, high: int | None) -> str:
    """The SQL condition of a range of :func:`_ranges`."""
    conditions = []
    if low is not None:
        conditions.append(f"{INDEX} >= {low}")
    if high is not None:
        conditions.append(f"{INDEX} < {high}")
    return "WHERE " + " AND ".join(conditions) if conditions else ""


def write_view_file(
    record_files: Mapping[str, Path],
    spine_file: Path,
    links_file: Path,
    deprivation: pd.DataFrame | None,
    scenario: Scenario,
    out: Path,
    work_dir: Path,
    *,
    households_per_range: int,
    memory_limit_gb: float | None = None,
    scratch: bool = False,
) -> int:
    """Write the linked family view of files to ``out``; return its rows.

    ``out`` holds the bytes of ``write_parquet(scenario_view(sources, spine, links,
    scenario, deprivation).reset_index(), out)``
    (:func:`~simulator.council.view.scenario_view`) of the same data in memory.

    Parameters
    ----------
    record_files : mapping of str to Path
        Each agency's records file, keyed by source name (``records/<source>.parquet``
        of a generated dataset); sources whose records no feature counts are not read.
    spine_file : Path
        The council's family index (``spine.parquet``).
    links_file : Path
        The links table (``links.parquet``): one row per record.
    deprivation : DataFrame or None
        The public IMD lookup (``postcode_sector`` and ``imd_decile``), as for
        :func:`~simulator.council.view.build_view`.
    scenario : Scenario
        Its ``time.reference_date`` and ``view`` section are read.
    out : Path
        The view's file (Parquet), written here.
    work_dir : Path
        A directory made for what DuckDB spills (it must not exist), removed at
        the end.
    households_per_range : int
        Spine households whose view is built at a time (at least 1): with DuckDB's
        limit, what bounds the memory.
    memory_limit_gb : float, optional
        DuckDB's memory limit; by default DuckDB's own (80% of RAM).
    scratch : bool
        A view no output keeps (:func:`write_linked_view`): other bytes, faster.

    Returns
    -------
    int
        The view's rows (spine households).

    Raises
    ------
    InputDataError
        If a file lacks a column the view reads, a record has no row in the links
        table or two, a link names a household that is not on the spine, or the
        deprivation lookup is malformed.
    """
    # The range and the spine are checked by write_linked_view.
    _require_file(links_file, LINK_COLUMNS, "links table")
    counted = sorted(n for n in record_files if n in counted_types(scenario.view))
    complete = _links_complete(links_file, record_files, counted)
    with spilling_db(memory_limit_gb, work_dir) as db:
        links = db.name("links")
        db.con.execute(
            f"CREATE VIEW {links} AS SELECT {', '.join(LINK_COLUMNS)} "
            f"FROM read_parquet({sql_text(links_file)})"
        )

        def households(name: str, records: str) -> str:
            if not complete:
                _check_links(db, name, records, links)
            return (
                f"(SELECT record_id, {INDEX} FROM {links} WHERE source = "
                f"{sql_text(name)} AND {INDEX} IS NOT NULL) AS l USING (record_id)"
            )

        return write_linked_view(
            db,
            record_files,
            households,
            spine_file,
            deprivation,
            scenario,
            out,
            households_per_range=households_per_range,
            scratch=scratch,
        )


def write_linked_view(
    db: LinkageDB,
    record_files: Mapping[str, Path],
    households: Callable[[str, str], str],
    spine_file: Path,
    deprivation: pd.DataFrame | None,
    scenario: Scenario,
    out: Path,
    *,
    households_per_range: int,
    scratch: bool = False,
) -> int:
    """:func:`write_view_file` with the records' households given as SQL; its rows.

    ``households`` as for :func:`_linked_sql`: per source, the relation its
    records join to find their spine households (a links table's, or the truth's
    for the oracle's view, :func:`simulator.world.true_links.write_oracle_view_file`).
    ``db`` is the DuckDB the query runs in (it spills as its caller set it).
    ``scratch``: a view no output keeps (a task's), written a range at a time as
    :data:`simulator.io.SCRATCH_COMPRESSION` (the same values, other bytes).
    """
    if households_per_range < 1:
        raise ValueError("households_per_range must be at least 1")
    _require_file(spine_file, SPINE_COLUMNS, "spine")
    reference_date, config = scenario.time.reference_date, scenario.view
    con = db.con
    linked, spine = db.name("linked"), db.name("spine")
    types = counted_types(config)
    sql, names, with_absence = _linked_sql(record_files, types, households)
    db.create(linked, sql)
    db.create(
        spine,
        f"SELECT {', '.join(SPINE_COLUMNS)} FROM read_parquet("
        f"{sql_text(spine_file)}, file_row_number = true) "
        f"ORDER BY {INDEX}, file_row_number",
    )
    if db.scalar(f"SELECT count(*) FROM {spine} WHERE {INDEX} IS NULL"):
        raise InputDataError(f"spine: {INDEX} has missing values")
    ids = con.sql(f"SELECT DISTINCT {INDEX} FROM {spine} ORDER BY 1").fetchnumpy()
    rows = 0
    with ExitStack() as stack:
        writer: RowGroupWriter | None = None
        for low, high in _ranges(
            np.asarray(ids[INDEX], dtype=np.int64), households_per_range
        ):
            where = _where(low, high)
            spine_rows = con.sql(f"SELECT * FROM {spine} {where}").to_arrow_table()
            records = con.sql(f"SELECT * FROM {linked} {where}").to_arrow_table()
            view = view_of_linked(
                _by_source(records, names, with_absence, types),
                spine_rows.to_pandas(),
                reference_date=reference_date,
                deprivation=deprivation,
                config=config,
            )
            table = pa.Table.from_pandas(view.reset_index(), preserve_index=False)
            if writer is None:
                writer = stack.enter_context(
                    RowGroupWriter(out, table.schema, scratch=scratch, as_given=scratch)
                )
            writer.write(table)
            rows += len(view)
    return rows


def _by_source(
    records: pa.Table,
    names: list[str],
    with_absence: set[str],
    types: Mapping[str, tuple[str, ...]],
) -> dict[str, pd.DataFrame]:
    """A range's linked records by source, as ``linked_records`` gives them.

    Each source's rows are taken in Arrow, and ``event_type`` (its place among
    the source's ``types``, :func:`_linked_sql`) reaches pandas as a categorical
    of those types: no Python string per record (the view reads it only through
    its values).
    """
    src = records.column("src")
    records = records.drop_columns("src")
    at = records.schema.get_field_index("event_type")
    out = {}
    for k, name in enumerate(names):
        rows = records.filter(pc.equal(src, k))
        event_type = pa.DictionaryArray.from_arrays(
            rows.column("event_type").combine_chunks(), pa.array(types[name])
        )
        rows = rows.set_column(at, "event_type", event_type)
        if name not in with_absence:
            rows = rows.drop_columns(ABSENCE)
        out[name] = rows.to_pandas()
    return out
