"""Deterministic linkage of Parquet files, in memory bounded by a setting.

What :func:`simulator.council.linkage.link` does with frames in memory, done from
files: each agency's records file and the spine are read a batch of rows at a time,
each batch is normalised (:func:`~simulator.council.linkage.normalise.match_columns`,
a function of each row alone, so batches change nothing) and written to a match
file (Parquet, in the work directory), the cascade of match keys runs in DuckDB over
those files (:func:`~simulator.council.linkage.deterministic.cascade`) and the links
table is written from DuckDB a batch at a time, in its order (source name, then
``record_id``), as :func:`~simulator.council.linkage.links.links_table` (the in-memory
path's :func:`~simulator.council.linkage.links.links_frame` as Arrow): the same bytes.

DuckDB holds no table of the population's strings: each key reads its own columns
of the match files, so what it holds is one key's join (and the ids of the records
not linked yet; once at most :data:`NARROW_BELOW` of the records are left, a copy of
their columns later keys read), within the linkage section's ``memory_limit_gb``,
spilling beyond it to the work directory. Held in DuckDB instead, the match tables
outgrew a 2 GB limit between 500,000 and 1,000,000 households and were spilled and
read back for every key: linkage's CPU grew 2.9 times for twice the households
(docs/performance.md, "Deterministic linkage from files, linear").

A record's ``rid`` is its source's place in name order shifted left by
:data:`RID_SHIFT` bits, plus its ``record_id``: the council's own identifiers, so
nothing follows the order rows arrive in, and the links come out in their order by
sorting ``rid``. The work directory is removed at the end.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from simulator.council.linkage.backend import (
    LinkageDB,
    LinkageSQLError,
    sql_text,
    to_arrow,
)
from simulator.council.linkage.codebook import Codebook
from simulator.council.linkage.deterministic import cascade, key_kinds
from simulator.council.linkage.links import check_inputs, links_schema, links_table
from simulator.council.linkage.normalise import (
    PER_DISTINCT_COLUMNS,
    RARELY_REPEATED,
    match_columns,
    required_columns,
)
from simulator.errors import InputDataError
from simulator.frames import council_view, system_arrow_memory
from simulator.io import (
    SCRATCH_COMPRESSION,
    RowGroupWriter,
    has_room,
    id_bound,
    marked_ids,
    scratch_compression,
)
from simulator.schema.linkage import LinkageConfig, Recipe

RID_SHIFT = 40
"""Bits of ``rid`` below the source: record ids from 0 to 2**40 - 1."""
STRING_KEYS_OPTIMIZER = "partial_aggregate_pushdown"
"""The DuckDB optimizer turned off for the cascade on disk. It groups the whole
spine by each key's columns before the join (a hash table of every spine row's
strings per key), where joining the records offered first touches only the rows
they agree with: the cascade's CPU at 200,000 households fell from 4.4 s to 2.4 s
with it off (the same links; in memory, on integer codes, it made no difference)."""

NARROW_BELOW = 0.125
"""The share of the records left unlinked below which the cascade copies their
columns into DuckDB once (:func:`~simulator.council.linkage.deterministic.cascade`'s
``narrow_below``): the baseline's later keys (12 of 16, offered under a tenth of
the records) then read that copy, not every record's columns from the match file
and a join picking out theirs. A tenth of the records' match columns, in memory
within the linkage section's limit (and spilled beyond it)."""


READ_THREADS = False
"""Whether the records and the spine are decoded on Arrow's threads: not. Reading a
1,000,000-household world's records took 1.30 s of CPU so against 0.83 s on the
reading thread alone (0.72 and 0.83 s of wall), while the other core is busy
with the run's other process."""


