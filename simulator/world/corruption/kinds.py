"""The error kinds, in the order applied: one function each, and the registry.

Each ``_err_<name>`` takes the :class:`~.source_rows.SourceRows` being corrupted and
the rows the error hit, changes what it can, and returns the rows it changed (the
``err_<name>`` trail). :data:`APPLY` lists them in :data:`ERRORS` order.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simulator.vocabulary import CARRIED_IDENTITY, ERROR_NAMES
from simulator.world import identity
from simulator.world.corruption.source_rows import SourceRows
from simulator.world.corruption.string_edits import (
    PHONETIC_RULES,
    TRANSLITERATION_RULES,
    has_nickname,
    key_slip,
    mistype,
    nickname,
    ocr,
    rewrite,
    typo,
)
from simulator.world.records import HELD_IDENTIFIERS, Strings

CARRIED = CARRIED_IDENTITY
"""Whose identity a row carries: ``true_person_id``, set by :func:`corrupt` and
changed by :func:`_err_wrong_person` to the member whose identity it copies."""

ERRORS: tuple[str, ...] = ERROR_NAMES
"""Every error kind, in the order applied; ``err_<name>`` columns follow this order."""
HOUSEHOLD_LEVEL = frozenset({"stale_address"})
"""Errors drawn once per household and source: a source that has not seen a family's
move holds the old address for all of its members."""

_ID_COLUMNS = {"nhs": "nhs_number", "upn": "upn", "ni": "ni_number"}
_COPIED_ON_WRONG_PERSON = (
    "first_name",
    "last_name",
    "sex",
    "dob",
    "nhs_number",
    "ni_number",
    "upn",
)


def _which_name(
    r: SourceRows, hit: np.ndarray, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Split hit rows between first and last name (half each)."""
    first = r.uniforms(f"{name}_column") < 0.5
    rows = np.flatnonzero(hit)
    return rows[first[rows]], rows[~first[rows]]


def _edit_names(
    r: SourceRows,
    hit: np.ndarray,
    name: str,
    edit: Callable[[np.ndarray, np.ndarray], np.ndarray],
    k: int,
) -> np.ndarray:
    touched = np.zeros(len(r.rows), bool)
    u = r.uniforms(f"{name}_detail", k)
    for column, rows in zip(
        ("first_name", "last_name"), _which_name(r, hit, name), strict=True
    ):
        rows = r.present_rows(rows, column)
        old = r.strings(column, rows)
        new = edit(old, u[rows])
        changed = new != old
        r.set_strings(column, rows[changed], new[changed])
        touched[rows[changed]] = True
    return touched


def _err_duplicate(r: SourceRows, hit: np.ndarray) -> np.ndarray:
    times = 1 + hit.astype(np.int64)
    ends = np.cumsum(times)
    copy = np.zeros(int(ends[-1]), bool)
    copy[ends[hit] - 1] = True  # the second of each pair is the copy
    r.repeat(times)
    return copy


