"""The column contract shared by every record source, the spine and the linkage stage.

Every source's records (and the spine) carry the same identity columns, null where the
source does not hold a field. Hidden columns start with ``true_`` or ``err_``; the
council-side stages (linkage, view, models) must never read them: use
:func:`simulator.frames.council_view` to drop them before handing a frame to council
code.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from simulator.frames import arrow_text

IDENTITY_COLUMNS = (
    "first_name",
    "last_name",
    "sex",
    "dob",
    "address",
    "postcode",
    "nhs_number",
    "ni_number",
    "upn",
)
"""Identity fields as the source recorded them (strings; ``dob`` is datetime64[s])."""

EVENT_COLUMNS = ("record_id", "source", "event_type", "event_date", "absence_rate")
"""What a source record says happened: ``absence_rate`` is set on pupil-census rows."""

SPINE_COLUMNS = ("spine_person_id", "spine_household_id")
"""The council's own ids on its family index."""

HELD_IDENTIFIERS = {
    "health": ("nhs_number",),
    "education": ("upn",),
    "police": (),
    "benefits": ("ni_number",),
    "social_care": ("nhs_number",),
    "spine": ("nhs_number", "upn", "ni_number"),
}
"""National identifiers each source holds; the others are null in its records."""


# ------------------------------------------------------- columns during generation


