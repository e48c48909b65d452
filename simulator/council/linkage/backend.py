"""The one DuckDB connection through which every linkage query runs.

The deterministic cascade runs its SQL here, and Splink gets a ``DuckDBAPI`` wrapping
the same connection, so moving linkage to another engine is a one-place change.
Queries are logged at DEBUG level, and a failing query raises :class:`LinkageSQLError`
naming the table it was building and carrying the SQL.

Splink's DuckDB API here stores the tables its EM training sums over in a fixed row
order (:data:`ORDERED_SPLINK_TABLES`), so the same data give the same model bytes
whatever the thread count (:func:`ordered_splink_api`).
"""

from __future__ import annotations

import logging
import time
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
import pyarrow as pa

from simulator.errors import LinkauditError
from simulator.frames import STRING

if TYPE_CHECKING:
    from splink import DuckDBAPI

logger = logging.getLogger(__name__)

_run_ids = count()
_default_threads: int | None = None
"""DuckDB threads of a new :class:`LinkageDB` when it is not told (None: DuckDB's
own choice, all cores); :func:`set_default_threads` sets it for a worker process."""


def set_default_threads(threads: int | None) -> int | None:
    """Give new linkage connections ``threads`` threads; return the previous setting.

    Parallel runs (:mod:`simulator.pipeline.parallel`) share the cores between their
    processes this way.
    """
    global _default_threads
    before, _default_threads = _default_threads, threads
    return before


ORDERED_SPLINK_TABLES = (
    "__splink__agreement_pattern_counts",
    "__splink__m_u_counts",
)
"""Splink tables stored sorted (``ORDER BY ALL``) so that sums over them repeat.

Splink's EM counts each agreement pattern of the blocked pairs
(``__splink__agreement_pattern_counts``, a hash aggregate: its rows come out in an
order that depends on DuckDB's threads and timing), then sums ``match_probability *
count`` per comparison level over those rows in every iteration, and normalises the
sums over ``__splink__m_u_counts``. Floating-point addition depends on order, so two
identical runs could train m probabilities differing in the last bit (measured: 16 of
118,562 match probabilities differed by up to 4.4e-16 at 20,000 households). Sorted,
both tables are small (one row per agreement pattern, or per comparison level) and
each is scanned by one thread in stored order, so the sums, the model and every
match probability repeat bit for bit, at no measurable cost. Scoring itself sums
each pair's Bayes factors within its row, which is already deterministic.
"""


class LinkageSQLError(LinkauditError, RuntimeError):
    """A linkage query failed; ``table`` is what it was building, ``sql`` the query."""

    def __init__(self, table: str, sql: str, cause: Exception | str):
        self.table = table
        self.sql = sql
        self.cause = str(cause)
        super().__init__(f"building table {table!r} failed: {cause}\nSQL:\n{sql}")

    def __reduce__(self) -> tuple:
        """Pickled as text, so a worker's failure comes back whole."""
        return (type(self), (self.table, self.sql, self.cause))


def sql_text(value: str | Path) -> str:
    """A SQL string literal of ``value`` (a path or a name), quotes doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """A pyarrow table of ``frame`` (index dropped), dates as ``date32``."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.date32()))
        elif pa.types.is_large_string(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.string()))
    return table


