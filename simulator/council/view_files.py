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
and spills the rest to a work directory. Where each record's household is found
by an id numbered from 0 (:func:`write_linked_view`), there is no join and no
sort: the records and the spine are summed per household as they are read.

Only the columns the view reads are read: ``record_id``, ``event_type``,
``event_date`` and ``absence_rate`` of the records; ``source``, ``record_id`` and
``spine_household_id`` of the links; ``spine_person_id``, ``spine_household_id``,
``dob`` and ``postcode`` of the spine. No hidden ``true_``/``err_`` column is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from simulator.council.flagging import ScoredView, view_table
from simulator.council.linkage.backend import LinkageDB, sql_text
from simulator.council.linkage.on_disk import spilling_db
from simulator.council.view import (
    RECORD_COLUMNS,
    SPINE_COLUMNS,
    counted_types,
    sorted_unique,
    view_of_counted,
    view_of_linked,
)
from simulator.council.view_counts import RecordCounts
from simulator.council.view_partitions import (
    NO_HOUSEHOLD,
    HouseholdTables,
    spine_batches,
)
from simulator.council.view_records import (
    ABSENCE,
    CountedFile,
    CountedRecords,
    read_counted,
)
from simulator.council.view_spine import HeldSpine, SpineCounts
from simulator.errors import InputDataError
from simulator.io import RowGroupWriter, id_bound, marked_ids
from simulator.schema.scenario import Scenario
from simulator.vocabulary import INDEX

LINK_COLUMNS = ("source", "record_id", INDEX)
"""The links table's columns the view reads."""


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


UNSEEN = -2
"""A links table's slot whose record has no row in the links file (yet)."""


def _links_tables(
    links_file: Path, record_files: Mapping[str, Path], names: list[str]
) -> HouseholdTables | None:
    """Each record's household by ``record_id``, if every record has one links row.

    Record ids as generated (from 0 in each source) index a table per source,
    filled from the links file read a batch at a time: a source's links repeat an
    id where they fill fewer slots than they have rows, and a record whose slot is
    not filled has no row. None where the ids are not so numbered, a household id
    is negative, or a record's row is missing or repeated: :func:`_check_links`
    then asks DuckDB, which names the records (ten times as long), and DuckDB joins
    the records to their links.
    """
    bounds = {name: id_bound(record_files[name], "record_id") for name in names}
    if any(b is None for b in bounds.values()):
        return None
    tables = {name: np.full(b or 0, UNSEEN, np.int64) for name, b in bounds.items()}
    rows = dict.fromkeys(names, 0)
    links = pq.ParquetFile(links_file, read_dictionary=["source"])
    for batch in links.iter_batches(batch_size=1 << 20, columns=list(LINK_COLUMNS)):
        source, ids, households = batch.columns
        if (
            not pa.types.is_dictionary(source.type)
            or not pa.types.is_integer(ids.type)
            or not pa.types.is_integer(households.type)
            or ids.null_count
        ):
            return None
        codes = pc.fill_null(source.indices, -1).to_numpy()
        ids = ids.to_numpy()
        households = pc.fill_null(households, NO_HOUSEHOLD).to_numpy()
        if pc.any(pc.less(batch.column(2), 0)).as_py():
            return None  # a household -1 would read as none
        for code, name in enumerate(source.dictionary.to_pylist()):
            if name not in tables:
                continue
            mine = codes == code
            at = ids[mine]
            if len(at) and (at.min() < 0 or at.max() >= len(tables[name])):
                return None  # an id no record has (a repeat, or a stray link)
            tables[name][at] = households[mine]
            rows[name] += len(at)
    for name in names:
        filled = tables[name] != UNSEEN
        if np.count_nonzero(filled) != rows[name]:
            return None
        have, _ = marked_ids(record_files[name], "record_id", len(filled))
        if (have & ~filled).any():
            return None
        tables[name][~filled] = NO_HOUSEHOLD  # no record's id
    return HouseholdTables("record_id", tables)


def _sources(
    record_files: Mapping[str, Path],
    types: Mapping[str, tuple[str, ...]],
    records: CountedRecords | None = None,
) -> tuple[list[str], set[str]]:
    """The sources whose records the view counts, and those with ``absence_rate``.

    In name order (``src`` numbers them); each file checked for the view's columns
    (a file of records drawn, never written: the columns it would have, ``records``).
    """
    names = sorted(n for n in record_files if n in types)
    wanted = ("record_id", *RECORD_COLUMNS)
    with_absence = set()
    for name in names:
        drawn = None if records is None else records.columns(record_files[name])
        if drawn is None:
            columns = _require_file(record_files[name], wanted, f"{name} records")
        elif missing := [c for c in wanted if c not in drawn]:
            raise InputDataError(f"{name} records: missing column(s) {missing}")
        else:
            columns = list(drawn)
        if ABSENCE in columns:
            with_absence.add(name)
    return names, with_absence


