"""A run's large tables as the report reads them: a few households' rows, and sizes.

The report and the transparency record never need a whole table of the population:
they read the rows of a few chosen households (case files), each table's size and
columns, and sums made a batch at a time (the population's shares, the flag rule's
cut). :class:`RunTables` offers only that, so the same report code reads a run
held in memory (:class:`FrameTables`, as ``linkaudit run`` has it) or its files on
disk (:class:`FileTables`, in memory bounded by the rows read, not the population),
and gives the same bytes.

Tables are named :data:`AREAS`, :data:`HOUSEHOLDS`, :data:`PEOPLE`, :data:`SPINE`,
:data:`LINKS`, :data:`FLAGS` and :func:`source_table` of each source.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

AREAS, HOUSEHOLDS, PEOPLE = "areas", "households", "people"
SPINE, LINKS, FLAGS = "spine", "links", "flags"
BATCH_ROWS = 1 << 18
"""Rows per batch when a file is summed a batch at a time."""
READAHEAD = 2
"""Batches a filtered read decodes ahead. pyarrow's default (16, with each row
group's column chunks read whole first) held 0.1 GiB more at 1,000,000 households."""


def source_table(source: str) -> str:
    """The name of ``source``'s records table."""
    return f"records/{source}"


class Shaped(Protocol):
    """Anything with columns and a length: a data frame, or a :class:`TableShape`."""

    @property
    def columns(self) -> Any:  # noqa: D102 (a protocol's member)
        ...

    def __len__(self) -> int: ...


class TableShape(NamedTuple):
    """A table's columns and number of rows (what the transparency record reads)."""

    columns: list[str]
    rows: int

    def __len__(self) -> int:
        return self.rows


class RunTables(ABC):
    """A run's tables, read a few rows or a batch at a time.

    Parameters
    ----------
    sources : sequence of str
        The agencies whose records the run holds, in the run's order (case files
        list records in it).
    """

    def __init__(self, sources: Sequence[str]):
        self.sources = tuple(sources)

    @abstractmethod
    def columns(self, table: str) -> list[str]:
        """The table's columns, in order."""

    @abstractmethod
    def n_rows(self, table: str) -> int:
        """The table's number of rows."""

    @abstractmethod
    def rows(
        self,
        table: str,
        where: Mapping[str, object],
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """The rows where any column of ``where`` holds one of its values.

        In the table's order, numbered from 0; ``columns`` (default all) only.
        """

    @abstractmethod
    def batches(self, table: str, columns: Sequence[str]) -> Iterator[pd.DataFrame]:
        """The table's ``columns``, in consecutive slices of rows (one or more)."""

    def shapes(self) -> dict[str, TableShape]:
        """Each source's records' columns and size, by source."""
        return {
            s: TableShape(self.columns(source_table(s)), self.n_rows(source_table(s)))
            for s in self.sources
        }


class FrameTables(RunTables):
    """A run's tables held in memory as data frames (by table name)."""

    def __init__(self, frames: Mapping[str, pd.DataFrame], sources: Sequence[str]):
        super().__init__(sources)
        self.frames = frames

    def columns(self, table: str) -> list[str]:
        """The frame's columns."""
        return list(self.frames[table].columns)

    def n_rows(self, table: str) -> int:
        """The frame's length."""
        return len(self.frames[table])

    def rows(
        self,
        table: str,
        where: Mapping[str, object],
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """The frame's rows matching ``where`` (a boolean mask of ``isin``)."""
        frame = self.frames[table]
        mask = np.zeros(len(frame), dtype=bool)
        for column, values in where.items():  # one or two columns
            mask |= frame[column].isin(values).to_numpy()  # type: ignore[arg-type]
        chosen = frame.loc[mask] if columns is None else frame.loc[mask, list(columns)]
        return chosen.reset_index(drop=True)

    def batches(self, table: str, columns: Sequence[str]) -> Iterator[pd.DataFrame]:
        """The frame's columns, as one slice."""
        yield self.frames[table][list(columns)]


def _values(values: object, field: pa.Field) -> pa.Array:
    """Distinct non-missing ``values`` as an Arrow array of ``field``'s type."""
    kind = field.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    distinct = pd.unique(pd.Series(np.asarray(values)).dropna().to_numpy())
    return pa.array(distinct).cast(kind)


class FileTables(RunTables):
    """A run's tables as Parquet files (by table name), read with filters.

    A filter reads only the matching rows (and skips row groups whose statistics
    rule them out); :meth:`batches` reads :data:`BATCH_ROWS` rows at a time.
    """

    def __init__(
        self, directory: Path, files: Mapping[str, str], sources: Sequence[str]
    ):
        super().__init__(sources)
        self.paths = {name: Path(directory) / rel for name, rel in files.items()}

    def columns(self, table: str) -> list[str]:
        """The file's columns (its schema's)."""
        return list(pq.read_schema(self.paths[table]).names)

    def n_rows(self, table: str) -> int:
        """The file's rows (its footer's count)."""
        return pq.ParquetFile(self.paths[table]).metadata.num_rows

    def rows(
        self,
        table: str,
        where: Mapping[str, object],
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """The file's rows matching ``where`` (a filter on the scan)."""
        path = self.paths[table]
        schema = pq.read_schema(path)
        test = pc.scalar(False)
        for column, values in where.items():  # one or two columns
            field = schema.field(column)
            test = test | pc.field(column).isin(_values(values, field))
        read = ds.dataset(path, schema=schema, format="parquet").to_table(
            columns=None if columns is None else list(columns),
            filter=test,
            batch_readahead=READAHEAD,
            fragment_readahead=1,
            fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False),
        )
        return read.to_pandas()

    def batches(self, table: str, columns: Sequence[str]) -> Iterator[pd.DataFrame]:
        """The file's columns, :data:`BATCH_ROWS` rows at a time."""
        file = pq.ParquetFile(self.paths[table])
        schema = file.schema_arrow
        read = 0
        for batch in file.iter_batches(BATCH_ROWS, columns=list(columns)):
            read += 1
            part = pa.Table.from_batches([batch]).replace_schema_metadata(
                schema.metadata
            )
            yield part.to_pandas()
        if not read:  # an empty table is one empty slice, as in memory
            yield schema.empty_table().select(list(columns)).to_pandas()
