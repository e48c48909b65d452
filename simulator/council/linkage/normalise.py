"""Normalised identity fields ("recipes") that match keys and Splink compare.

Every function is a pure, vectorised function of a DataFrame or Series. Values are
normalised once per distinct value (names and postcodes repeat a lot), with pyarrow
compute kernels and numpy, then expanded back to the rows.

Names become upper-case ASCII letters only: accents are stripped (``"Łukasz"`` ->
``"LUKASZ"``), and spaces, hyphens and apostrophes removed, so ``"O'Neil-Smith"``
and ``"ONEIL SMITH"`` agree. Postcodes become the canonical ``"QA12 3BD"`` form (one
space before the inward code), identifiers lose spaces and punctuation, and an NHS
number that fails its mod-11 check is treated as missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from simulator.council.linkage.codebook import Codebook
from simulator.frames import STRING
from simulator.schema.linkage import Recipe

# Letters NFKD does not decompose, and their usual ASCII spellings.
_SPECIAL_LETTERS = {
    "ß": "SS",
    "ẞ": "SS",
    "Ł": "L",
    "ł": "L",
    "Ø": "O",
    "ø": "O",
    "Æ": "AE",
    "æ": "AE",
    "Œ": "OE",
    "œ": "OE",
    "Đ": "D",
    "đ": "D",
    "Ð": "D",
    "ð": "D",
    "Þ": "TH",
    "þ": "TH",
    "ı": "I",
    "Ħ": "H",
    "ħ": "H",
}

# Soundex digit of each letter A..Z; 0 = vowel (separates), 7 = H or W (transparent).
_SOUNDEX_CODE = np.array(
    [0, 1, 2, 3, 0, 1, 2, 7, 0, 2, 2, 4, 5, 5, 0, 1, 2, 6, 2, 3, 0, 1, 7, 2, 0, 2],
    dtype=np.int8,
)
_SOUNDEX_WIDTH = 24
"""Letters of a name that Soundex reads; later letters cannot change a 4-char code
except in pathological names, and the code is only ever a blocking/match aid."""


def _as_arrow(values: object) -> pa.Array:
    """A pyarrow string array from any array-like of strings and missing values.

    Arrow-backed pandas strings are taken without copying the characters.
    """
    if isinstance(values, pd.Series):
        values = values.array
    if not isinstance(values, pd.arrays.ArrowStringArray):
        values = pd.array(values, dtype=STRING)
    arr = pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr


def _to_series(arr: pa.Array, index: pd.Index, dtype: object) -> pd.Series:
    if dtype is STRING:
        return pd.Series(
            pd.arrays.ArrowStringArray(arr.cast(pa.large_string())),
            index=index,
            dtype=STRING,
        )
    return pd.Series(pd.array(arr.to_pandas(), dtype=dtype), index=index)


def by_unique(
    values: pd.Series, fn: Callable[[pa.Array], pa.Array], dtype: object = STRING
) -> pd.Series:
    """Apply an array function to each distinct value of ``values`` only.

    Parameters
    ----------
    values : pandas.Series
        Strings (missing values allowed; they stay missing).
    fn : callable
        Maps a pyarrow string array to an array of the same length.
    dtype : pandas dtype
        Dtype of the result.

    Returns
    -------
    pandas.Series
        ``fn`` applied element-wise, with the index of ``values``.
    """
    encoded = pc.dictionary_encode(_as_arrow(values))
    mapped = fn(encoded.dictionary.cast(pa.string()))
    return _to_series(pc.take(mapped, encoded.indices), values.index, dtype)


def _null_if_empty(arr: pa.Array) -> pa.Array:
    return pc.if_else(
        pc.equal(pc.utf8_length(arr), 0), pa.scalar(None, pa.string()), arr
    )


def ascii_letters(arr: pa.Array) -> pa.Array:
    """Upper-case ASCII letters only: accents stripped, everything else removed."""
    out = pc.utf8_normalize(arr, "NFKD")
    out = pc.replace_substring_regex(out, r"\p{M}", "")
    for letter, ascii_ in _SPECIAL_LETTERS.items():
        out = pc.replace_substring(out, letter, ascii_)
    out = pc.utf8_upper(out)
    return _null_if_empty(pc.replace_substring_regex(out, "[^A-Z]", ""))


def normalise_name(values: pd.Series) -> pd.Series:
    """Names as upper-case ASCII letters, e.g. ``"Łukasz"`` -> ``"LUKASZ"``.

    Examples
    --------
    >>> normalise_name(pd.Series(["Łukasz", "O'Neil-Smith", " ", None])).tolist()
    ['LUKASZ', 'ONEILSMITH', <NA>, <NA>]
    """
    return by_unique(values, ascii_letters)


def _first_part(arr: pa.Array) -> pa.Array:
    """The first word of a (possibly hyphenated or double) name, normalised.

    Examples
    --------
    >>> _first_part(pa.array(["Smith-Jones", "de Souza", "Brown"])).to_pylist()
    ['SMITH', 'DE', 'BROWN']
    """
    return ascii_letters(
        pc.replace_substring_regex(pc.utf8_trim_whitespace(arr), r"[\s\-].*$", "")
    )


def _soundex_array(arr: pa.Array) -> pa.Array:
    """Soundex codes of names that are already upper-case ASCII letters."""
    n = len(arr)
    filled = pc.fill_null(arr, "").to_numpy(zero_copy_only=False)
    chars = np.zeros((n, _SOUNDEX_WIDTH), dtype=np.uint8)
    if n:
        raw = filled.astype(f"S{_SOUNDEX_WIDTH}")
        chars = np.frombuffer(raw.tobytes(), dtype=np.uint8).reshape(n, _SOUNDEX_WIDTH)
    letter = (chars >= ord("A")) & (chars <= ord("Z"))
    code = np.where(
        letter, _SOUNDEX_CODE[np.clip(chars.astype(np.int16) - 65, 0, 25)], -1
    )
    # The last position at or before each one that is not H or W (they are skipped
    # when deciding whether a consonant repeats the code before it).
    pos = np.broadcast_to(np.arange(_SOUNDEX_WIDTH), code.shape)
    last_kept = np.maximum.accumulate(np.where(code == 7, -1, pos), axis=1)
    prev_idx = np.concatenate([np.full((n, 1), -1), last_kept[:, :-1]], axis=1)
    prev = np.where(
        prev_idx >= 0, np.take_along_axis(code, np.maximum(prev_idx, 0), axis=1), -1
    )
    emit = (code >= 1) & (code <= 6) & (code != prev)
    emit[:, 0] = False
    rank = np.cumsum(emit, axis=1)
    out = np.full((n, 4), ord("0"), dtype=np.uint8)
    out[:, 0] = chars[:, 0]
    for k in range(1, 4):  # the code's three digits (columns, not rows)
        hit = emit & (rank == k)
        found = hit.any(axis=1)
        at = hit.argmax(axis=1)
        out[found, k] = ord("0") + code[found, at[found]]
    codes = np.ascontiguousarray(out).view("S4").ravel().astype(str)
    valid = np.asarray(pc.is_valid(arr).to_numpy(zero_copy_only=False)) & letter[:, 0]
    return pa.array(codes, type=pa.string(), mask=~valid)


def soundex(values: pd.Series) -> pd.Series:
    """American Soundex of names (normalised first), e.g. ``"Robert"`` -> ``"R163"``.

    Examples
    --------
    >>> names = pd.Series(["Robert", "Rupert", "Ashcraft", "Tymczak", "Pfister"])
    >>> soundex(names).tolist()
    ['R163', 'R163', 'A261', 'T522', 'P236']
    """
    return by_unique(values, lambda a: _soundex_array(ascii_letters(a)))


def _postcode(arr: pa.Array) -> pa.Array:
    s = pc.replace_substring_regex(pc.utf8_upper(arr), "[^A-Z0-9]", "")
    n = pc.utf8_length(s)
    ok = pc.and_(pc.greater_equal(n, 5), pc.less_equal(n, 7))
    spaced = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(s, 0, -3), pc.utf8_slice_codeunits(s, -3), " "
    )
    return pc.if_else(ok, spaced, pa.scalar(None, pa.string()))


def _postcode_part(stop: int) -> Callable[[pa.Array], pa.Array]:
    """The first characters of canonical postcodes, up to ``stop`` from the end."""

    def fn(arr: pa.Array) -> pa.Array:
        return pc.utf8_rtrim_whitespace(pc.utf8_slice_codeunits(arr, 0, stop))

    return fn


def normalise_postcode(values: pd.Series) -> pd.Series:
    """Postcodes in canonical form: upper case, one space before the inward code.

    Examples
    --------
    >>> codes = pd.Series(["qa12 3bd", "QA123BD", " QA1  2AB", "XX"])
    >>> normalise_postcode(codes).tolist()
    ['QA12 3BD', 'QA12 3BD', 'QA1 2AB', <NA>]
    """
    return by_unique(values, _postcode)


def postcode_part(values: pd.Series, part: Literal["district", "sector"]) -> pd.Series:
    """The district (outward code) or sector (outward code + first inward digit).

    Examples
    --------
    >>> postcode_part(pd.Series(["QA12 3BD"]), "sector").tolist()
    ['QA12 3']
    """
    trim = _postcode_part(-3 if part == "district" else -2)
    return by_unique(values, lambda a: trim(_postcode(a)))


def _alnum_slow(arr: pa.Array) -> pa.Array:
    """:func:`_alnum` of any strings: upper-cased, then all but A-Z and 0-9 removed."""
    return _null_if_empty(
        pc.replace_substring_regex(pc.utf8_upper(arr), "[^A-Z0-9]", "")
    )


def _alnum(arr: pa.Array) -> pa.Array:
    """NI numbers and UPNs: upper case, letters and digits only.

    Only values with a character other than an upper-case ASCII letter or digit
    go through the regular expression (:func:`_alnum_slow`; most have none, and
    are their own normal form): the same values for a fraction of the CPU.
    """
    plain = pc.and_(
        pc.ascii_is_alnum(arr),
        pc.or_(pc.ascii_is_upper(arr), pc.ascii_is_decimal(arr)),
    )
    other = pc.invert(pc.fill_null(plain, True))
    if pc.any(other).as_py():
        arr = pc.replace_with_mask(arr, other, _alnum_slow(pc.filter(arr, other)))
    return arr


_NHS_WEIGHTS = np.arange(10, 1, -1)


def _ten_digits(arr: pa.Array) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """Where a string is 10 ASCII digits, those strings, and which pass the check.

    A string passes where its last digit is the mod-11 check of its first 9 (read
    from the Arrow character buffer).
    """
    ten_digits = pc.and_(pc.equal(pc.binary_length(arr), 10), pc.ascii_is_decimal(arr))
    ok = pc.fill_null(ten_digits, False)
    ok_np = np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)
    tens = pc.filter(arr, ok)
    if not len(tens):
        return ok_np, tens, np.zeros(0, dtype=bool)
    tens = pa.concat_arrays([tens]) if tens.offset else tens
    offsets = np.int64 if pa.types.is_large_string(tens.type) else np.int32
    start = np.frombuffer(tens.buffers()[1], dtype=offsets)[0]
    chars = np.frombuffer(tens.buffers()[2], dtype=np.uint8)[
        start : start + 10 * len(tens)
    ]
    digits = chars.reshape(len(tens), 10) - np.uint8(ord("0"))
    total = np.zeros(len(tens), dtype=np.int16)
    for k, weight in enumerate(_NHS_WEIGHTS):  # nine columns, not rows
        total += digits[:, k] * np.int16(weight)
    check = 11 - total % 11
    check = np.where(check == 11, 0, check)
    return ok_np, tens, check == digits[:, 9]


def nhs_valid(arr: pa.Array) -> np.ndarray:
    """True where a string is 10 digits whose last is the mod-11 check of the first 9.

    The same rule as :func:`simulator.world.identity.nhs_number_valid`, read straight
    from the Arrow character buffer (string or large string).
    """
    ten, _, checked = _ten_digits(arr)
    out = np.zeros(len(arr), dtype=bool)
    out[ten] = checked
    return out


def _digits_only(arr: pa.Array) -> pa.Array:
    """Strings with all but their ASCII digits removed.

    Only values with a character other than an ASCII digit go through the regular
    expression (most are digits already): a fifth of the CPU, the same values.
    """
    other = pc.invert(pc.fill_null(pc.ascii_is_decimal(arr), True))
    if pc.any(other).as_py():
        kept = pc.replace_substring_regex(pc.filter(arr, other), "[^0-9]", "")
        arr = pc.replace_with_mask(arr, other, kept)
    return arr


def _nhs(arr: pa.Array) -> pa.Array:
    """Valid NHS numbers as their digits; others missing."""
    arr = _digits_only(arr)
    return pc.if_else(pa.array(nhs_valid(arr)), arr, pa.scalar(None, pa.string()))


def nhs_as_numbers(arr: pa.Array) -> pa.Array:
    """Valid NHS numbers as the numbers their digits spell (int64); others missing.

    Equal exactly where :func:`_nhs`'s strings are (ten digits each), for what
    joins them as integers; no string made.

    Examples
    --------
    >>> nhs_as_numbers(pa.array(["943 476 5919", "9434765918", None])).to_pylist()
    [9434765919, None, None]
    """
    ten, tens, checked = _ten_digits(_digits_only(arr))
    numbers = np.zeros(len(arr), dtype=np.int64)
    numbers[ten] = tens.cast(pa.int64()).to_numpy()
    valid = np.zeros(len(arr), dtype=bool)
    valid[ten] = checked
    return pa.array(numbers, mask=~valid)


def normalise_nhs_number(values: pd.Series) -> pd.Series:
    """NHS numbers as 10 digits; missing unless the mod-11 check digit is right.

    Examples
    --------
    >>> normalise_nhs_number(pd.Series(["943 476 5919", "9434765918"])).tolist()
    ['9434765919', <NA>]
    """
    return by_unique(values, _nhs)


def _address(arr: pa.Array) -> pa.Array:
    """Address lines: upper case, punctuation to single spaces."""
    out = pc.replace_substring_regex(pc.utf8_upper(arr), "[^A-Z0-9]+", " ")
    return _null_if_empty(pc.utf8_trim_whitespace(out))


def _sex(arr: pa.Array) -> pa.Array:
    """``'M'`` or ``'F'``; anything else missing."""
    first = pc.utf8_slice_codeunits(pc.utf8_upper(pc.utf8_trim_whitespace(arr)), 0, 1)
    return pc.if_else(
        pc.is_in(first, pa.array(["M", "F"])), first, pa.scalar(None, pa.string())
    )


def _dob(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(
        pd.to_datetime(frame["dob"]).to_numpy("datetime64[s]"), index=frame.index
    )


def _whole(values: pd.Series, fn: Callable[[pa.Array], pa.Array]) -> pd.Series:
    """``fn`` applied to every value at once: :func:`by_unique` for identifiers.

    Identifiers rarely repeat, so hashing them to find the distinct values costs
    more than it saves; an element-wise ``fn`` gives the same result either way.
    """
    return _to_series(fn(_as_arrow(values)), values.index, STRING)


class Fields:
    """One frame's raw identity columns, with what several recipes share done once.

    A name column is encoded (one entry per distinct value) and its distinct values
    normalised once, then each recipe reading it (the name, its initial, its
    Soundex, the names unordered) maps those; the date of birth is split into
    year, month and day once.

    ``book``: such columns come as the book's integer codes, a raw value's
    normal form computed and coded once for all the batches that share it
    (:meth:`~simulator.council.linkage.codebook.Codebook.raw_codes`): equal exactly
    where the normal forms are, for what joins them
    (:mod:`~simulator.council.linkage.on_disk`).
    """

    def __init__(self, frame: pd.DataFrame, book: Codebook | None = None):
        self.frame = frame
        self.index = frame.index
        self.book = book
        self._memo: dict[tuple[str, str], object] = {}

    def _cached(self, key: tuple[str, str], make: Callable[[], object]) -> object:
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def encoded(self, column: str) -> pa.DictionaryArray:
        """``column`` dictionary-encoded (its distinct values and each row's).

        A column that comes as an Arrow dictionary (read so from a file that has
        one: :data:`PER_DISTINCT_COLUMNS`) is taken as it is, no string hashed.
        """

        def make() -> pa.DictionaryArray:
            values = self.frame[column].array
            dtype = values.dtype
            if isinstance(dtype, pd.ArrowDtype) and pa.types.is_dictionary(
                dtype.pyarrow_dtype
            ):
                return pa.chunked_array(pa.array(values)).combine_chunks()
            return pc.dictionary_encode(_as_arrow(values))

        return self._cached(("encoded", column), make)  # type: ignore[return-value]

    def distinct(
        self, column: str, what: str, fn: Callable[[pa.Array], pa.Array]
    ) -> pa.Array:
        """``fn`` of ``column``'s distinct values (cached under the name ``what``)."""
        entries = self.encoded(column).dictionary
        return self._cached(  # type: ignore[return-value]
            (what, column), lambda: fn(entries.cast(pa.string()))
        )

    def places(self, column: str) -> pa.Array:
        """Each distinct value's place among the book's raw strings of ``column``."""
        return self._cached(  # type: ignore[return-value]
            ("places", column),
            lambda: self.book.places(  # type: ignore[union-attr]
                column, self.encoded(column).dictionary
            ),
        )

    def book_codes(
        self, column: str, what: str, fn: Callable[[pa.Array], pa.Array]
    ) -> pa.Array:
        """Each row's code in the book of ``fn`` of its ``column`` (``what`` names fn).

        ``fn`` runs only on raw strings new to the link
        (:meth:`~simulator.council.linkage.codebook.Codebook.raw_codes`); the
        distinct values take their strings' codes, then the rows their values',
        no string made per row.
        """

        def make() -> pa.Array:
            at = self.places(column)  # first: this batch's new strings get places
            codes = self.book.raw_codes(  # type: ignore[union-attr]
                column, what, lambda a: fn(a.cast(pa.string()))
            )
            return pc.take(pc.take(codes, at), self.encoded(column).indices)

        return self._cached((f"codes {what}", column), make)  # type: ignore[return-value]

    def book_column(
        self, column: str, what: str, fn: Callable[[pa.Array], pa.Array]
    ) -> pd.Series:
        """:meth:`book_codes` as a column (int32, missing where ``fn`` is)."""
        codes = self.book_codes(column, what, fn)
        return pd.Series(pd.arrays.ArrowExtensionArray(codes), index=self.index)

    def each_row(self, column: str, values: pa.Array) -> pd.Series:
        """Each row's entry of ``values``, one per distinct value of ``column``."""
        rows = self.encoded(column).indices
        return _to_series(pc.take(values, rows), self.index, STRING)

    def mapped(
        self, column: str, what: str, fn: Callable[[pa.Array], pa.Array]
    ) -> pd.Series:
        """``fn`` applied element-wise to ``column`` (once per distinct value).

        With a book, its codes (:meth:`book_column`).
        """
        if self.book is not None:
            return self.book_column(column, what, fn)
        return self.each_row(column, self.distinct(column, what, fn))

    def name(self, column: str) -> pa.Array:
        """The normalised name of each row (:func:`normalise_name`), as Arrow."""
        return self._cached(  # type: ignore[return-value]
            ("name_rows", column),
            lambda: pc.take(
                self.distinct(column, "name", ascii_letters),
                self.encoded(column).indices,
            ),
        )

    def name_column(self, column: str) -> pd.Series:
        """The normalised name of each row, as a column (with a book, its codes)."""
        if self.book is not None:
            return self.mapped(column, "name", ascii_letters)
        return _to_series(self.name(column), self.index, STRING)

    def name_derived(
        self, column: str, what: str, fn: Callable[[pa.Array], pa.Array]
    ) -> pd.Series:
        """``fn`` of each row's normalised name, computed per distinct name.

        With a book, its codes (``what`` names ``fn``: :meth:`book_column`).
        """
        if self.book is not None:
            return self.book_column(column, what, lambda a: fn(ascii_letters(a)))
        return self.each_row(column, fn(self.distinct(column, "name", ascii_letters)))

    def dob(self) -> pd.Series:
        """The date of birth as ``datetime64[s]``."""
        return self._cached(("dob", "dob"), lambda: _dob(self.frame))  # type: ignore[return-value]

    def dob_parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Year, month, day (int64; 0 where missing) and the missing mask."""

        def make() -> tuple[np.ndarray, ...]:
            dob = pa.array(self.dob(), from_pandas=True)
            missing = np.asarray(dob.is_null().to_numpy(zero_copy_only=False))
            return (
                *(
                    np.asarray(pc.fill_null(part(dob), 0).to_numpy(), np.int64)
                    for part in (pc.year, pc.month, pc.day)
                ),
                missing,
            )

        return self._cached(("dob", "parts"), make)  # type: ignore[return-value]


def _names_unordered(fields: Fields) -> pd.Series:
    """Both names joined, the lower first; with a book, that pair as a number."""
    if fields.book is not None:
        return _names_unordered_codes(fields)
    a = fields.name("first_name").cast(pa.string())
    b = fields.name("last_name").cast(pa.string())
    first = pc.less_equal(a, b)
    out = pc.binary_join_element_wise(
        pc.if_else(first, a, b), pc.if_else(first, b, a), " "
    )
    return _to_series(out, fields.index, STRING)


def _names_unordered_codes(fields: Fields) -> pd.Series:
    """The names unordered as one number: both names' codes in one book, lower first.

    Equal exactly where the joined names are (names are letters only, so a join
    splits one way), without a string per row; missing if either name is. The
    codes are the name columns' own (one code space for both names).
    """
    codes = [
        fields.book_codes(column, "name", ascii_letters)
        for column in ("first_name", "last_name")
    ]
    missing = np.asarray(
        pc.or_(codes[0].is_null(), codes[1].is_null()).to_numpy(zero_copy_only=False),
        bool,
    )
    a, b = (np.asarray(pc.fill_null(c, 0).to_numpy(), np.int64) for c in codes)
    pair = (np.minimum(a, b) << 31) | np.maximum(a, b)
    return pd.Series(pd.arrays.IntegerArray(pair, missing), index=fields.index)


def _int32(values: np.ndarray, missing: np.ndarray, index: pd.Index) -> pd.Series:
    values = np.where(missing, 0, values).astype(np.int32)
    return pd.Series(pd.arrays.IntegerArray(values, missing), index=index)


def _dob_year(fields: Fields) -> pd.Series:
    year, _, _, missing = fields.dob_parts()
    return _int32(year, missing, fields.index)


def _dob_unordered(fields: Fields) -> pd.Series:
    year, month, day, missing = fields.dob_parts()
    lo, hi = np.minimum(month, day), np.maximum(month, day)
    return _int32(year * 10_000 + lo * 100 + hi, missing, fields.index)


def _nhs_number(fields: Fields) -> pd.Series:
    """NHS numbers normalised; with a book, as numbers (:func:`nhs_as_numbers`)."""
    values = fields.frame["nhs_number"]
    if fields.book is None:
        return _whole(values, _nhs)
    numbers = nhs_as_numbers(_as_arrow(values))
    return pd.Series(pd.arrays.ArrowExtensionArray(numbers), index=fields.index)


def _postcode_derived(fields: Fields, stop: int) -> pd.Series:
    if fields.book is not None:
        part = _postcode_part(stop)
        return fields.book_column(
            "postcode", f"postcode {stop}", lambda a: part(_postcode(a))
        )
    full = fields.distinct("postcode", "postcode", _postcode)
    return fields.each_row("postcode", _postcode_part(stop)(full))


RECIPES: dict[str, tuple[tuple[str, ...], Callable[[Fields], pd.Series]]] = {
    "nhs_number": (("nhs_number",), _nhs_number),
    "ni_number": (("ni_number",), lambda f: _whole(f.frame["ni_number"], _alnum)),
    "upn": (("upn",), lambda f: _whole(f.frame["upn"], _alnum)),
    "first_name": (("first_name",), lambda f: f.name_column("first_name")),
    "last_name": (("last_name",), lambda f: f.name_column("last_name")),
    "first_initial": (
        ("first_name",),
        lambda f: f.name_derived(
            "first_name", "initial", lambda a: pc.utf8_slice_codeunits(a, 0, 1)
        ),
    ),
    "first_name_soundex": (
        ("first_name",),
        lambda f: f.name_derived("first_name", "soundex", _soundex_array),
    ),
    "last_name_soundex": (
        ("last_name",),
        lambda f: f.name_derived("last_name", "soundex", _soundex_array),
    ),
    "last_name_first_part": (
        ("last_name",),
        lambda f: f.mapped("last_name", "first_part", _first_part),
    ),
    "names_unordered": (("first_name", "last_name"), _names_unordered),
    "sex": (("sex",), lambda f: f.mapped("sex", "sex", _sex)),
    "dob": (("dob",), lambda f: f.dob()),
    "dob_year": (("dob",), _dob_year),
    "dob_unordered": (("dob",), _dob_unordered),
    "postcode": (("postcode",), lambda f: f.mapped("postcode", "postcode", _postcode)),
    "postcode_sector": (("postcode",), lambda f: _postcode_derived(f, -2)),
    "postcode_district": (("postcode",), lambda f: _postcode_derived(f, -3)),
    "address": (("address",), lambda f: f.mapped("address", "address", _address)),
}
"""Each recipe: the raw identity columns it reads, and the function computing it
from a frame's :class:`Fields`."""


RARELY_REPEATED: frozenset[str] = frozenset(
    {"nhs_number", "ni_number", "upn", "names_unordered", "address"}
)
"""Recipes whose values rarely repeat (a person's identifiers, both names together):
finding their distinct values costs more than it saves."""


OFTEN_MISSING: frozenset[str] = frozenset({"nhs_number", "ni_number", "upn"})
"""Recipes of identifiers only some people hold (at 1,000,000 households 71%, 3%
and 19% of the records have them): a match key on one filters out the rows
missing it as it reads them
(:func:`~simulator.council.linkage.deterministic.match_key_sql`), where offering
every record to the join cost twice as much in the first keys that read them. On
fields nearly every row has, the same filter made DuckDB join in a costlier order."""


PER_DISTINCT_COLUMNS: frozenset[str] = frozenset(
    {"first_name", "last_name", "sex", "postcode", "address"}
)
"""Raw identity columns normalised once per distinct value (:meth:`Fields.encoded`):
they may come as Arrow dictionaries, as read from a Parquet file that stores one
(reading the world's records and spine so took a third of the CPU of reading
their strings and hashing them again)."""


def required_columns(recipes: Iterable[Recipe]) -> tuple[str, ...]:
    """The raw identity columns a set of recipes reads."""
    return tuple(dict.fromkeys(c for r in recipes for c in RECIPES[r][0]))


def match_columns(
    frame: pd.DataFrame,
    recipes: Iterable[Recipe],
    book: Codebook | None = None,
) -> pd.DataFrame:
    """Compute normalised match columns from a frame's raw identity columns.

    Parameters
    ----------
    frame : pandas.DataFrame
        Records or spine rows with the identity columns of
        :data:`simulator.world.records.IDENTITY_COLUMNS` the recipes need.
    recipes : iterable of Recipe
        Which normalised columns to compute.
    book : Codebook, optional
        Columns computed once per distinct value of a field come as the book's
        integer codes (int32; missing where the normal form is), each raw value
        normalised and coded once for every batch given the book (:class:`Fields`),
        and NHS numbers as numbers (:func:`nhs_as_numbers`): equal across the
        batches exactly where the normal forms are.

    Returns
    -------
    pandas.DataFrame
        One column per recipe, named after it, with ``frame``'s index. Strings are
        ``string[pyarrow]``, ``dob`` is ``datetime64[s]``, ``dob_year`` and
        ``dob_unordered`` are ``Int32``; missing values are NA.

    Examples
    --------
    >>> f = pd.DataFrame({"first_name": ["José"], "last_name": ["Smith-Jones"],
    ...                   "postcode": ["qa1 2ab"]})
    >>> match_columns(f, ["first_name", "last_name_first_part", "postcode_sector"])
      first_name last_name_first_part postcode_sector
    0       JOSE                SMITH           QA1 2
    """
    recipes = list(dict.fromkeys(recipes))
    fields = Fields(frame, book)
    return pd.DataFrame({r: RECIPES[r][1](fields) for r in recipes}, index=frame.index)