def _linked_sql(
    record_files: Mapping[str, Path],
    names: list[str],
    with_absence: set[str],
    types: Mapping[str, tuple[str, ...]],
    households: Callable[[str, str], str],
) -> str:
    """The query of every counted record with its household, sorted by household.

    ``households(name, records)`` gives, for source ``name`` whose records are the
    relation ``records``, what the records join to find their households: a
    relation ``l`` with ``spine_household_id`` and the join's ``USING`` or ``ON``
    clause (the links table's rows of the source, or the truth's households of
    :mod:`simulator.world.true_links`), records without a household left out.
    ``event_type`` is given as its place among the source's ``types`` (a small
    integer: DuckDB sorts and hands over no string per record). ``names`` and
    ``with_absence`` as :func:`_sources` gives them.
    """
    parts = []
    for k, name in enumerate(names):
        records = f"read_parquet({sql_text(record_files[name])})"
        join = households(name, records)
        absence = f"r.{ABSENCE}" if name in with_absence else "NULL::DOUBLE"
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
    return "\nUNION ALL\n".join(parts) + f"\nORDER BY {INDEX}"


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
    out: Path | ScoredView,
    work_dir: Path,
    *,
    households_per_range: int,
    memory_limit_gb: float | None = None,
    scratch: bool = False,
    spine: HeldSpine | None = None,
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
    out : Path or ScoredView
        The view's file (Parquet), written here; or where the view is scored as
        its rows are made, never written (a task's:
        :class:`~simulator.council.flagging.ScoredView`).
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
    spine : HeldSpine, optional
        The spine's sums kept for (or from) another view of the same spine file
        (:func:`write_linked_view`).

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
    tables = _links_tables(links_file, record_files, counted)
    with spilling_db(memory_limit_gb, work_dir) as db:
        links = db.name("links")
        db.con.execute(
            f"CREATE VIEW {links} AS SELECT {', '.join(LINK_COLUMNS)} "
            f"FROM read_parquet({sql_text(links_file)})"
        )

        def households(name: str, records: str) -> str:
            _check_links(db, name, records, links)
            return (
                f"(SELECT record_id, {INDEX} FROM {links} WHERE source = "
                f"{sql_text(name)} AND {INDEX} IS NOT NULL) AS l USING (record_id)"
            )

        return write_linked_view(
            db,
            record_files,
            households if tables is None else tables,
            spine_file,
            deprivation,
            scenario,
            out,
            households_per_range=households_per_range,
            scratch=scratch,
            spine=spine,
        )


Ranges = Iterator[tuple[pa.Table, pa.Table]]
"""Per range of spine households: its spine rows and its counted linked records."""


def write_linked_view(
    db: LinkageDB | None,
    record_files: Mapping[str, Path],
    households: Callable[[str, str], str] | HouseholdTables,
    spine_file: Path,
    deprivation: pd.DataFrame | None,
    scenario: Scenario,
    out: Path | ScoredView,
    *,
    households_per_range: int,
    scratch: bool = False,
    records: CountedRecords | None = None,
    spine: HeldSpine | None = None,
) -> int:
    """:func:`write_view_file` with the records' households given; its rows.

    ``households`` as SQL, as for :func:`_linked_sql`: per source, the relation its
    records join to find their households (a links table's, or the truth's for the
    oracle's view, :func:`simulator.world.true_links.write_oracle_view_file`),
    sorted in ``db`` (it spills as its caller set it). Or as tables indexed by id
    (:class:`~simulator.council.view_partitions.HouseholdTables`): the records
    and the spine are summed per household as they are read
    (:class:`RecordCounts`, :class:`SpineCounts`), neither joined nor sorted nor
    written; the same bytes; ``db`` may then be None. ``scratch``: a
    view no output keeps (a task's), written a range at a time as
    :data:`simulator.io.SCRATCH_COMPRESSION` (the same values, other bytes);
    an ``out`` that is a :class:`~simulator.council.flagging.ScoredView` scores
    the ranges' rows instead, nothing written.
    ``records``: with tables, the records read once for every view of the same
    files (:class:`~simulator.council.view_records.CountedRecords`), however
    each finds their households; else read a batch at a time and not held. Records
    drawn there, never written (a rung task's), need tables.
    ``spine``: with tables, the spine's households and sums taken from the last
    view of the same spine file, or kept for the next
    (:class:`~simulator.council.view_spine.HeldSpine`: a world's own view, then
    its ``data_error`` rung's); the same values.
    """
    if households_per_range < 1:
        raise ValueError("households_per_range must be at least 1")
    _require_file(spine_file, SPINE_COLUMNS, "spine")
    types = counted_types(scenario.view)
    names, with_absence = _sources(record_files, types, records)
    settings = {
        "reference_date": scenario.time.reference_date,
        "deprivation": deprivation,
        "config": scenario.view,
    }
    views: Iterator[pd.DataFrame]
    if isinstance(households, HouseholdTables):
        counts = partial(
            _counted,
            households,
            record_files,
            names,
            with_absence,
            types,
            scenario=scenario,
            records=records,
        )
        views = _counted_views(
            counts, spine_file, households_per_range, settings, spine
        )
    else:
        if db is None:
            raise ValueError("households given as SQL need a database")
        if records is not None and any(map(records.columns, record_files.values())):
            raise ValueError("records drawn, not written, are found by tables only")
        sql = _linked_sql(record_files, names, with_absence, types, households)
        build = partial(view_of_linked, **settings)
        views = (
            build(
                _by_source(records, names, with_absence, types), spine_rows.to_pandas()
            )
            for spine_rows, records in _sorted_ranges(
                db, sql, spine_file, households_per_range
            )
        )
    tables = (view_table(view) for view in views)
    if isinstance(out, ScoredView):
        return out.take(tables)
    rows = 0
    with ExitStack() as stack:
        writer: RowGroupWriter | None = None
        for table in tables:
            if writer is None:
                writer = stack.enter_context(
                    RowGroupWriter(out, table.schema, scratch=scratch, as_given=scratch)
                )
            writer.write(table)
            rows += len(table)
    return rows


