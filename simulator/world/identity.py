"""Synthetic identities: names, addresses, postcodes and NHS, NI and UPN numbers.

Everything is vectorised. Faker is used only as a source of locale word lists, read
once per process and sampled with numpy. Identifiers are deliberately synthetic:
NHS numbers start with 8 or 9 (never issued in England and Wales), NI numbers start
with Q (never issued), UPNs carry the local-authority code 999 (no such authority),
and postcodes have a Q, V or X area (no UK postcode area starts with those).
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Locale mixtures per ONS 5-group ethnicity: (Faker locale, weight). An assumption,
# chosen to give realistic variety in name structure, not a census of names.
NAME_LOCALES: dict[str, tuple[tuple[str, float], ...]] = {
    "white": (
        ("en_GB", 0.86),
        ("en_IE", 0.06),
        ("pl_PL", 0.04),
        ("ro_RO", 0.02),
        ("it_IT", 0.02),
    ),
    "asian": (("en_IN", 0.55), ("en_PK", 0.45)),
    "black": (("yo_NG", 0.3), ("tw_GH", 0.2), ("en_KE", 0.2), ("en_GB", 0.3)),
    "mixed": (
        ("en_GB", 0.55),
        ("yo_NG", 0.15),
        ("tw_GH", 0.1),
        ("en_IN", 0.1),
        ("en_PK", 0.1),
    ),
    "other": (
        ("tr_TR", 0.3),
        ("es_ES", 0.2),
        ("id_ID", 0.15),
        ("pt_BR", 0.15),
        ("cs_CZ", 0.2),
    ),
}
# Locales whose surname list is missing or unusable: borrow another's.
_SURNAME_FALLBACK = {"pl_PL": "cs_CZ"}

STREET_SUFFIXES = np.array(
    [
        "Road",
        "Street",
        "Avenue",
        "Close",
        "Lane",
        "Way",
        "Drive",
        "Gardens",
        "Crescent",
        "Grove",
        "Place",
        "Court",
        "Terrace",
        "Walk",
        "Rise",
        "View",
    ]
)
STREETS_PER_AREA = 6
HOUSEHOLDS_PER_POSTCODE = 12
_POSTCODE_FIRST_LETTERS = np.array(list("QVX"))  # no UK postcode area starts so
_POSTCODE_AREA_LETTERS = np.array(list("ABCDEFGHIJKLMNOPRSTUVWXYZ"))  # the second
_UNIT_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))  # no C I K M O V, as real units
_NI_SECOND = np.array(list("ABCDEFGHIJKLMNPQRSTUVWXYZ"))  # 25 letters, no O
_UPN_CHECK = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"))


@dataclass(frozen=True)
class NamePool:
    """Names and their cumulative sampling weights."""

    names: np.ndarray
    cumulative: np.ndarray

    def sample(self, u: np.ndarray) -> np.ndarray:
        """Map uniforms in [0, 1) to indices into ``names`` by the weights.

        The same as ``searchsorted(cumulative, u, side="right")``, capped at the last
        name, found from a guide table: the count of boundaries below each of
        ``2**k`` equal bins, then a step past the few boundaries inside ``u``'s bin.
        """
        shape = np.shape(u)
        u = np.asarray(u, dtype=float).ravel()
        cum, guide = self.cumulative, self._guide
        idx = guide[(u * (len(guide) - 1)).astype(np.int64)]
        rows = np.arange(len(u))
        while len(rows):
            i = idx[rows]
            inside = i < len(cum)
            rows, i = rows[inside], i[inside]
            step = cum[i] <= u[rows]
            rows = rows[step]
            idx[rows] += 1
        return np.minimum(idx, len(self.names) - 1).reshape(shape)

    @cached_property
    def _guide(self) -> np.ndarray:
        """Boundaries at or below ``b / 2**k`` for each bin ``b`` (and 1 past the end).

        Bin edges are exact: ``u * 2**k`` loses nothing in floating point.
        """
        bins = 1 << max(10, int(np.ceil(np.log2(4 * len(self.cumulative)))))
        edges = np.arange(bins + 1) / bins
        return np.searchsorted(self.cumulative, edges, side="right")


def _skewed_weights(names: list[str], given: list[float] | None) -> np.ndarray:
    """Frequency skew: Faker's weights where given, else Zipf in a stable order."""
    if given is not None:
        w = np.asarray(given, dtype=float)
    else:
        rank = np.argsort(np.argsort([zlib.crc32(n.encode()) for n in names]))
        w = 1.0 / (rank + 8.0) ** 1.1
    return w / w.sum()


