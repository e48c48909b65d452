"""Content digests of a run directory's Parquet files, kept to catch silent changes.

A digest hashes each table's columns, types and values (Arrow IPC of the table with
its schema metadata removed), not the file's bytes, so a new pyarrow or pandas
version that writes other metadata does not count as a change. The expected digests
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
import pyarrow.parquet as pq

DIGESTS = Path(__file__).with_name("library_digests.json")
UPDATE = os.environ.get("LINKAUDIT_UPDATE_DIGESTS") == "1"


def table_digest(path: Path) -> str:
    """sha256 of a Parquet file's table: columns, types and values."""
    table = pq.read_table(path).replace_schema_metadata(None)
    sink = pa.BufferOutputStream()
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