def batches(path: Path, columns: list[str], rows: int) -> Iterator[pd.DataFrame]:
    """``columns`` of a Parquet file, ``rows`` rows at a time, as pandas reads them.

    Decoded on this thread (:data:`READ_THREADS`): Arrow's pool of threads cost a
    third more CPU for the same batches, and linking shares the cores anyway.
    Columns of :data:`~simulator.council.linkage.normalise.PER_DISTINCT_COLUMNS`
    come as Arrow dictionaries (the file's own where it has one, so a batch ends
    where a row group does), what normalising reads of them.
    """
    file = pq.ParquetFile(
        path, read_dictionary=[c for c in columns if c in PER_DISTINCT_COLUMNS]
    )
    for batch in file.iter_batches(
        batch_size=rows, columns=columns, use_threads=READ_THREADS
    ):
        yield pa.Table.from_batches([batch]).to_pandas(types_mapper=arrow_dictionary)


def arrow_dictionary(dtype: pa.DataType) -> pd.ArrowDtype | None:
    """Arrow dictionaries kept as they are in pandas (``to_pandas``'s types mapper).

    pandas' own categories would copy their indices and strings.
    """
    return pd.ArrowDtype(dtype) if pa.types.is_dictionary(dtype) else None


def empty_frame(path: Path) -> pd.DataFrame:
    """A Parquet file's columns with no rows (for checks and table schemas)."""
    return pq.read_schema(path).empty_table().to_pandas()