def _locale_names(locale: str, kind: str) -> tuple[list[str], list[float] | None]:
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    if kind == "last":
        locale = _SURNAME_FALLBACK.get(locale, locale)
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        raw = provider.last_names
    else:
        raw = getattr(provider, f"first_names_{kind}", None) or provider.first_names
    if isinstance(raw, dict):
        return list(raw.keys()), [float(v) for v in raw.values()]
    return list(dict.fromkeys(raw)), None


@cache
def name_pool(ethnicity: str, kind: str) -> NamePool:
    """The pool of ``kind`` names ('male', 'female' or 'last') for a group."""
    weights: dict[str, float] = {}
    for locale, share in NAME_LOCALES[ethnicity]:
        names, given = _locale_names(locale, kind)
        for n, w in zip(names, _skewed_weights(names, given), strict=True):
            weights[n] = weights.get(n, 0.0) + share * w
    names_arr = np.array(list(weights.keys()))
    cum = np.cumsum(np.fromiter(weights.values(), dtype=float))
    return NamePool(names_arr, cum / cum[-1])


@cache
def name_vocabulary() -> np.ndarray:
    """Every name of every pool, sorted: the categories names are coded against."""
    allnames = {
        n
        for eth in NAME_LOCALES
        for kind in ("male", "female", "last")
        for n in name_pool(eth, kind).names
    }
    return np.array(sorted(allnames))


@cache
def _vocabulary_arrow() -> pa.Array:
    return pa.array(name_vocabulary(), pa.large_string())


def names(codes: np.ndarray) -> pa.Array:
    """The names with codes ``codes`` into :func:`name_vocabulary` (Arrow strings)."""
    return _vocabulary_arrow().take(pa.array(np.asarray(codes, dtype=np.int64)))


NAME_KINDS = ("male", "female", "last")
"""The kinds of name a pool holds."""


@cache
def _pool_codes(ethnicity: str, kind: str) -> np.ndarray:
    """Codes into :func:`name_vocabulary` of each name of a pool."""
    return np.searchsorted(name_vocabulary(), name_pool(ethnicity, kind).names)


