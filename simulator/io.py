"""Writing outputs atomically: a run directory appears complete or not at all."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simulator.errors import OutputError

MANIFEST = "manifest.json"
"""Written last inside an output directory; its presence marks the output complete."""


@contextlib.contextmanager
def atomic_directory(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling directory that replaces ``target`` on success.

    On any exception the temporary directory is removed and ``target`` is untouched.
    With ``overwrite``, only an empty directory or an earlier linkaudit output (one
    holding a manifest) is replaced, never any other directory.
    """
    target = Path(target)
    if target.exists() and not overwrite:
        raise OutputError(
            f"{target}: already exists; choose another directory or pass --force"
        )
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target}: exists and is not a directory")
    if target.exists() and any(target.iterdir()) and not (target / MANIFEST).is_file():
        raise OutputError(
            f"{target}: not a linkaudit output directory (no {MANIFEST}); --force only "
            "replaces linkaudit's own outputs, so choose another directory"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(
        tempfile.mkdtemp(
            prefix=f".{target.name}.", suffix=".partial", dir=target.parent
        )
    )
    try:
        yield tmp
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            target.rename(old)
        tmp.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


ROW_GROUP_ROWS = 1024 * 1024
"""Rows per Parquet row group (pyarrow's default)."""


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame as Parquet without its index; equal data give equal bytes.

    Each row group's columns are combined into one chunk first: Arrow chunk boundaries
    (which follow the generation chunks) would otherwise move Parquet page
    boundaries, and the bytes would depend on ``generation.chunk_size``. Combining
    one row group at a time, not the whole table, keeps the extra memory to one row
    group; the file is the same as ``pq.write_table`` of the combined table.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if len(table) <= ROW_GROUP_ROWS:
        pq.write_table(table.combine_chunks(), path, compression="zstd")
        return
    with pq.ParquetWriter(path, table.schema, compression="zstd") as writer:
        for start in range(0, len(table), ROW_GROUP_ROWS):
            part = table.slice(start, ROW_GROUP_ROWS).combine_chunks()
            writer.write_table(part, row_group_size=ROW_GROUP_ROWS)


def write_json(data: Any, path: Path) -> None:
    """Write JSON with sorted keys, UTF-8, trailing newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )
