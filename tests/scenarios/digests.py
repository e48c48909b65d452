"""Content digests of a run directory's Parquet files, kept to catch silent changes.

A digest hashes each table's columns, types and values (its schema without metadata
and the Arrow IPC of its columns, each null's bytes defined), not the file's bytes,
so a new pyarrow or pandas version that writes other metadata or encodings does not
count as a change. The expected digests
of the library's smoke runs live in ``library_digests.json``; after an intended
change of outputs, rewrite them with ``LINKAUDIT_UPDATE_DIGESTS=1 pytest
tests/scenarios/test_library.py`` and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

DIGESTS = Path(__file__).with_name("library_digests.json")
UPDATE = os.environ.get("LINKAUDIT_UPDATE_DIGESTS") == "1"


def defined(column: pa.ChunkedArray) -> list[pa.ChunkedArray]:
    """A column as arrays whose every byte is a value: itself, or, with nulls, its
    validity and its values with each null filled.

    The bytes under a null are undefined in Arrow: reading the same values from a
    file encoded otherwise (plain rather than with a dictionary) may leave others.
    """
    if not column.null_count:
        return [column]
    if column.null_count == len(column):  # no value, nothing but its type
        return [pc.is_valid(column)]
    values = column
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    first = pc.drop_null(values)[0]
    return [pc.is_valid(column), pc.fill_null(values, first)]


def table_digest(path: Path) -> str:
    """sha256 of a Parquet file's table: columns, types and values."""
    read = pq.read_table(path).replace_schema_metadata(None)
    arrays = [a for column in read.columns for a in defined(column)]
    table = pa.table(arrays, names=[str(i) for i in range(len(arrays))])
    sink = pa.BufferOutputStream()
    sink.write(read.schema.serialize())
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def run_digests(directory: Path) -> dict[str, str]:
    """Digest of every Parquet file below ``directory``, by relative path."""
    return {
        p.relative_to(directory).as_posix(): table_digest(p)
        for p in sorted(directory.rglob("*.parquet"))
    }


def expected(name: str) -> dict[str, str] | None:
    """The kept digests of one scenario's smoke run (None if none are kept)."""
    if not DIGESTS.exists():
        return None
    return json.loads(DIGESTS.read_text(encoding="utf-8")).get(name)


def keep(name: str, digests: dict[str, str]) -> None:
    """Record one scenario's digests (update mode only)."""
    kept = json.loads(DIGESTS.read_text(encoding="utf-8")) if DIGESTS.exists() else {}
    kept[name] = digests
    DIGESTS.write_text(json.dumps(kept, indent=1, sort_keys=True) + "\n", "utf-8")