def _label_index(values: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """Position in ``labels`` of each value (-1 if absent); ints pass through."""
    values = np.asarray(values)
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    out = np.full(len(values), -1, dtype=np.int64)
    for i, label in enumerate(labels):
        out[values == label] = i
    return out


def sample_names(
    ethnicity: np.ndarray, kind: np.ndarray | str, u: np.ndarray
) -> np.ndarray:
    """Draw names for rows given each row's ethnicity, kind and a uniform ``u``.

    ``ethnicity`` holds group names (or their positions in ``NAME_LOCALES``), ``kind``
    'male', 'female' or 'last' (or positions in :data:`NAME_KINDS`). Returns codes
    into :func:`name_vocabulary`.
    """
    groups = tuple(NAME_LOCALES)
    u = np.asarray(u)
    out = np.empty(len(u), dtype=np.int64)
    kinds = np.broadcast_to(np.asarray(kind), len(u))
    cell = _label_index(ethnicity, groups) * len(NAME_KINDS) + _label_index(
        kinds, NAME_KINDS
    )
    order = np.argsort(cell.astype(np.int16), kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(len(groups) * len(NAME_KINDS) + 1))
    for e, eth in enumerate(groups):
        for k, kind_name in enumerate(NAME_KINDS):
            c = e * len(NAME_KINDS) + k
            rows = order[bounds[c] : bounds[c + 1]]
            if len(rows):
                pool = name_pool(eth, kind_name)
                out[rows] = _pool_codes(eth, kind_name)[pool.sample(u[rows])]
    return out


# --------------------------------------------------------------------- identifiers


def _floor_divmod(x: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.divmod(x, d)`` of int64 ``x`` by a positive ``d``, the same values.

    ``x // d`` and ``x - (x // d) * d``: numpy divides int64 by one divisor
    quickly, but its ``%`` and ``divmod`` take about twice as long as the division,
    a product and a difference in place (0.52 against 0.32 ms for 175,000 values).
    """
    q = x // d
    low = q * d
    np.subtract(x, low, out=low)
    return q, low


def _mod(x: np.ndarray, d: int) -> np.ndarray:
    """``x % d`` of int64 ``x`` by a positive ``d`` (:func:`_floor_divmod`)."""
    return _floor_divmod(np.asarray(x, dtype=np.int64), d)[1]


def _scramble(x: np.ndarray, modulus: int, key: int) -> np.ndarray:
    """A keyed bijection on ``[0, modulus)``: affine, multiplier coprime to it."""
    mult = 40_692_013  # odd and not a multiple of 5: coprime to every 10**k and 10**8
    y = np.asarray(x, dtype=np.int64) * mult
    y += key % modulus
    return _mod(y, modulus)


def _zero_pad(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pa.array(values, type=pa.int64()).cast(pa.string()), width, "0")


_DIGITS_AT_ONCE = 3
"""Digits :func:`_weighted_digit_sum` takes per pass, by a table of their sums."""


def _weighted_digit_sum(values: np.ndarray, weights: Sequence[int]) -> np.ndarray:
    """Sum of each value's decimal digits times ``weights`` (last digit first).

    Three digits a pass (a division and a look-up in :func:`_digit_sums`), not
    one: a third of the divisions, the same sums (:func:`_digit_by_digit_sum`).
    """
    x = np.asarray(values, dtype=np.int64)
    total = np.zeros(x.shape, dtype=np.int64)
    ws = tuple(weights)
    for i in range(0, len(ws), _DIGITS_AT_ONCE):
        group = ws[i : i + _DIGITS_AT_ONCE]
        x, low = _floor_divmod(x, 10 ** len(group))
        total += _digit_sums(group)[low]
    return total


@cache
def _digit_sums(weights: tuple[int, ...]) -> np.ndarray:
    """Per value below ``10 ** len(weights)``: its digits times ``weights``, summed."""
    return _digit_by_digit_sum(np.arange(10 ** len(weights)), weights)


def _digit_by_digit_sum(values: np.ndarray, weights: Sequence[int]) -> np.ndarray:
    """:func:`_weighted_digit_sum` one digit at a time (the definition)."""
    x = np.asarray(values, dtype=np.int64)
    total = np.zeros(x.shape, dtype=np.int64)
    for w in weights:
        total += (x % 10) * w
        x = x // 10
    return total


def nhs_check_digit(first_nine: np.ndarray) -> np.ndarray:
    """Mod-11 check digit of 9-digit bases; 10 means the base is never issued."""
    check = 11 - _mod(_weighted_digit_sum(first_nine, range(2, 11)), 11)
    return np.where(check == 11, 0, check)


def nhs_numbers(person_ids: np.ndarray, key: int) -> pa.Array:
    """Unique synthetic NHS numbers (10 digits, valid mod-11) for distinct ids."""
    body = _scramble(person_ids, 10**8, key)
    base = 900_000_000 + body
    check = nhs_check_digit(base)
    # A base whose check would be 10 moves to the 8 prefix, which makes it valid.
    moved = np.flatnonzero(check == 10)
    base[moved] -= 100_000_000
    check[moved] = nhs_check_digit(base[moved])
    return pa.array(base * 10 + check).cast(pa.string())


def nhs_number_valid(numbers: pa.Array | np.ndarray | list) -> np.ndarray:
    """True where a value is 10 digits whose last is the mod-11 check of the first 9."""
    arr = (
        pa.array(numbers, type=pa.string())
        if not isinstance(numbers, pa.Array)
        else numbers
    )
    ok = pc.fill_null(pc.match_substring_regex(arr, r"^\d{10}$"), False).to_numpy(
        zero_copy_only=False
    )
    out = np.zeros(len(arr), dtype=bool)
    if ok.any():
        vals = pc.cast(arr.filter(pa.array(ok)), pa.int64()).to_numpy()
        out[ok] = nhs_check_digit(vals // 10) == vals % 10
    return out


def _letters(letters: np.ndarray, which: np.ndarray) -> pa.Array:
    """``letters[which]`` as Arrow strings (converting numpy strings is slow)."""
    return pa.array(letters.tolist(), pa.string()).take(pa.array(which))


def ni_numbers(person_ids: np.ndarray, key: int) -> pa.Array:
    """Unique synthetic NI numbers ``Q?999999?`` for distinct person ids."""
    x = _scramble(person_ids, 10**8, key)
    second = _letters(_NI_SECOND, x // 4_000_000)
    rest = _mod(x, 4_000_000)
    number, last = _floor_divmod(rest, 4)
    suffix = _letters(np.array(list("ABCD")), last)
    return pc.binary_join_element_wise("Q", second, _zero_pad(number, 6), suffix, "")


def _upn_check(twelve_digits: np.ndarray) -> np.ndarray:
    """Position in the check letters of each UPN's check letter (weights 2..13)."""
    return _mod(_weighted_digit_sum(twelve_digits, range(13, 1, -1)), 23)


def upn_check_letter(twelve_digits: np.ndarray) -> np.ndarray:
    """DfE UPN check letter for the 12 digits after it (weights 2..13, mod 23)."""
    return _UPN_CHECK[_upn_check(twelve_digits)]


def upns(person_ids: np.ndarray, key: int) -> pa.Array:
    """Unique synthetic Unique Pupil Numbers, local-authority code 999."""
    body = 999_000_000_000 + _scramble(person_ids, 10**9, key)
    return pc.binary_join_element_wise(
        _letters(_UPN_CHECK, _upn_check(body)), pa.array(body).cast(pa.string()), ""
    )


def upn_valid(values: pa.Array | list) -> np.ndarray:
    """True where a value is a letter plus 12 digits with the right check letter."""
    arr = (
        pa.array(values, type=pa.string())
        if not isinstance(values, pa.Array)
        else values
    )
    ok = pc.fill_null(pc.match_substring_regex(arr, r"^[A-Z]\d{12}$"), False).to_numpy(
        zero_copy_only=False
    )
    out = np.zeros(len(arr), dtype=bool)
    if ok.any():
        sub = arr.filter(pa.array(ok))
        digits = pc.cast(pc.utf8_slice_codeunits(sub, 1), pa.int64()).to_numpy()
        letters = pc.utf8_slice_codeunits(sub, 0, 1).to_numpy(zero_copy_only=False)
        out[ok] = upn_check_letter(digits) == letters.astype(str)
    return out


# ---------------------------------------------------------------------- addresses


def postcode_sectors(area_ids: np.ndarray) -> pa.Array:
    """Postcode sector ``<Q|V|X><letter><district> <sector>`` of each area (unique).

    1,000 sectors per postcode area, the first 25,000 areas in the Q areas (as
    before larger populations were allowed), then V, then X: 75,000 in all.
    """
    a = np.asarray(area_ids, dtype=np.int64)
    postcode_area = a // 1000
    n_letters = len(_POSTCODE_AREA_LETTERS)
    first = _POSTCODE_FIRST_LETTERS[postcode_area // n_letters]
    letter = _POSTCODE_AREA_LETTERS[postcode_area % n_letters]
    district = (a // 10) % 100
    return pc.binary_join_element_wise(
        pa.array(first),
        pa.array(letter),
        pa.array(district).cast(pa.string()),
        " ",
        pa.array(a % 10).cast(pa.string()),
        "",
    )


def postcodes(area_ids: np.ndarray, slot: np.ndarray) -> pa.Array:
    """Full postcode of address ``slot`` (position within its area) in each area."""
    area = np.asarray(area_ids, dtype=np.int64)
    unit = np.asarray(slot, dtype=np.int64) // HOUSEHOLDS_PER_POSTCODE
    if not len(area):
        return pa.array([], pa.string())
    # Postcodes repeat (a dozen homes share one): build each (area, unit) once.
    lo, n_areas = int(area.min()), int(area.max() - area.min() + 1)
    # Units up to a power of two: the table of a chunk's homes is its previous
    # homes' table too (each cell's postcode is the same in any table).
    n_units = 1 << int(unit.max()).bit_length()
    if n_areas * n_units < len(area):
        table = _postcode_table(lo, n_areas, n_units)
        return table.take(pa.array((area - lo) * n_units + unit))
    return _postcodes(area, unit)


@lru_cache(maxsize=4)
def _postcode_table(lo: int, n_areas: int, n_units: int) -> pa.Array:
    """Postcodes of units ``0..n_units-1`` of areas ``lo..lo+n_areas-1``, in order."""
    cell = np.arange(n_areas * n_units)
    return _postcodes(lo + cell // n_units, cell % n_units)


def _postcodes(area: np.ndarray, unit: np.ndarray) -> pa.Array:
    n = len(_UNIT_LETTERS)
    u1, u2 = _UNIT_LETTERS[(unit // n) % n], _UNIT_LETTERS[unit % n]
    return pc.binary_join_element_wise(
        postcode_sectors(area), pa.array(u1), pa.array(u2), ""
    )


def street_names(n_areas: int, rng: np.random.Generator) -> np.ndarray:
    """``STREETS_PER_AREA`` distinct street names per area, as a (n_areas, k) array.

    Streets must differ within an area, or two families would share an address: a
    street whose name and suffix repeat an earlier one takes the next free suffix.
    """
    pool = name_pool("white", "last")
    first = pool.names[pool.sample(rng.random((n_areas, STREETS_PER_AREA)))]
    suffix = rng.integers(0, len(STREET_SUFFIXES), first.shape)
    for j in range(1, STREETS_PER_AREA):
        for _ in range(len(STREET_SUFFIXES)):
            clash = (
                (first[:, :j] == first[:, j : j + 1])
                & (suffix[:, :j] == suffix[:, j : j + 1])
            ).any(axis=1)
            if not clash.any():
                break
            suffix[clash, j] = (suffix[clash, j] + 1) % len(STREET_SUFFIXES)
    return np.char.add(np.char.add(first, " "), STREET_SUFFIXES[suffix])


def addresses(
    area_ids: np.ndarray, slot: np.ndarray, streets: np.ndarray, vacant: np.ndarray
) -> pa.Array:
    """First address line of address ``slot`` of each area.

    Family homes have odd house numbers; ``vacant`` rows get the even number next door,
    an address no simulated family lives at (a previous home now lived in by others).
    """
    slot = np.asarray(slot, dtype=np.int64)
    area = np.asarray(area_ids, dtype=np.int64)
    if not len(area):
        return pa.array([], pa.string())
    # Street names of the areas covered, once, then one per row by position.
    lo, hi = area.min(), area.max()
    table = pa.array(np.ravel(streets[lo : hi + 1]), pa.string())
    street = table.take(
        pa.array((area - lo) * STREETS_PER_AREA + slot % STREETS_PER_AREA)
    )
    number = 2 * (slot // STREETS_PER_AREA) + 1 + np.asarray(vacant, dtype=np.int64)
    return pc.binary_join_element_wise(pa.array(number).cast(pa.string()), street, " ")
