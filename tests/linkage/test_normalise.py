"""Normalised match columns: Soundex, names, postcodes, NHS numbers."""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.council.linkage.codebook import Codebook
from simulator.council.linkage.normalise import (
    _alnum,
    _alnum_slow,
    match_columns,
    normalise_name,
    normalise_nhs_number,
    normalise_postcode,
    postcode_part,
    soundex,
)
from simulator.world.identity import nhs_numbers

CODES = {
    c: d
    for d, letters in {
        "1": "BFPV",
        "2": "CGJKQSXZ",
        "3": "DT",
        "4": "L",
        "5": "MN",
        "6": "R",
    }.items()
    for c in letters
}


def reference_soundex(name: str) -> str | None:
    """American Soundex, one name at a time (the textbook algorithm)."""
    letters = [c for c in name.upper() if "A" <= c <= "Z"]
    if not letters:
        return None
    out = letters[0]
    prev = CODES.get(letters[0], "")
    for c in letters[1:]:
        code = CODES.get(c, "")
        if c in "HW":
            continue  # transparent: the code before it still counts
        if code and code != prev:
            out += code
        prev = code
    return (out + "000")[:4]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=20),
        min_size=1,
        max_size=30,
    )
)
def test_soundex_matches_the_textbook_algorithm(names):
    got = soundex(pd.Series(names, dtype="str")).tolist()
    want = [reference_soundex(n) for n in names]
    assert [None if pd.isna(g) else g for g in got] == want


def test_soundex_examples():
    names = pd.Series(["Robert", "Rupert", "Rubin", "Ashcraft", "Tymczak", "Honeyman"])
    assert soundex(names).tolist() == ["R163", "R163", "R150", "A261", "T522", "H555"]


def test_names_lose_accents_case_and_punctuation():
    got = normalise_name(pd.Series(["José", "o'neil-SMITH", "Łukasz", "", None]))
    assert got.tolist()[:3] == ["JOSE", "ONEILSMITH", "LUKASZ"]
    assert got.isna().tolist()[3:] == [True, True]


@given(st.integers(1, 10**8))
def test_valid_nhs_numbers_survive_and_a_changed_digit_is_dropped(pid):
    good = str(nhs_numbers(pd.Series([pid]).to_numpy(), 11)[0])
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    got = normalise_nhs_number(pd.Series([good, f"{good[:3]} {good[3:]}", bad]))
    assert got.tolist()[:2] == [good, good]
    assert pd.isna(got.iloc[2])


def reference_nhs(value: str | None) -> str | None:
    """An NHS number's digits if they pass the mod-11 check, one value at a time."""
    if value is None:
        return None
    digits = re.sub("[^0-9]", "", value)
    if len(digits) != 10:
        return None
    weighted = zip(digits[:9], range(10, 1, -1), strict=True)
    check = 11 - sum(int(d) * w for d, w in weighted) % 11
    return digits if (0 if check == 11 else check) == int(digits[9]) else None


NHS_VALUES = st.one_of(
    st.none(),
    st.text("0123456789 -٣x", max_size=13),
    st.integers(1, 10**8).map(lambda p: str(nhs_numbers([p], 11)[0])),
)


@given(st.lists(NHS_VALUES, max_size=30))
def test_nhs_numbers_are_their_digits_if_valid(values):
    """Digits-only values skip the regular expression: the same as applying it."""
    got = normalise_nhs_number(pd.Series(values, dtype="str"))
    assert [None if pd.isna(v) else v for v in got] == [
        reference_nhs(v) for v in values
    ]


@given(st.lists(NHS_VALUES, max_size=30))
def test_nhs_numbers_with_a_book_are_the_numbers_their_digits_spell(values):
    """With a book (linking from files), NHS numbers are the numbers their valid
    digits spell (int64): equal exactly where the digits are, missing where
    they are."""
    frame = pd.DataFrame({"nhs_number": pd.Series(values, dtype="str")})
    got = match_columns(frame, ["nhs_number"], book=Codebook())
    column = pa.Table.from_pandas(got, preserve_index=False).column("nhs_number")
    assert column.type == pa.int64()
    digits = [reference_nhs(v) for v in values]
    assert column.to_pylist() == [None if d is None else int(d) for d in digits]


def test_postcodes_are_canonical():
    s = pd.Series(["qa12 3bd", "QA123BD", "QA1 2AB", "nonsense!", None])
    assert normalise_postcode(s).tolist()[:3] == ["QA12 3BD", "QA12 3BD", "QA1 2AB"]
    assert normalise_postcode(s).isna().tolist()[3:] == [True, True]
    assert postcode_part(s, "sector").tolist()[:2] == ["QA12 3", "QA12 3"]
    assert postcode_part(s, "district").tolist()[:2] == ["QA12", "QA12"]


def test_swapped_dates_and_names_agree_on_their_unordered_forms():
    f = pd.DataFrame(
        {
            "first_name": ["Ann", "Smith"],
            "last_name": ["Smith", "Ann"],
            "dob": pd.to_datetime(["2010-03-04", "2010-04-03"]).astype("datetime64[s]"),
        }
    )
    m = match_columns(f, ["names_unordered", "dob_unordered", "dob_year"])
    assert m["names_unordered"].nunique() == 1
    assert m["dob_unordered"].nunique() == 1
    assert m["dob_year"].tolist() == [2010, 2010]


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text("AZaz09 -./ßÉé\u0130", max_size=12),
            st.from_regex(r"[A-Z]{2}[0-9]{6}[A-D]", fullmatch=True),
        ),
        max_size=30,
    )
)
def test_identifiers_of_upper_case_letters_and_digits_skip_the_expression(values):
    """NI numbers and UPNs already in normal form skip the regular expression: the
    same as applying it to every value."""
    arr = pa.array(values, pa.string())
    assert _alnum(arr).to_pylist() == _alnum_slow(arr).to_pylist()