def ids_of(frame: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """``frame[column]`` as int64; an error naming ``what`` if one is missing."""
    if frame[column].isna().any():
        raise InputDataError(
            "linkage inputs are not as expected:\n  "
            f"{what}: {column} has missing values"
        )
    return frame[column].to_numpy(np.int64)


def record_match_table(
    frame: pd.DataFrame, source: int, recipes: list[Recipe], name: str, book: Codebook
) -> pa.Table:
    """``rid`` and the match columns of a batch of one source's records."""
    record_id = ids_of(frame, "record_id", name)
    if len(record_id) and (record_id.min() < 0 or record_id.max() >> RID_SHIFT):
        raise InputDataError(
            f"linkage inputs are not as expected:\n  {name}: record_id outside "
            f"0 to 2**{RID_SHIFT} - 1 (linking from files numbers records by them)"
        )
    table = match_columns(council_view(frame), recipes, book=book)
    table = table.reset_index(drop=True)
    table.insert(0, "rid", (np.int64(source) << RID_SHIFT) | record_id)
    return to_arrow(table)


def spine_match_table(
    frame: pd.DataFrame, recipes: list[Recipe], book: Codebook
) -> pa.Table:
    """Ids and match columns of a batch of spine rows."""
    view = council_view(frame).reset_index(drop=True)
    table = match_columns(view, recipes, book=book)
    table.insert(0, "spine_person_id", ids_of(view, "spine_person_id", "spine"))
    table.insert(1, "spine_household_id", ids_of(view, "spine_household_id", "spine"))
    return to_arrow(table)


FROM_WRITTEN: dict[str, tuple[str, tuple[Recipe, ...]]] = {
    "dob_year": ("year(dob)", ("dob",)),
    "dob_unordered": (
        "year(dob) * 10000 + least(month(dob), day(dob)) * 100"
        " + greatest(month(dob), day(dob))",
        ("dob",),
    ),
    "names_unordered": (
        "CASE WHEN first_name IS NOT NULL AND last_name IS NOT NULL THEN"
        " least(first_name, last_name)::BIGINT << 31"
        " | greatest(first_name, last_name) END",
        ("first_name", "last_name"),
    ),
}
"""Match columns worked out from others where a key reads them, not written to the
match files: each one's SQL and the recipes it reads. The numbers
:func:`~simulator.council.linkage.normalise.match_columns` gives with a book (its
``_dob_year``, ``_dob_unordered``, ``_names_unordered_codes`` of the names' codes;
missing where what they read is), so keys find the same records. Splitting every
row's date into year, month and day was a sixth of normalising, and the names
unordered a twentieth of the match files' CPU (worked out and written); two keys
of sixteen read the dates', one the names', on the records left."""


def written_recipes(recipes: Sequence[Recipe]) -> list[Recipe]:
    """The recipes written to the match files: all but :data:`FROM_WRITTEN`'s.

    With those the others read, where they are asked for.
    """
    kept = [r for r in recipes if r not in FROM_WRITTEN]
    read = [c for r in recipes if r in FROM_WRITTEN for c in FROM_WRITTEN[r][1]]
    return kept + [c for c in dict.fromkeys(read) if c not in kept]


def match_view(path: Path, recipes: Sequence[Recipe]) -> str:
    """A query of a match file's columns and the :data:`FROM_WRITTEN` ``recipes``."""
    derived = "".join(
        f", {FROM_WRITTEN[r][0]} AS {r}" for r in recipes if r in FROM_WRITTEN
    )
    return f"SELECT *{derived} FROM read_parquet({sql_text(path)})"


SPINE = "spine_match.parquet"
"""The spine's match file in the work directory."""
MATCH_COMPRESSION = "none"
"""How the match files are compressed where the disk has room (:func:`io.has_room`):
not at all. They are read back a key at a time, then removed; LZ4 halved them but
cost a tenth of linking's CPU, writing and reading (at 1,000,000 households 0.8 GB
of match files, not 0.35). LZ4 (``SCRATCH_COMPRESSION``) where it has not."""
MATCH_BYTES_PER_ROW = 90
"""Uncompressed match files' bytes per record and spine row (0.78 GB for 9.4
million rows at 1,000,000 households of the baseline), for the room they need."""
UNIQUE_COLUMNS = RARELY_REPEATED | {"rid", "spine_person_id", "spine_household_id"}
"""Match file strings written without a dictionary: their values rarely repeat, so
trying one costs a fifth of the writing (other strings are read faster with one).
Integers (ids, dates, codes, NHS numbers) are written plain:
DuckDB's keys read plain codes faster than dictionary-encoded ones (a sixth less
CPU)."""
ID_COLUMNS = ("rid", "spine_person_id", "spine_household_id")
"""Match file columns with statistics (each row group's least and greatest): DuckDB
skips row groups by them when a key's records are those not linked yet. A string
column's statistics cost its writing a sixth more and skip nothing a key needs."""


def write_match_file(
    path: Path,
    empty: pa.Table,
    tables: Iterable[pa.Table],
    compression: str = MATCH_COMPRESSION,
) -> None:
    """Write ``tables`` (each with ``empty``'s columns) to one Parquet match file."""
    schema = empty.schema
    with pq.ParquetWriter(
        path,
        schema,
        compression=compression,
        use_dictionary=[
            f.name
            for f in schema
            if f.name not in UNIQUE_COLUMNS and pa.types.is_string(f.type)
        ],
        write_statistics=[n for n in schema.names if n in ID_COLUMNS],
    ) as out:
        for table in tables:
            out.write_table(table.cast(schema))


def match_compression(work: Path, inputs: Sequence[Path]) -> str:
    """How match files of ``inputs`` (Parquet files, by their rows) are compressed.

    :data:`MATCH_COMPRESSION` if ``work``'s disk has room for them so, else LZ4.
    """
    rows = sum(pq.ParquetFile(path).metadata.num_rows for path in inputs)
    roomy = has_room(work, MATCH_BYTES_PER_ROW * rows)
    return MATCH_COMPRESSION if roomy else SCRATCH_COMPRESSION


def load(
    db: LinkageDB,
    record_files: Mapping[str, Path],
    spine_file: Path,
    recipes: list[Recipe],
    rows: int,
    work: Path,
) -> tuple[str, str, list[np.ndarray] | None]:
    """Views of the records' and the spine's match files, written a batch at a time.

    The files go to ``work``; DuckDB reads from them only the columns a query needs.
    Their strings that keys join are integers there (one
    :class:`~simulator.council.linkage.codebook.Codebook`'s codes for both files,
    and NHS numbers as numbers:
    :func:`~simulator.council.linkage.normalise.match_columns` with the book).
    Third: each source's record ids as a table indexed by id (:func:`present_ids`,
    sources in name order), or None unless every source's are numbered from 0.
    """
    identity = list(required_columns(recipes))
    spine_columns = ["spine_person_id", "spine_household_id", *identity]
    spine_path = work / SPINE
    records_path = work / "records_match.parquet"
    book = Codebook()
    written = written_recipes(recipes)
    compression = match_compression(work, [spine_file, *record_files.values()])
    write_match_file(
        spine_path,
        spine_match_table(empty_frame(spine_file), written, book),
        (
            spine_match_table(batch, written, book)
            for batch in batches(spine_file, spine_columns, rows)
        ),
        compression,
    )
    names = sorted(record_files)
    write_match_file(
        records_path,
        record_match_table(empty_frame(record_files[names[0]]), 0, written, "", book),
        (
            record_match_table(batch, k, written, name, book)
            for k, name in enumerate(names)
            for batch in batches(record_files[name], ["record_id", *identity], rows)
        ),
        compression,
    )
    records, spine = db.name("records"), db.name("spine")
    for view, path in ((records, records_path), (spine, spine_path)):
        db.con.execute(f"CREATE VIEW {view} AS {match_view(path, recipes)}")
    present = [present_ids(record_files[name], "record_id") for name in names]
    repeated = [
        f"{name}: record_id is not unique"
        for name, marked in zip(names, present, strict=True)
        if repeats(db, record_files[name], "record_id", marked)
    ]
    if repeats(db, spine_path, "spine_person_id"):
        repeated.append("spine: spine_person_id is not unique")
    if repeated:
        raise InputDataError(
            "linkage inputs are not as expected:\n  " + "\n  ".join(repeated)
        )
    tables = [m[0] for m in present if m is not None]
    return records, spine, tables if len(tables) == len(names) else None


def present_ids(path: Path, column: str) -> tuple[np.ndarray, int] | None:
    """A file's ids numbered from 0 as a table indexed by id, and its rows; or None.

    :func:`simulator.io.marked_ids` of ids :func:`simulator.io.id_bound` bounds.
    """
    bound = id_bound(path, column)
    return None if bound is None else marked_ids(path, column, bound)


def repeats(
    db: LinkageDB,
    path: Path,
    column: str,
    marked: tuple[np.ndarray, int] | None = None,
) -> bool:
    """Whether an integer ``column`` of a Parquet file without nulls repeats a value.

    Ids as generated (numbered from 0: :func:`simulator.io.id_bound`) are marked in
    a table indexed by id, a batch at a time (or ``marked``, :func:`present_ids`'s
    if known): rows that mark fewer slots than there are rows repeat one. Others
    are counted distinct in DuckDB, where hashing every id took seven times as
    long, and whose distinct count of the spine's persons at 8,200,000 households
    asked for more than a streamed run's 1 GB.
    """
    if marked is None:
        marked = present_ids(path, column)
    if marked is None:
        return bool(
            db.scalar(
                f"SELECT count(*) > count(DISTINCT {column}) "
                f"FROM read_parquet({sql_text(path)})"
            )
        )
    seen, rows = marked
    return int(np.count_nonzero(seen)) < rows


def links_sql(records: str, found: str, spine: str, key_names: Sequence[str]) -> str:
    """Every record with its link (if any), in ``rid`` order: the links table's.

    Its columns are those :func:`write_links` reads; ``key_names[i]`` is the
    ``match_key`` of the records ``found`` says key ``i`` linked. Only integers are
    sorted: the source, the record id and the key's name are worked out from them
    in the projection after the sort (which keeps its order), a fifth less of the
    writing's CPU and memory than sorting them.
    """
    name = " ".join(f"WHEN {i} THEN {sql_text(n)}" for i, n in enumerate(key_names))
    return f"""SELECT rid >> {RID_SHIFT} AS source,
       rid & {(1 << RID_SHIFT) - 1} AS record_id,
       spine_person_id, spine_household_id,
       CASE key {name} END AS match_key, n_candidates
FROM (
    SELECT r.rid, f.spine_person_id, s.spine_household_id, f.key, f.n_candidates
    FROM {records} AS r
    LEFT JOIN {found} AS f USING (rid)
    LEFT JOIN {spine} AS s ON s.spine_person_id = f.spine_person_id
    ORDER BY r.rid
)"""


def links_batch(batch: pa.RecordBatch, names: pa.Array) -> pa.Table:
    """Rows of the links table from a batch of a query :func:`write_links` reads."""
    zero = pa.scalar(0, pa.int64())
    return links_table(
        names.take(batch.column("source")),
        batch.column("record_id").to_numpy(),
        pc.fill_null(batch.column("spine_person_id"), zero).to_numpy(),
        pc.fill_null(batch.column("spine_household_id"), zero).to_numpy(),
        batch.column("match_key"),
        pc.fill_null(batch.column("n_candidates"), zero).to_numpy(),
    )


def write_links(
    db: LinkageDB,
    sql: str,
    names: list[str],
    out: Path,
    rows: int,
    scratch: bool = False,
    compression: str = SCRATCH_COMPRESSION,
) -> int:
    """Write the links a query gives to ``out``, ``rows`` at a time; returns the rows.

    The query gives every record in the links table's order, with ``source`` (its
    place in ``names``), ``record_id``, ``spine_person_id``, ``spine_household_id``,
    ``match_key`` (null: unlinked) and ``n_candidates``; the rows go through
    :func:`~simulator.council.linkage.links.links_table` (the in-memory path's rows
    as Arrow), so the file has its bytes (unless ``scratch``, compressed with
    ``compression``: :func:`write_link_frames`).
    """
    source_names = pa.array(names, pa.string())
    try:
        reader = db.con.sql(sql).to_arrow_reader(rows)
    except duckdb.Error as e:
        raise LinkageSQLError("(links)", sql, e) from e
    return write_link_frames(
        (links_batch(batch, source_names) for batch in reader),
        out,
        scratch,
        compression,
    )


SCRATCH_LINKS: dict[str, Any] = {
    "as_given": True,
    "repeating": ("source", "match_key"),
    "statistics": ("source", "record_id"),
    "required": ("record_id", "n_candidates"),
}
"""How a scratch world's links file is written (:class:`simulator.io.RowGroupWriter`):
each table as it comes, the source's and key's names (a handful of values) with a
dictionary, statistics for the source (readers filter by it) and the record ids
only, no definition levels for the two columns never missing. The same values as
an output's links for about half the CPU to write (LZ4 over every row's names, and
rows held and combined into full row groups) and less to read (the readers ask for
the source as a dictionary)."""
LINKS_BYTES_PER_ROW = 34
"""A scratch links file's bytes per record written :data:`simulator.io.ROOMY`
(182 MiB for 5.9 million records at 1,000,000 households), for the room it needs."""


def links_compression(out: Path, record_files: Iterable[Path]) -> str:
    """The codec of a scratch links file at ``out`` of ``record_files``' records.

    :func:`simulator.io.scratch_compression` of its room as
    :data:`simulator.io.ROOMY`.
    """
    rows = sum(pq.ParquetFile(path).metadata.num_rows for path in record_files)
    return scratch_compression(out.parent, LINKS_BYTES_PER_ROW * rows)


def write_link_frames(
    tables: Iterable[pa.Table],
    out: Path,
    scratch: bool = False,
    compression: str = SCRATCH_COMPRESSION,
) -> int:
    """Write rows of the links table (:func:`links_table`'s), in order; their count.

    An output's bytes, or ``scratch``: :data:`SCRATCH_LINKS`, compressed with
    ``compression`` (the same values).
    """
    n = 0
    options: dict[str, Any] = (
        {"scratch": True, "compression": compression, **SCRATCH_LINKS}
        if scratch
        else {}
    )
    with RowGroupWriter(out, links_schema(), **options) as writer:
        for table in tables:
            writer.write(table)
            n += len(table)
    return n


def households_by_person(spine_path: Path) -> np.ndarray | None:
    """Each spine person's household, indexed by ``spine_person_id``; or None.

    None unless the spine's persons are numbered from 0 (:func:`simulator.io.id_bound`).
    """
    bound = id_bound(spine_path, "spine_person_id")
    if bound is None:
        return None
    households = np.zeros(bound, dtype=np.int64)
    file = pq.ParquetFile(spine_path)
    columns = ["spine_person_id", "spine_household_id"]
    for batch in file.iter_batches(batch_size=1 << 20, columns=columns):
        households[batch.column(0).to_numpy()] = batch.column(1).to_numpy()
    return households


RANGE_BATCHES = 4
"""Record ids of a source placed at a time by :func:`links_by_id`, in batches of
rows: its tables take 18 bytes an id, and each range reads the cascade's tables."""
MOST_RANGES = 8
"""Ranges wider than :data:`RANGE_BATCHES` batches where there would be more, so
that the cascade's tables are read a bounded number of times, not once per few
million records (at 8,200,000 households the ranges hold 6 million ids, 106 MB)."""


def as_slice(positions: np.ndarray) -> np.ndarray | slice:
    """Ascending distinct ``positions`` as a slice where they run without a gap.

    Ids as generated leave none, and a slice reads the range's tables without
    copying them through an index.
    """
    if len(positions) and positions[-1] - positions[0] == len(positions) - 1:
        return slice(int(positions[0]), int(positions[-1]) + 1)
    return positions


def links_by_id(
    db: LinkageDB,
    found: str,
    present: Sequence[np.ndarray],
    households: np.ndarray,
    key_names: Sequence[str],
    names: Sequence[str],
    rows: int,
) -> Iterator[pa.Table]:
    """The links table's rows, ``rows`` at a time, from tables indexed by id.

    What :func:`links_sql` gives, without its joins and its sort: each source's
    record ids numbered from 0 (``present[k]``: True where source ``k`` has that
    id), a range of them at a time, hold the person, key and candidates ``found``
    (the cascade's query) gives them, and ``households`` (indexed by spine person)
    each person's household; the records come out in id order, as they are.
    """
    keys = pa.array(key_names, pa.string())
    every_id = sum(len(seen) for seen in present)
    span = max(RANGE_BATCHES * rows, -(-every_id // MOST_RANGES))
    for k, (name, seen) in enumerate(zip(names, present, strict=True)):
        source = pa.array([name], pa.string())
        for lo in range(0, len(seen), span):
            hi = min(lo + span, len(seen))
            person = np.zeros(hi - lo, dtype=np.int64)
            key = np.full(hi - lo, -1, dtype=np.int16)
            candidates = np.zeros(hi - lo, dtype=np.int64)
            first = (k << RID_SHIFT) + lo
            sql = (
                f"SELECT rid - {first} AS at, spine_person_id, key, n_candidates "
                f"FROM ({found}) WHERE rid >= {first} AND rid < {first + hi - lo}"
            )
            try:
                reader = db.con.sql(sql).to_arrow_reader(rows)
            except duckdb.Error as e:
                raise LinkageSQLError("(links)", sql, e) from e
            for batch in reader:
                at = batch.column("at").to_numpy()
                person[at] = batch.column("spine_person_id").to_numpy()
                key[at] = batch.column("key").to_numpy()
                candidates[at] = batch.column("n_candidates").to_numpy()
            ids = np.flatnonzero(seen[lo:hi])
            for start in range(0, len(ids), rows):
                at = ids[start : start + rows]
                rows_at = as_slice(at)
                key_at = key[rows_at]
                person_at = person[rows_at]
                linked = key_at >= 0
                household = np.zeros(len(at), dtype=np.int64)
                household[linked] = households[person_at[linked]]
                yield links_table(
                    source.take(np.zeros(len(at), dtype=np.int64)),
                    at + lo,
                    person_at,
                    household,
                    keys.take(pa.array(key_at, mask=~linked)),
                    candidates[rows_at],
                )


@contextmanager
def spilling_db(memory_limit_gb: float | None, work: Path) -> Iterator[LinkageDB]:
    """A DuckDB in memory up to ``memory_limit_gb``, spilling the rest to ``work``.

    ``work`` is made here (it must not exist) and removed at the end, with the
    connection closed. Threads are the process's default
    (:func:`~simulator.council.linkage.backend.set_default_threads`).
    """
    work.mkdir(parents=True)
    con = duckdb.connect()
    try:
        limit = memory_limit_gb
        db = LinkageDB(
            con,
            memory_limit=None if limit is None else f"{limit:g}GB",
            temp_directory=work / "spill",
        )
        if limit is not None:
            con.execute("SET allocator_flush_threshold = ?", [f"{limit:g}GB"])
        yield db
    finally:
        con.close()
        shutil.rmtree(work, ignore_errors=True)


@system_arrow_memory()
def link_files(
    record_files: Mapping[str, Path],
    spine_file: Path,
    config: LinkageConfig,
    out: Path,
    work: Path,
    *,
    rows: int,
    progress: bool = False,
    scratch: bool = False,
) -> int:
    """Link records files to a spine file with the match-key cascade, on disk.

    Parameters
    ----------
    record_files : mapping of str to Path
        Each agency's records file (``record_id`` and the identity columns; hidden
        columns are not read), keyed by source name.
    spine_file : Path
        The council's family index.
    config : LinkageConfig
        The scenario's ``linkage`` section; its method must be ``deterministic``.
    out : Path
        The links table's file (Parquet), written here.
    work : Path
        A directory made for the match files and what DuckDB spills, removed at
        the end.
    rows : int
        Rows read, normalised and written at a time.
    progress : bool
        Show a progress bar over the match keys.
    scratch : bool
        ``out`` is a scratch world's, encoded as such (:func:`write_link_frames`).

    Returns
    -------
    int
        The links table's rows (one per record).

    Raises
    ------
    simulator.errors.InputDataError
        If a file lacks a column linkage reads, or an id is missing or repeated.
    """
    from tqdm import tqdm

    if config.method != "deterministic" or not record_files:
        raise ValueError("linking from files runs the deterministic method on sources")
    recipes = list(dict.fromkeys(config.recipes()))
    check_inputs(
        {name: empty_frame(path) for name, path in record_files.items()},
        empty_frame(spine_file),
        required_columns(recipes),
    )
    with spilling_db(config.memory_limit_gb, work) as db:
        records, spine, present = load(
            db, record_files, spine_file, recipes, rows, work
        )
        db.con.execute(f"SET disabled_optimizers = '{STRING_KEYS_OPTIMIZER}'")
        keys = config.deterministic.keys
        with tqdm(
            total=len(keys), desc="link (match keys)", unit="key", disable=not progress
        ) as bar:
            union, tables = cascade(
                db,
                records,
                spine,
                keys,
                config.deterministic.ties,
                bar.update,
                narrow_below=NARROW_BELOW,
            )
        names, kind_of_key = key_kinds(keys)
        key_names = [names[k] for k in kind_of_key]
        households = None if present is None else households_by_person(work / SPINE)
        codec = (
            links_compression(out, record_files.values())
            if scratch
            else SCRATCH_COMPRESSION
        )
        if present is not None and households is not None:
            frames = links_by_id(
                db, union, present, households, key_names, sorted(record_files), rows
            )
            return write_link_frames(frames, out, scratch, codec)
        found = db.name("found")
        db.create(found, union)
        db.drop(*tables)
        sql = links_sql(records, found, spine, key_names)
        return write_links(db, sql, sorted(record_files), out, rows, scratch, codec)
