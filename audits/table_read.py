"""Read the columns an audit uses from a CSV or Parquet file, as real files come.

Real files are messy, so :func:`read_columns` reads only the columns asked for and
says plainly what is wrong, in one line naming the file and the column:

- the file must exist, be at most ``max_bytes`` long, and be Parquet (it starts with
  ``PAR1``) or CSV (text with a header line; UTF-8);
- a column named twice is used if its copies are equal in every row (with a
  warning), and refused, naming the first row where they differ, if not; a name
  twice in the file that the audit does not use is no concern;
- columns without a name (the trailing one a line ending in a comma makes, or the
  index column some tools write first) are never read;
- a column asked for that the file lacks is named, with the columns it has.

CSV cells are read as text (blank cells, ``NA`` and the like as missing) so that a
stray word in row 9,000,000 is reported at its row rather than making a whole
column text; :mod:`audits.table` turns them into numbers and groups. Rows are
counted from 1, the first line under the header being row 1.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from audits.errors import AuditWarning
from simulator.errors import InputDataError

PARQUET_MAGIC = b"PAR1"
"""The first four bytes of every Parquet file."""
SNIFF_BYTES = 65_536
"""How much of a file is looked at to tell CSV text from anything else."""
_KNOWN_BINARY = {
    b"PK\x03\x04": "a ZIP archive (an Excel .xlsx workbook is one): save it as CSV",
    b"\x1f\x8b": "gzip-compressed: decompress it first",
    b"\xd0\xcf\x11\xe0": "an old Excel or Office file: save it as CSV",
}


@dataclass(frozen=True)
class TableColumns:
    """The columns read from one file.

    Attributes
    ----------
    path : Path
        The file.
    kind : {'csv', 'parquet', 'frame'}
        Its format (``'frame'``: a DataFrame given in Python).
    columns : dict of str to pyarrow.ChunkedArray
        Each column asked for (text for CSV; the file's own types for Parquet).
    n_rows : int
        Rows of data.
    notes : tuple of str
        What was tolerated (a repeated column with equal copies), as warned.
    """

    path: Path
    kind: str
    columns: dict[str, pa.ChunkedArray]
    n_rows: int
    notes: tuple[str, ...] = ()


def human_bytes(n: float) -> str:
    """A size in bytes in words, e.g. ``"1.5 GiB"``.

    Examples
    --------
    >>> human_bytes(1536), human_bytes(4 * 1024**3)
    ('1.5 KiB', '4 GiB')
    """
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            text = f"{n:.1f}".removesuffix(".0") if unit != "bytes" else f"{int(n)}"
            return f"{text} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def parse_size(text: str) -> int:
    """A size such as ``"500MB"``, ``"2GiB"`` or ``"1000000"`` in bytes.

    Units are powers of 1024 (``K``, ``M``, ``G``, ``T``, with or without ``B``/
    ``iB``).

    Examples
    --------
    >>> parse_size("2G"), parse_size("500 MB"), parse_size("1024")
    (2147483648, 524288000, 1024)
    """
    cleaned = text.strip().upper().replace(" ", "").removesuffix("B").removesuffix("I")
    factor = 1
    if cleaned and cleaned[-1] in "KMGT":
        factor = 1024 ** ("KMGT".index(cleaned[-1]) + 1)
        cleaned = cleaned[:-1]
    try:
        value = float(cleaned)
    except ValueError:
        raise InputDataError(
            f"size {text!r}: expected a number of bytes, e.g. 500MB or 2GB"
        ) from None
    if not value > 0:
        raise InputDataError(f"size {text!r}: must be positive")
    return int(value * factor)


def file_kind(path: Path, max_bytes: int) -> str:
    """``'parquet'`` or ``'csv'``; anything else, absent or too large is an error.

    Parameters
    ----------
    path : Path
        The file.
    max_bytes : int
        The largest size accepted.

    Returns
    -------
    str

    Raises
    ------
    InputDataError
        Naming the file and what was expected.
    """
    if path.is_dir():
        raise InputDataError(f"{path}: is a directory; give a CSV or Parquet file")
    if not path.exists():
        raise InputDataError(f"{path}: no such file; give a CSV or Parquet file")
    size = path.stat().st_size
    if size > max_bytes:
        raise InputDataError(
            f"{path}: {human_bytes(size)}, over the size limit of "
            f"{human_bytes(max_bytes)}; raise it with --max-size (max_bytes in "
            "Python) if the machine has the memory"
        )
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    for magic, what in _KNOWN_BINARY.items():
        if head.startswith(magic):
            raise InputDataError(f"{path}: not a CSV or Parquet file; it is {what}")
    if not head.strip():
        raise InputDataError(f"{path}: is empty; expected a CSV or Parquet file")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4 or b"\x00" in head:  # not a cut character
            raise InputDataError(
                f"{path}: not a CSV or Parquet file (byte {e.start + 1} is not "
                "UTF-8 text, and the file does not start as Parquet does)"
            ) from None
        text = head[: e.start].decode("utf-8")
    if "\x00" in text:
        raise InputDataError(
            f"{path}: not a CSV or Parquet file (it holds binary data)"
        )
    return "csv"


def _header(path: Path) -> list[str]:
    """The CSV header's names, as written (spaces around a name removed)."""
    with path.open("r", encoding="utf-8-sig", newline="") as f:
        first = next(csv.reader(io.StringIO(f.readline())), [])
    return [name.strip() for name in first]


def _positions(path: Path, names: list[str], used: Sequence[str]) -> dict[str, list]:
    """Where each used column is in ``names``; a missing one is an error."""
    where = {c: [i for i, n in enumerate(names) if n == c] for c in used}
    missing = [c for c, pos in where.items() if not pos]
    if missing:
        named = [n for n in names if n]
        shown = ", ".join(named[:20]) + (", ..." if len(named) > 20 else "")
        raise InputDataError(
            f"{path}: no column {', '.join(repr(c) for c in missing)}; the file has "
            f"{shown or 'no named columns'}"
        )
    return where


def _first(error: Exception) -> str:
    """The first line of an error's message."""
    return (str(error).splitlines() or ["unreadable"])[0]


def _read_csv(path: Path, n_fields: int, wanted: list[int]) -> pa.Table:
    """The ``wanted`` fields of a CSV as text columns ``c<position>``."""
    names = [f"c{i}" for i in range(n_fields)]
    try:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                include_columns=[names[i] for i in wanted],
                column_types={names[i]: pa.string() for i in wanted},
                strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as e:
        raise InputDataError(
            f"{path}: not a readable CSV file ({_first(e)}); every line needs as "
            "many fields as the header"
        ) from None


def _read_parquet(path: Path, names: list[str], wanted: list[int]) -> pa.Table:
    """The ``wanted`` columns of a Parquet file, renamed ``c<position>``."""
    try:
        if len(set(names)) == len(names):
            table = pq.read_table(path, columns=[names[i] for i in wanted])
        else:  # repeated names cannot be read by name
            table = pq.read_table(path).select(wanted)
    except (pa.ArrowException, OSError) as e:
        raise InputDataError(
            f"{path}: not a readable Parquet file ({_first(e)})"
        ) from None
    return table.rename_columns([f"c{i}" for i in wanted])


def _first_difference(a: pa.ChunkedArray, b: pa.ChunkedArray) -> int:
    """The first row where two columns differ (missing equals missing)."""
    left = np.asarray(a.to_pandas(), dtype=object)
    right = np.asarray(b.to_pandas(), dtype=object)
    both_missing = np.asarray(a.is_null()) & np.asarray(b.is_null())
    same = both_missing | (left == right)
    return int(np.flatnonzero(~same)[0])


def _one_copy(
    path: Path, column: str, positions: list[int], table: pa.Table
) -> tuple[pa.ChunkedArray, str | None]:
    """A column named more than once: its one value if the copies agree."""
    first = table.column(f"c{positions[0]}")
    for other in positions[1:]:
        copy = table.column(f"c{other}")
        if not first.equals(copy):
            row = _first_difference(first, copy)
            raise InputDataError(
                f"{path}: column {column!r} appears {len(positions)} times and the "
                f"copies differ (row {row + 1}: {first[row].as_py()!r} and "
                f"{copy[row].as_py()!r}); rename or remove one"
            )
    note = (
        f"{path}: column {column!r} appears {len(positions)} times (positions "
        f"{', '.join(str(p + 1) for p in positions)}) with equal values in every "
        "row; using it once"
    )
    return first, note


def read_columns(
    path: str | Path, used: Sequence[str], *, max_bytes: int
) -> TableColumns:
    """Read the columns ``used`` from a CSV or Parquet file.

    Parameters
    ----------
    path : str or Path
        The file.
    used : sequence of str
        Column names the audit reads.
    max_bytes : int
        The largest file accepted (:func:`parse_size`).

    Returns
    -------
    TableColumns

    Raises
    ------
    InputDataError
        One line naming the file (and column, and row) for a missing, empty,
        oversized or unreadable file, a file that is neither CSV nor Parquet, a
        missing column, or a repeated column whose copies differ.

    Warns
    -----
    AuditWarning
        For a used column named more than once with equal copies.
    """
    path = Path(path)
    kind = file_kind(path, max_bytes)
    if kind == "csv":
        names = _header(path)
    else:
        try:
            names = list(pq.read_schema(path).names)
        except (pa.ArrowException, OSError) as e:
            raise InputDataError(
                f"{path}: not a readable Parquet file ({_first(e)})"
            ) from None
    where = _positions(path, names, list(dict.fromkeys(used)))
    wanted = sorted({i for pos in where.values() for i in pos})
    table = (
        _read_csv(path, len(names), wanted)
        if kind == "csv"
        else _read_parquet(path, names, wanted)
    )
    return _gather(path, kind, where, table)


def frame_columns(
    frame: pd.DataFrame, used: Sequence[str], name: str = "table"
) -> TableColumns:
    """The columns ``used`` of a DataFrame, checked as a file's are.

    Parameters
    ----------
    frame : DataFrame
        The table (repeated column names allowed, as in a file).
    used : sequence of str
        Column names the audit reads.
    name : str
        The table's name in messages.

    Returns
    -------
    TableColumns
        ``kind`` ``'frame'``; columns in their own types.

    Raises
    ------
    InputDataError
        For a missing column, or a repeated one whose copies differ.
    """
    names = [str(c) if isinstance(c, str) else "" for c in frame.columns]
    where = _positions(Path(name), names, list(dict.fromkeys(used)))
    wanted = sorted({i for pos in where.values() for i in pos})
    table = pa.Table.from_arrays(
        [_arrow(frame.iloc[:, i]) for i in wanted], names=[f"c{i}" for i in wanted]
    )
    return _gather(Path(name), "frame", where, table)


def _arrow(values: pd.Series) -> pa.ChunkedArray:
    """A pandas column as Arrow (categories as their values)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    return pa.chunked_array([pa.array(values, from_pandas=True)])


def _gather(
    path: Path, kind: str, where: dict[str, list[int]], table: pa.Table
) -> TableColumns:
    """One array per used column, a repeated column's copies checked."""
    columns, notes = {}, []
    for column, positions in where.items():  # a handful of columns
        if len(positions) == 1:
            columns[column] = table.column(f"c{positions[0]}")
            continue
        columns[column], note = _one_copy(path, column, positions, table)
        warnings.warn(note, AuditWarning, stacklevel=3)
        notes.append(note)
    return TableColumns(path, kind, columns, table.num_rows, tuple(notes))