def _err_wrong_person(r: SourceRows, hit: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(hit)
    other = r.other_member(r.uniforms("wrong_person_who")[rows], rows)
    r.rows[CARRIED][rows] = r.chunk.people["person_id"].to_numpy()[other]
    for col in _COPIED_ON_WRONG_PERSON:
        if col not in r.rows or (
            col in ("nhs_number", "ni_number", "upn")
            and col not in HELD_IDENTIFIERS[r.source]
        ):
            continue
        if col == "dob":
            dob = r.rows[col].copy()
            dob[rows] = r.chunk.people[col].to_numpy()[other]
            r.rows[col] = dob
        else:
            r.set_codes(col, rows, r.chunk.identity(col).codes[other])
    return hit  # every household has at least two members, so it always changes


def _err_stale_address(r: SourceRows, hit: np.ndarray) -> np.ndarray:
    moved = r.chunk.households["moved_recently"].to_numpy()[r.h_pos]
    rows = np.flatnonzero(hit & moved)
    for col in ("address", "postcode"):
        r.set_codes(col, rows, r.chunk.previous_code(col, r.h_pos[rows]))
    return hit & moved


def _err_name_swap(r: SourceRows, hit: np.ndarray) -> np.ndarray:
    rows = r.hit_rows(hit, "first_name", "last_name")
    first, last = r.strings("first_name", rows), r.strings("last_name", rows)
    r.set_strings("first_name", rows, last)
    r.set_strings("last_name", rows, first)
    touched = np.zeros(len(r.rows), bool)
    touched[rows] = first != last
    return touched


def _err_nickname(r: SourceRows, hit: np.ndarray) -> np.ndarray:
    rows = r.hit_rows(hit, "first_name")
    names = r.strings("first_name", rows)
    has = has_nickname(names)
    rows, names = rows[has], names[has]
    u = r.uniforms("nickname_which")[rows]
    r.set_strings("first_name", rows, nickname(names, u))
    touched = np.zeros(len(r.rows), bool)
    touched[rows] = True
    return touched


def _err_transliteration(r: SourceRows, hit: np.ndarray) -> np.ndarray:
    return _edit_names(
        r, hit, "transliteration", lambda v, u: rewrite(v, TRANSLITERATION_RULES, u), 1
    )


def _err_surname_change(r: SourceRows, hit: np.ndarray) -> np.ndarray:
    rows = r.hit_rows(hit, "last_name")
    eth = np.asarray(
        r.chunk.households["ethnicity"].array.take(r.h_pos[rows]), dtype=str
    )
    other = identity.name_vocabulary()[
        identity.sample_names(eth, "last", r.uniforms("surname_change_name")[rows])
    ]
    old = r.strings("last_name", rows)
    hyphen = r.uniforms("surname_change_kind")[rows] < 0.5
    new = np.where(hyphen, np.strings.add(np.strings.add(old, "-"), other), other)
    changed = new != old
    r.set_strings("last_name", rows[changed], new[changed])
    touched = np.zeros(len(r.rows), bool)
    touched[rows[changed]] = True
    return touched


def _err_name_typo(r: SourceRows, hit: np.ndarray) -> np.ndarray:
    return _edit_names(r, hit, "name_typo", typo, 3)


def _err_name_ocr(r: SourceRows, hit: np.ndarray) -> np.ndarray:
    return _edit_names(r, hit, "name_ocr", ocr, 2)


def _err_name_phonetic(r: SourceRows, hit: np.ndarray) -> np.ndarray:
    return _edit_names(
        r, hit, "name_phonetic", lambda v, u: rewrite(v, PHONETIC_RULES, u), 1
    )


def _missing(column: str) -> Callable[[SourceRows, np.ndarray], np.ndarray]:
    def apply(r: SourceRows, hit: np.ndarray) -> np.ndarray:
        rows = r.hit_rows(hit, column)
        touched = np.zeros(len(r.rows), bool)
        touched[rows] = True
        if isinstance(r.rows[column], Strings):
            r.set_strings(column, rows, None)
        else:
            values = r.rows[column].copy()
            values[rows] = np.datetime64("NaT")
            r.rows[column] = values
        return touched

    return apply


def _ymd(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = dates.astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = (d.astype("datetime64[M]") - d.astype("datetime64[Y]")).astype(np.int64) + 1
    day = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y, m, day


def _from_ymd(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    month = (y - 1970) * 12 + (m - 1)
    return (month.astype("datetime64[M]").astype("datetime64[D]") + (d - 1)).astype(
        "datetime64[s]"
    )


def _days_in_month(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    start = ((y - 1970) * 12 + (m - 1)).astype("datetime64[M]")
    return ((start + 1).astype("datetime64[D]") - start.astype("datetime64[D]")).astype(
        np.int64
    )


def _dob_error(kind: str) -> Callable[[SourceRows, np.ndarray], np.ndarray]:
    def apply(r: SourceRows, hit: np.ndarray) -> np.ndarray:
        dob = r.rows["dob"].copy()
        ok = hit & ~np.isnat(dob)
        rows = np.flatnonzero(ok)
        y, m, d = _ymd(dob[rows])
        u = r.uniforms(f"{kind}_detail", 2)[rows]
        if kind == "dob_day_month_swap":
            can = (d <= 12) & (d != m)
            y2, m2, d2 = y, np.where(can, d, m), np.where(can, m, d)
        elif kind == "dob_digit":
            digit = np.floor(u[:, 1] * 9).astype(np.int64)  # 0..8, skip own digit below
            which = np.floor(u[:, 0] * 3).astype(np.int64)  # 0 day, 1 month, 2 year

            def change(v: np.ndarray) -> np.ndarray:
                last = v % 10
                return v - last + np.where(digit >= last, digit + 1, digit)

            d2 = np.where(which == 0, change(d), d)
            m2 = np.where(which == 1, change(m), m)
            y2 = np.where(which == 2, change(y), y)
            can = (m2 >= 1) & (m2 <= 12) & (d2 >= 1)
            can &= d2 <= _days_in_month(y2, np.clip(m2, 1, 12))
        else:  # dob_year
            step = np.where(u[:, 0] < 0.8, 1, 10) * np.where(u[:, 1] < 0.5, -1, 1)
            y2, m2 = y + step, m
            d2 = np.minimum(d, _days_in_month(y2, m))
            can = np.ones(len(rows), bool)
        dob[rows[can]] = _from_ymd(y2[can], m2[can], d2[can])
        r.rows["dob"] = dob
        touched = np.zeros(len(r.rows), bool)
        touched[rows[can]] = True
        return touched

    return apply


def _err_sex_wrong(r: SourceRows, hit: np.ndarray) -> np.ndarray:
    rows = r.hit_rows(hit, "sex")
    old = r.strings("sex", rows)
    r.set_strings("sex", rows, np.where(old == "F", "M", "F"))
    touched = np.zeros(len(r.rows), bool)
    touched[rows] = True
    return touched


def _err_postcode_typo(r: SourceRows, hit: np.ndarray) -> np.ndarray:
    rows = r.hit_rows(hit, "postcode")
    old = r.strings("postcode", rows)
    new = key_slip(old, r.uniforms("postcode_typo_detail", 2)[rows])
    changed = new != old
    r.set_strings("postcode", rows[changed], new[changed])
    touched = np.zeros(len(r.rows), bool)
    touched[rows[changed]] = True
    return touched


def _id_wrong(column: str) -> Callable[[SourceRows, np.ndarray], np.ndarray]:
    def apply(r: SourceRows, hit: np.ndarray) -> np.ndarray:
        rows = r.hit_rows(hit, column)
        old = r.strings(column, rows)
        u = r.uniforms(f"{column}_wrong_detail", 3)[rows]
        other = r.other_member(r.uniforms(f"{column}_wrong_who")[rows], rows)
        borrowed = r.chunk.identity(column).values(other)
        # Half take a household member's identifier, the rest mistype one character.
        mistyped = mistype(old, u[:, 1:3])
        new = np.where((u[:, 0] < 0.5) & (borrowed != ""), borrowed, mistyped)
        changed = new != old
        r.set_strings(column, rows[changed], new[changed])
        touched = np.zeros(len(r.rows), bool)
        touched[rows[changed]] = True
        return touched

    return apply


APPLY: dict[str, Callable[[SourceRows, np.ndarray], np.ndarray]] = {
    "duplicate": _err_duplicate,
    "wrong_person": _err_wrong_person,
    "stale_address": _err_stale_address,
    "name_swap": _err_name_swap,
    "nickname": _err_nickname,
    "transliteration": _err_transliteration,
    "surname_change": _err_surname_change,
    "name_typo": _err_name_typo,
    "name_ocr": _err_name_ocr,
    "name_phonetic": _err_name_phonetic,
    "first_name_missing": _missing("first_name"),
    "dob_day_month_swap": _dob_error("dob_day_month_swap"),
    "dob_digit": _dob_error("dob_digit"),
    "dob_year": _dob_error("dob_year"),
    "dob_missing": _missing("dob"),
    "sex_wrong": _err_sex_wrong,
    "postcode_typo": _err_postcode_typo,
    "postcode_missing": _missing("postcode"),
    **{
        f"{short}_{kind}": (_missing(col) if kind == "missing" else _id_wrong(col))
        for short, col in _ID_COLUMNS.items()
        for kind in ("missing", "wrong")
    },
}
"""The function applying each error, in :data:`ERRORS` order (a test checks)."""

_NAMES = ("first_name", "last_name")
CHANGES: dict[str, tuple[str, ...]] = {
    "duplicate": (),
    "wrong_person": _COPIED_ON_WRONG_PERSON,
    "stale_address": ("address", "postcode"),
    **dict.fromkeys(("name_swap", "transliteration", "name_typo"), _NAMES),
    **dict.fromkeys(("name_ocr", "name_phonetic"), _NAMES),
    "nickname": ("first_name",),
    "surname_change": ("last_name",),
    "first_name_missing": ("first_name",),
    **dict.fromkeys(("dob_day_month_swap", "dob_digit", "dob_year"), ("dob",)),
    "dob_missing": ("dob",),
    "sex_wrong": ("sex",),
    "postcode_typo": ("postcode",),
    "postcode_missing": ("postcode",),
    **{
        f"{short}_{kind}": (col,)
        for short, col in _ID_COLUMNS.items()
        for kind in ("missing", "wrong")
    },
}
"""The identity fields each error changes (besides its ``err_<name>`` trail and,
for ``wrong_person``, :data:`CARRIED`); ``duplicate`` changes the rows."""


def error_applies(error: str, source: str) -> bool:
    """Identifier errors apply only where the source holds the identifier."""
    for short, col in _ID_COLUMNS.items():
        if error.startswith(f"{short}_"):
            return col in HELD_IDENTIFIERS[source]
    return True
