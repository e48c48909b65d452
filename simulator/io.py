"""Files of linkaudit outputs: Parquet and JSON writing, manifests and their proof.

:func:`write_manifest` writes ``manifest.json`` last: a format marker
(:data:`FORMAT`), every file with its size and sha256, and the command's own fields.
:func:`proven_output` is the proof ``--force`` asks for before replacing a directory;
:func:`verify_file` lets a reader (``linkaudit audit``) check a file against it.
Output directories themselves (claims, locks, atomic replacement, leftovers) are in
:mod:`simulator.output_dirs`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simulator.errors import InputDataError

MANIFEST = "manifest.json"
"""Written last inside an output directory; its presence marks the output complete."""
FORMAT = "linkaudit-output"
"""The manifest's format marker; with the file list, the proof that linkaudit wrote
a directory."""
FORMAT_VERSION = 1
PARTIAL_MARKER = ".linkaudit-partial"
"""Inside a partial directory while it is written: proves linkaudit made it."""
HASH_CHUNK = 1 << 20
"""Bytes read at a time when hashing a file."""


# --------------------------------------------------------------------- manifests


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes, read in chunks (memory stays small)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files_under(directory: Path) -> list[str]:
    """Paths of every file under ``directory`` (relative, POSIX, sorted)."""
    return sorted(
        p.relative_to(directory).as_posix()
        for p in directory.rglob("*")
        if not p.is_dir()
    )


def write_manifest(directory: Path, fields: dict[str, Any]) -> None:
    """Write ``manifest.json``: the format marker, every file's hash, and ``fields``.

    Call it last: every file under ``directory`` (but the partial marker) is listed
    with its size and sha256. No timestamps or absolute paths, so equal outputs have
    equal manifests.
    """
    files = {
        rel: {
            "bytes": (directory / rel).stat().st_size,
            "sha256": sha256_file(directory / rel),
        }
        for rel in _files_under(directory)
        if rel not in (MANIFEST, PARTIAL_MARKER)
    }
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, **fields}
    manifest["files"] = files
    write_json(manifest, directory / MANIFEST)


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of an output directory, checked to be linkaudit's.

    Raises
    ------
    InputDataError
        If it is missing, not JSON, lacks the format marker or the file list.
    """
    path = directory / MANIFEST
    if not path.is_file():
        raise InputDataError(
            f"{directory}: not a complete linkaudit output directory (no {MANIFEST})"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputDataError(
            f"{path}: not valid JSON ({e}); the directory is damaged: write it again "
            "with the command that made it"
        ) from None
    except OSError as e:
        raise InputDataError(f"{path}: cannot read ({e.strerror})") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputDataError(
            f"{path}: no linkaudit format marker (written by an older linkaudit, or "
            "not by linkaudit); write the directory again with this version"
        )
    if not isinstance(manifest.get("files"), dict):
        raise InputDataError(f"{path}: no list of files; the manifest is damaged")
    return manifest


def proven_output(directory: Path) -> bool:
    """Whether ``directory`` is provably linkaudit's own output.

    The proof: a manifest with the format marker listing exactly the files present
    (nothing else in the directory).
    """
    try:
        manifest = read_manifest(directory)
    except InputDataError:
        return False
    present = [f for f in _files_under(directory) if f != MANIFEST]
    return present == sorted(manifest["files"])


def verify_file(directory: Path, rel: str, manifest: dict[str, Any]) -> Path:
    """Check one file of an output directory against its manifest (size, sha256).

    Returns
    -------
    Path
        The file.

    Raises
    ------
    InputDataError
        Naming the file, if it is missing, not listed, or its content differs.
    """
    path = directory / rel
    entry = manifest["files"].get(rel)
    if not path.is_file():
        raise InputDataError(f"{path}: missing from the output directory")
    if not isinstance(entry, dict):
        raise InputDataError(
            f"{path}: not listed in {directory / MANIFEST}: it was added after the "
            "directory was written; remove it or write the directory again"
        )
    if path.stat().st_size != entry.get("bytes") or sha256_file(path) != entry.get(
        "sha256"
    ):
        raise InputDataError(
            f"{path}: its content does not match {directory / MANIFEST} (sha256 "
            "differs): it was changed or copied from another output; write the "
            "directory again with the command that made it"
        )
    return path


# ------------------------------------------------------------------------ files


ROW_GROUP_ROWS = 1024 * 1024
"""Rows per Parquet row group (pyarrow's default)."""
DISTINCT_VALUED = frozenset(
    {
        *("record_id", "person_id", "household_id", "true_person_id"),
        *("true_household_id", "true_identity_person_id", "spine_person_id"),
        *("spine_household_id", "address", "prev_address", "nhs_number"),
        *("ni_number", "upn", "rank"),
    }
)
"""An output's columns whose values hardly repeat within a row group (ids, national
identifiers, addresses, ranks: 14% to 100% distinct at 1,000,000 households), written
without a dictionary (:func:`output_dictionaries`). Parquet would hash their values
into a dictionary that outgrows its page and falls back to plain values: 15% of an
output's writing CPU for nothing, and files 8% larger."""
SCRATCH_COMPRESSION = "lz4"
"""How files no output keeps (a streamed task's world, read back and removed) are
compressed: an output's are zstd, with dictionaries where values repeat
(:func:`output_dictionaries`). A scratch file is written
without dictionaries but for dictionary columns (which keep their categories' order
through them): the same values for less CPU writing and reading, and about 1.5
times the disk. Every column so when the disk lacks room for :data:`ROOMY` files
(:func:`scratch_compression`)."""
ROOMY = "strings"
"""A scratch file's compression where the disk has room: :data:`SCRATCH_COMPRESSION`
for its plain strings only (addresses, numbers: most of its bytes, which it shrinks
2 to 7 times), none for its numbers, dates, flags and dictionaries, whose
compression costs more CPU than the disk it saves is worth."""
SCRATCH_ROOM = 3
"""Scratch files are :data:`ROOMY` while the disk's free room is this many times
what they take so (:func:`scratch_compression`): room for the other pool task's
worlds, the outputs and a margin."""


def scratch_compression(directory: Path, roomy_bytes: float) -> str:
    """How scratch files taking ``roomy_bytes`` as :data:`ROOMY` are compressed.

    :data:`ROOMY` while the disk of ``directory`` has room for :data:`SCRATCH_ROOM`
    times as much, else :data:`SCRATCH_COMPRESSION`. The same values either way:
    :data:`ROOMY` saves a seventh of a scratch world's generation for about twice
    the disk, kept for a disk that would fill.
    """
    return ROOMY if has_room(directory, roomy_bytes) else SCRATCH_COMPRESSION


def has_room(directory: Path, scratch_bytes: float) -> bool:
    """Whether ``directory``'s disk has :data:`SCRATCH_ROOM` times ``scratch_bytes``.

    Scratch files that large may then trade disk for CPU.
    """
    return shutil.disk_usage(directory).free >= SCRATCH_ROOM * scratch_bytes


def output_dictionaries(schema: pa.Schema) -> list[str]:
    """The columns of an output file written with a dictionary, where values repeat.

    All but :data:`DISTINCT_VALUED`; a dictionary column keeps its own.

    >>> output_dictionaries(pa.schema([("record_id", "int64"), ("sex", "string")]))
    ['sex']
    """
    return [
        f.name
        for f in schema
        if pa.types.is_dictionary(f.type) or f.name not in DISTINCT_VALUED
    ]


def _codecs(schema: pa.Schema, compression: str, dictionaries: list[str]) -> Any:
    """Parquet's ``compression`` option of a scratch file (:data:`ROOMY` per column)."""
    if compression != ROOMY:
        return compression
    return {
        f.name: SCRATCH_COMPRESSION
        if pa.types.is_large_string(f.type) and f.name not in dictionaries
        else "none"
        for f in schema
    }


def link_or_copy(source: Path, target: Path) -> None:
    """``target`` made a hard link to ``source`` (a copy on a file system without).

    Its directory is made. For files that stay as written (a world's truth): the
    link is the same bytes, neither read nor written again.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def write_parquet(frame: pd.DataFrame, path: Path, *, scratch: bool = False) -> None:
    """Write a frame as Parquet without its index; equal data give equal bytes.

    Written in row groups of :data:`ROW_GROUP_ROWS`, each combined into one chunk
    (:class:`RowGroupWriter`), so the file is the same as ``pq.write_table`` of the
    combined table whatever the frame's chunks. ``scratch`` as for
    :class:`RowGroupWriter`.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with RowGroupWriter(path, table.schema, scratch=scratch) as writer:
        writer.write(table)


class RowGroupWriter:
    """A Parquet file written from tables in order, the same bytes as written whole.

    Arrow chunk boundaries (which follow the generation chunks) would otherwise move
    Parquet page boundaries, and the bytes would depend on ``generation.chunk_size``
    or on how a file was streamed: rows are held until a row group of
    :data:`ROW_GROUP_ROWS` is full, and each row group is combined into one chunk
    first, so the extra memory is one row group.

    Parameters
    ----------
    path : Path
        The file (its directory is made).
    schema : pyarrow.Schema
        Every table's schema (``pa.Table.from_pandas``'s, pandas metadata included).
    scratch : bool
        A file no output keeps: encoded for speed (:data:`SCRATCH_COMPRESSION`),
        the same values in other bytes.
    as_given : bool
        With ``scratch``: each table is written as it comes (its own row groups),
        nothing held or combined, as a scratch file's bytes need not be those of
        the file written whole.
    repeating : collection of str
        With ``scratch``: columns whose few values repeat (a source's name, an
        event type), written with a dictionary too: hashed once a value, they are
        far fewer bytes to compress and read than the strings written plain.
    statistics : collection of str, optional
        With ``scratch``: the only columns whose statistics (each row group's least
        and greatest) are written, those a reader skips row groups or sizes tables
        by (:func:`id_bound`); None, every column's.
    compression : str
        With ``scratch``: its codec, or :data:`ROOMY` (:func:`scratch_compression`).
    required : collection of str
        With ``scratch``: columns that never hold a null (numbers and flags from
        numpy), declared so (Parquet's required fields, non-nullable in the schema
        read back): none of their definition levels is written or read. A null
        there is refused when written.
    coded : collection of str
        With ``as_given``: string columns each table holds as an Arrow dictionary
        (int32 codes, its own dictionary), written as Parquet's dictionary as they
        are rather than decoded and hashed again; read back as ``schema`` says
        (:func:`_coded_schema`).
    """

    def __init__(
        self,
        path: Path,
        schema: pa.Schema,
        *,
        scratch: bool = False,
        as_given: bool = False,
        repeating: Collection[str] = (),
        statistics: Collection[str] | None = None,
        compression: str = SCRATCH_COMPRESSION,
        required: Collection[str] = (),
        coded: Collection[str] = (),
    ):
        if as_given and not scratch:
            raise ValueError("only a scratch file's row groups follow its tables")
        if coded and not as_given:
            raise ValueError("only a file written as given takes coded columns")
        self._required = scratch and any(f.name in required for f in schema)
        if self._required:
            schema = pa.schema(
                [f.with_nullable(False) if f.name in required else f for f in schema],
                metadata=schema.metadata,
            )
        stored = schema
        schema = _coded_schema(schema, coded)
        path.parent.mkdir(parents=True, exist_ok=True)
        options: dict[str, Any] = {
            "compression": "zstd",
            "use_dictionary": output_dictionaries(schema),
        }
        if scratch:
            dictionaries = [
                f.name
                for f in schema
                if pa.types.is_dictionary(f.type) or f.name in repeating
            ]
            options = {
                "compression": _codecs(schema, compression, dictionaries),
                "use_dictionary": dictionaries,
            }
            if statistics is not None:
                options["write_statistics"] = [
                    f.name for f in schema if f.name in statistics
                ]
        self._writer = pq.ParquetWriter(
            path, schema, store_schema=schema is stored, **options
        )
        if schema is not stored:  # read back as strings, not as categories
            self._writer.add_key_value_metadata(_stored_metadata(stored))
        self._schema = schema
        self._rewrap = self._required or schema is not stored
        self._held: list[pa.Table] = []
        self._rows = 0
        self._groups = 0
        self._as_given = as_given

    def write(self, table: pa.Table) -> None:
        """Add ``table``'s rows; full row groups are written."""
        if self._rewrap:  # the same columns, declared without nulls or coded
            table = pa.Table.from_arrays(table.columns, schema=self._schema)
        if self._as_given:
            self._writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            self._groups += 1
            return
        self._held.append(table)
        self._rows += len(table)
        while self._rows >= ROW_GROUP_ROWS:
            self._flush(ROW_GROUP_ROWS)

    def _flush(self, rows: int) -> None:
        held = (
            pa.concat_tables(self._held) if self._held else self._schema.empty_table()
        )
        self._writer.write_table(
            held.slice(0, rows).combine_chunks(), row_group_size=ROW_GROUP_ROWS
        )
        rest = held.slice(rows)
        self._held, self._rows = [rest], len(rest)
        self._groups += 1

    def close(self) -> None:
        """Write the last row group (an empty one if no row came) and the footer."""
        if self._writer.is_open and (self._rows or not self._groups):
            self._flush(self._rows)
        self._writer.close()

    def __enter__(self) -> RowGroupWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        else:
            self._writer.close()


def _coded_schema(schema: pa.Schema, coded: Collection[str]) -> pa.Schema:
    """``schema`` with its ``coded`` columns as the dictionaries tables give them.

    ``schema`` itself if none is coded.
    """
    if not any(f.name in coded for f in schema):
        return schema
    return pa.schema(
        [
            f.with_type(pa.dictionary(pa.int32(), f.type)) if f.name in coded else f
            for f in schema
        ],
        metadata=schema.metadata,
    )


def _stored_metadata(schema: pa.Schema) -> dict[bytes, bytes]:
    """A Parquet file's key-value metadata as its writer stores ``schema``.

    Its own metadata (pandas') and ``ARROW:schema``, the schema serialised as an
    Arrow IPC message in base64, which decides the types a reader gets back.
    """
    serialised = base64.b64encode(schema.serialize().to_pybytes())
    return {**(schema.metadata or {}), b"ARROW:schema": serialised}


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file, refusing a truncated or foreign one in one line."""
    try:
        return pq.read_table(path).to_pandas()
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as e:
        raise InputDataError(
            f"{path}: not a readable Parquet file ({str(e).splitlines()[0]}); it is "
            "truncated or foreign: write the directory again"
        ) from e


def write_json(data: Any, path: Path) -> None:
    """Write JSON with sorted keys, UTF-8, trailing newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
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


def marked_ids(path: Path, column: str, bound: int) -> tuple[np.ndarray, int]:
    """A table indexed by id, True where ``column`` of a Parquet file has that id.

    Read a batch at a time; with the file's rows (more rows than marks: an id
    repeats). ``bound`` is :func:`id_bound`'s, so every id fits.
    """
    file = pq.ParquetFile(path)
    seen = np.zeros(bound, dtype=bool)
    for batch in file.iter_batches(batch_size=1 << 20, columns=[column]):
        seen[batch.column(0).to_numpy()] = True
    return seen, file.metadata.num_rows