class LinkageDB:
    """A DuckDB connection plus helpers to register frames and build tables.

    Parameters
    ----------
    connection : duckdb.DuckDBPyConnection, optional
        An open connection to use; by default a new in-memory database.
    debug : bool
        Keep every intermediate table (callers check :attr:`debug` before dropping).
    threads : int, optional
        DuckDB worker threads; by default DuckDB's own choice (all cores).
    memory_limit : str, optional
        DuckDB's memory limit (e.g. ``"4GB"``); beyond it, joins and sorts spill to
        a temporary directory. By default DuckDB's own (80% of RAM).
    temp_directory : path, optional
        Where DuckDB spills; by default the connection's own setting (for a new
        in-memory database, ``.tmp`` in the current directory: callers that own
        the connection give one, :func:`simulator.council.linkage.link`).

    Examples
    --------
    >>> db = LinkageDB()
    >>> db.register("t", pd.DataFrame({"x": [1, 2, 3]}))
    >>> db.create("t2", "SELECT count(*) AS s FROM t")
    >>> db.frame("SELECT s FROM t2")["s"].tolist()
    [3]
    """

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection | None = None,
        *,
        debug: bool = False,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: str | Path | None = None,
    ):
        self.con = connection if connection is not None else duckdb.connect()
        self.con.execute("SET enable_progress_bar = false")
        self.debug = debug
        self.prefix = f"la{next(_run_ids)}_"
        threads = threads if threads is not None else _default_threads
        if threads is not None:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            self.con.execute("SET memory_limit = ?", [memory_limit])
        if temp_directory is not None:
            self.con.execute("SET temp_directory = ?", [str(temp_directory)])

    def name(self, table: str) -> str:
        """A table name unique to this object (several runs can share a connection)."""
        return f"{self.prefix}{table}"

    def register(self, table: str, frame: pd.DataFrame | pa.Table) -> None:
        """Make ``frame`` queryable as ``table`` (a view over it; not copied)."""
        data = to_arrow(frame) if isinstance(frame, pd.DataFrame) else frame
        self.con.register(table, data)

    def create(self, table: str, sql: str) -> None:
        """``CREATE OR REPLACE TABLE table AS sql``, logged and timed."""
        full = f"CREATE OR REPLACE TABLE {table} AS\n{sql}"
        start = time.perf_counter()
        try:
            self.con.execute(full)
        except duckdb.Error as e:
            raise LinkageSQLError(table, full, e) from e
        logger.debug("built %s in %.2fs:\n%s", table, time.perf_counter() - start, sql)

    def arrow(self, sql: str) -> pa.Table:
        """Run a query and return its result as a pyarrow table."""
        try:
            return self.con.sql(sql).to_arrow_table()
        except duckdb.Error as e:
            raise LinkageSQLError("(query)", sql, e) from e

    def frame(self, sql: str) -> pd.DataFrame:
        """Run a query and return its result as a DataFrame."""
        return self.arrow(sql).to_pandas(types_mapper=_types_mapper)

    def row(self, sql: str) -> tuple[object, ...]:
        """Run a query returning one row."""
        try:
            rows = self.con.sql(sql).fetchall()
        except duckdb.Error as e:
            raise LinkageSQLError("(query)", sql, e) from e
        return tuple(rows[0]) if rows else ()

    def scalar(self, sql: str) -> object:
        """Run a query returning one value."""
        row = self.row(sql)
        return row[0] if row else None

    def drop(self, *tables: str) -> None:
        """Drop tables and views, unless in debug mode."""
        if self.debug:
            return
        for t in tables:
            try:
                self.con.execute(f"DROP TABLE IF EXISTS {t}")
            except duckdb.CatalogException:
                self.con.execute(f"DROP VIEW IF EXISTS {t}")

    def unregister(self, *tables: str) -> None:
        """Forget registered frames (always, since they hold Python memory)."""
        for t in tables:
            self.con.unregister(t)

    def splink_api(self) -> DuckDBAPI:
        """A Splink ``DuckDBAPI`` on this connection (:func:`ordered_splink_api`)."""
        return ordered_splink_api(self.con)


def ordered_splink_api(con: duckdb.DuckDBPyConnection) -> DuckDBAPI:
    """A Splink ``DuckDBAPI`` that stores :data:`ORDERED_SPLINK_TABLES` sorted.

    It wraps the query that creates each such table in ``SELECT * FROM (...) ORDER BY
    ALL``; every other table is created as Splink writes it.
    """
    from splink import DuckDBAPI

    class OrderedDuckDBAPI(DuckDBAPI):
        def _setup_for_execute_sql(self, sql: str, physical_name: str) -> str:
            if physical_name.startswith(ORDERED_SPLINK_TABLES):
                sql = f"SELECT * FROM (\n{sql}\n) ORDER BY ALL"
            return super()._setup_for_execute_sql(sql, physical_name)

    return OrderedDuckDBAPI(connection=con)


def _types_mapper(t: pa.DataType) -> object:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return STRING
    if pa.types.is_integer(t):
        return pd.Int64Dtype()
    return None