class Strings:
    """A string column as integer codes into a pool of values (-1: missing).

    The working form of identity and event columns while records are generated and
    corrupted: rows are copied and reordered by their codes, a person's value is
    copied by code, and new values are appended to the pool, so no string is built
    until :meth:`to_arrow` decodes the column once, at the end. The pool need not hold
    distinct values.

    Parameters
    ----------
    codes : numpy.ndarray
        One int64 code per row: an index into ``base`` then ``extra``, or -1 (kept,
        not copied: :meth:`set` changes it in place).
    base : pyarrow.Array
        The shared pool (``large_string``), e.g. the names of a chunk's people.
    extra : numpy.ndarray, optional
        Values appended since (an object array of ``str``).

    Examples
    --------
    >>> import pyarrow as pa
    >>> s = Strings(np.array([1, 0, -1]), pa.array(["Ann", "Bob"]))
    >>> s.set(np.array([0]), np.array(["Bill"]))
    >>> s.values(np.arange(3)).tolist()
    ['Bill', 'Ann', '']
    >>> s.to_arrow().to_pylist()
    ['Bill', 'Ann', None]
    """

    __slots__ = ("base", "codes", "extra")

    def __init__(
        self, codes: np.ndarray, base: pa.Array, extra: np.ndarray | None = None
    ):
        self.codes = np.asarray(codes, dtype=np.int64)
        if base.type != pa.large_string():
            base = base.cast(pa.large_string())
        self.base = base
        self.extra = np.empty(0, dtype=object) if extra is None else extra

    @classmethod
    def constant(cls, value: str | None, n: int) -> Strings:
        """``n`` rows of one value (None: all missing)."""
        if value is None:
            return cls(np.full(n, -1, dtype=np.int64), pa.array([], pa.large_string()))
        return cls(np.zeros(n, dtype=np.int64), pa.array([value], pa.large_string()))

    @classmethod
    def from_arrow(cls, values: pa.Array | pa.ChunkedArray) -> Strings:
        """Code an Arrow string array by position (nulls become -1)."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        codes = np.arange(len(values), dtype=np.int64)
        if values.null_count:
            codes[values.is_null().to_numpy(zero_copy_only=False)] = -1
        return cls(codes, values)

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, idx: np.ndarray) -> Strings:
        """The rows ``idx``, in that order (the pool is shared, not copied)."""
        return Strings(self.codes[idx], self.base, self.extra)

    def repeat(self, times: np.ndarray) -> Strings:
        """Each row ``times`` times in a row (:meth:`take` of those rows, faster)."""
        return Strings(np.repeat(self.codes, times), self.base, self.extra)

    def copy(self) -> Strings:
        """A copy whose codes can be changed without touching this column."""
        return Strings(self.codes.copy(), self.base, self.extra)

    def present(self) -> np.ndarray:
        """True where a row holds a value."""
        return self.codes >= 0

    def values(self, rows: np.ndarray) -> np.ndarray:
        """The values at ``rows`` as a ``str`` array ('' where missing)."""
        codes = self.codes[rows]
        out = np.full(len(codes), "", dtype=object)
        n_base = len(self.base)
        in_base = (codes >= 0) & (codes < n_base)
        if in_base.any():
            out[in_base] = self.base.take(pa.array(codes[in_base])).to_numpy(
                zero_copy_only=False
            )
        in_extra = codes >= n_base
        if in_extra.any():
            out[in_extra] = self.extra[codes[in_extra] - n_base]
        return out.astype(str)

    def set(self, rows: np.ndarray, new: np.ndarray | None) -> None:
        """Set ``rows`` to the strings ``new`` (None: missing), in place."""
        if new is None:
            self.codes[rows] = -1
            return
        if not len(rows):
            return
        start = len(self.base) + len(self.extra)
        self.extra = np.concatenate([self.extra, np.asarray(new, dtype=object)])
        self.codes[rows] = start + np.arange(len(rows))

    def _pool(self) -> pa.Array:
        """Every value a code may point to: ``base`` then ``extra``."""
        if not len(self.extra):
            return self.base
        return pa.concat_arrays([self.base, pa.array(self.extra, pa.large_string())])

    def to_arrow(self) -> pa.Array:
        """The decoded column: a ``large_string`` array with nulls where missing.

        Every code is in the pool (its invariant), so Arrow's bounds check, a pass
        over the codes, is left out.
        """
        return pc.take(self._pool(), _indices(self.codes), boundscheck=False)

    def to_dictionary(self) -> pa.DictionaryArray:
        """The column still coded: an Arrow dictionary array over the pool.

        Its ``dictionary_decode()`` is :meth:`to_arrow`'s values; a few codes into a
        short pool are far fewer bytes to hold or spill than the strings.
        """
        pool = self._pool()
        if len(pool) > np.iinfo(np.int32).max:
            raise ValueError("a pool too large for int32 dictionary indices")
        indices = _indices(self.codes.astype(np.int32))
        return pa.DictionaryArray.from_arrays(indices, pool, safe=False)  # in range


def _indices(codes: np.ndarray) -> pa.Array:
    """``pa.array(codes, mask=codes < 0)``: the same array, made faster.

    Arrow reads a numpy mask a value at a time (0.3 ms for 200,000 codes);
    :func:`numpy.packbits` of the present rows is its validity bitmap (0.1 ms),
    and with nothing missing there is none, as Arrow leaves it.
    """
    codes = np.ascontiguousarray(codes)
    missing = codes < 0
    n_missing = int(np.count_nonzero(missing))
    if not n_missing:
        return pa.array(codes)
    valid = np.packbits(~missing, bitorder="little")
    return pa.Array.from_buffers(
        pa.from_numpy_dtype(codes.dtype),
        len(codes),
        [pa.py_buffer(valid), pa.py_buffer(codes)],
        null_count=n_missing,
    )


Column = np.ndarray | Strings


def repeated_rows(times: np.ndarray) -> np.ndarray:
    """Row numbers ``0..len(times)-1``, each ``times`` times in a row."""
    return np.repeat(np.arange(len(times), dtype=np.int64), times)


class Rows:
    """A source's rows while being generated: named numpy or :class:`Strings` columns.

    All columns have the same length. :meth:`to_frame` gives the DataFrame a source's
    records end up as (identity as strings).
    """

    __slots__ = ("columns",)

    def __init__(self, columns: dict[str, Column]):
        self.columns = dict(columns)
        lengths = {len(c) for c in self.columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of different lengths: {sorted(lengths)}")

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def __getitem__(self, name: str) -> Column:
        return self.columns[name]

    def __setitem__(self, name: str, value: Column) -> None:
        self.columns[name] = value

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    def take(self, idx: np.ndarray) -> Rows:
        """The rows ``idx``, in that order."""
        return Rows({k: v.take(idx) for k, v in self.columns.items()})

    def repeat(self, times: np.ndarray) -> Rows:
        """Each row ``times`` times in a row: :meth:`take` of the rows so repeated.

        The row numbers are repeated once and every column read through them:
        ``np.repeat`` of each column copies it a row at a time, about 1.5 times
        slower for a source's few dozen columns (duplicate records).
        """
        return self.take(repeated_rows(times))

    def copy(self) -> Rows:
        """A copy whose columns can be changed without touching these."""
        return Rows({k: v.copy() for k, v in self.columns.items()})

    def to_arrays(
        self, skip: Collection[str] = (), coded: Collection[str] = ()
    ) -> dict[str, np.ndarray | pa.Array]:
        """The columns but ``skip``, decoded: numpy arrays, Arrow strings if coded.

        Coded string columns named in ``coded`` stay coded, as Arrow dictionary
        arrays (:meth:`Strings.to_dictionary`).
        """
        return {
            k: (v.to_dictionary() if k in coded else v.to_arrow())
            if isinstance(v, Strings)
            else v
            for k, v in self.columns.items()
            if k not in skip
        }

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame with ``str`` columns for coded strings."""
        return pd.DataFrame(
            {
                k: pd.array(v, dtype="str") if isinstance(v, pa.Array) else v
                for k, v in self.to_arrays().items()
            }
        )


def arrow_strings(values: pd.Series | pd.Index) -> pa.Array:
    """A pandas string (or categorical of strings) column as Arrow ``large_string``."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return coded_strings(values).to_arrow()
    return arrow_text(values)


def coded_strings(values: pd.Series) -> Strings:
    """A pandas string or categorical column as :class:`Strings`."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        cat = values.array
        return Strings(cat.codes.astype(np.int64), arrow_strings(cat.categories))
    return Strings.from_arrow(arrow_strings(values))