def _missing_households() -> InputDataError:
    return InputDataError(f"spine: {INDEX} has missing values")


def _sorted_ranges(
    db: LinkageDB, sql: str, spine_file: Path, households_per_range: int
) -> Ranges:
    """The ranges of the counted records' query (:func:`_linked_sql`), DuckDB's."""
    con = db.con
    linked, spine = db.name("linked"), db.name("spine")
    db.create(linked, sql)
    db.create(
        spine,
        f"SELECT {', '.join(SPINE_COLUMNS)} FROM read_parquet("
        f"{sql_text(spine_file)}, file_row_number = true) "
        f"ORDER BY {INDEX}, file_row_number",
    )
    if db.scalar(f"SELECT count(*) FROM {spine} WHERE {INDEX} IS NULL"):
        raise _missing_households()
    ids = con.sql(f"SELECT DISTINCT {INDEX} FROM {spine} ORDER BY 1").fetchnumpy()
    for low, high in _ranges(
        np.asarray(ids[INDEX], dtype=np.int64), households_per_range
    ):
        where = _where(low, high)
        yield (
            con.sql(f"SELECT * FROM {spine} {where}").to_arrow_table(),
            con.sql(f"SELECT * FROM {linked} {where}").to_arrow_table(),
        )


def _counted(
    tables: HouseholdTables,
    record_files: Mapping[str, Path],
    names: list[str],
    with_absence: set[str],
    types: Mapping[str, tuple[str, ...]],
    households: np.ndarray,
    scenario: Scenario,
    records: CountedRecords | None = None,
) -> RecordCounts:
    """The counted records of every source, summed per spine household.

    ``tables`` give each record's household; ``households`` are the spine's,
    sorted and unique. The records are read a batch at a time, or taken from
    ``records`` (read there the first time: :func:`write_linked_view`).
    """
    read = read_counted if records is None else records.batches
    reference_date = scenario.time.reference_date
    counts = RecordCounts(households, tables, scenario.view)
    for name in names:
        absence = name in with_absence
        file = CountedFile(
            Path(record_files[name]),
            name,
            tables.key,
            types[name],
            absence,
            scenario.view,
            reference_date,
        )
        counts.add(name, read(file))
    counts.done()
    return counts


def _counted_views(
    counted: Callable[[np.ndarray], RecordCounts],
    spine_file: Path,
    households_per_range: int,
    settings: Mapping[str, Any],
    held: HeldSpine | None = None,
) -> Iterator[pd.DataFrame]:
    """The view a range at a time, every feature summed per household.

    The records' (``counted``), then the spine's (:class:`SpineCounts`, the
    ``settings`` of :func:`~simulator.council.view.view_of_linked`): each file is
    read a batch at a time, in file order, and neither is cut by household. The
    spine's households and sums are taken from ``held`` where it kept this file's
    with these settings, else summed and kept there for the next view.
    """
    summed = None if held is None else held.take(spine_file, dict(settings))
    if summed is None:
        households = pq.read_table(spine_file, columns=[INDEX]).column(0)
        if households.null_count:
            raise _missing_households()
        ids = sorted_unique(households.to_numpy().astype(np.int64, copy=False))
        del households
        counts = counted(ids)  # the records' errors first, as in memory
        spine = _spine_counts(spine_file, ids, settings)
        if held is not None:
            held.keep(spine_file, dict(settings), ids, spine)
    else:
        ids, spine = summed
        counts = counted(ids)
    starts = list(range(0, len(ids), households_per_range))[1:]
    for start, stop in zip([0, *starts], [*starts, len(ids)], strict=True):
        yield view_of_counted(
            *counts.rows(start, stop),
            spine.rows(start, stop),
            pd.Index(ids[start:stop], name=INDEX),
            settings["config"],
        )


def _spine_counts(
    spine_file: Path, ids: np.ndarray, settings: Mapping[str, Any]
) -> SpineCounts:
    """The spine's rows summed per household ``ids``, a batch at a time."""
    spine = SpineCounts(ids, **settings)
    for batch in spine_batches(spine_file, SPINE_COLUMNS, ("postcode",)):
        person, household, dob, postcode = batch.columns
        spine.add(
            household.to_numpy().astype(np.int64, copy=False),
            person.to_numpy().astype(np.int64, copy=False),
            dob,
            postcode,
        )
    return spine


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
