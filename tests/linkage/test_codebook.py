"""Integer match columns kept across batches agree exactly where the strings do.

Linking from files writes each batch's match columns as integers: a
:class:`~simulator.council.linkage.codebook.Codebook`'s codes, one dictionary per
normal form for the whole link (and NHS numbers as numbers: test_normalise). A key
joins them, so two rows of any batches must get equal integers exactly where their
strings are equal, and a missing string must stay missing.
"""

from __future__ import annotations

import itertools

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given
from hypothesis import strategies as st

from simulator.council.linkage.codebook import CODE, Codebook
from simulator.council.linkage.normalise import match_columns
from simulator.frames import STRING

strings = st.one_of(st.none(), st.sampled_from(["", "A", "AB", "É", "B", "AB "]))
batch_lists = st.lists(st.lists(strings, max_size=12), max_size=5)


def _pairs_agree(before: list, after: list) -> None:
    """Equal after exactly where equal before (two missing values never agree)."""
    assert [b is None for b in before] == [a is None for a in after]
    for i, j in itertools.combinations(range(len(before)), 2):
        if before[i] is not None and before[j] is not None:
            assert (before[i] == before[j]) == (after[i] == after[j])


@given(
    batches=st.lists(
        st.tuples(st.sampled_from(["x", "y"]), st.lists(strings, max_size=12)),
        max_size=6,
    )
)
def test_raw_codes_agree_where_the_function_does_and_compute_it_once(batches):
    """:meth:`Codebook.raw_codes` of each batch's raw strings by their places: equal
    across batches and columns exactly where ``fn``'s strings are (one code space
    per ``fn``), missing where they are, ``fn`` run once a raw string of a column."""
    book = Codebook()
    calls: dict[str, list] = {"x": [], "y": []}
    made, codes = [], []

    def fn_of(column: str):
        def fn(values: pa.Array) -> pa.Array:
            calls[column].extend(values.to_pylist())
            return pc.utf8_rtrim_whitespace(pc.utf8_upper(values))

        return fn

    for column, batch in batches:
        entries = pa.array(batch, pa.string())
        at = book.places(column, entries)
        got = pc.take(book.raw_codes(column, "upper", fn_of(column)), at)
        assert got.type == CODE
        made += pc.utf8_rtrim_whitespace(pc.utf8_upper(entries)).to_pylist()
        codes += got.to_pylist()
    _pairs_agree(made, codes)
    for seen in calls.values():
        assert None not in seen
        assert len(seen) == len(set(seen))  # each raw string normalised once


def _as_dictionaries(frame: pd.DataFrame, unused: list[str]) -> pd.DataFrame:
    """``frame``'s columns as Arrow dictionaries whose values start with ``unused``
    (and repeat their rows' values), as pandas holds them read from a file."""
    out = {}
    for column in frame.columns:
        values = pa.array(frame[column].array, pa.string())
        dictionary = pa.concat_arrays([pa.array(unused, pa.string()), values])
        indices = pa.array(range(len(unused), len(dictionary)), pa.int32())
        indices = pc.if_else(values.is_null(), pa.scalar(None, pa.int32()), indices)
        array = pa.DictionaryArray.from_arrays(indices, pc.fill_null(dictionary, ""))
        out[column] = pd.Series(pd.arrays.ArrowExtensionArray(array))
    return pd.DataFrame(out, index=frame.index)


def _values(frame: pd.DataFrame) -> dict[str, list]:
    """Each column's values as Python (a dictionary column's decoded)."""
    return pa.Table.from_pandas(frame, preserve_index=False).to_pydict()


NAMES = st.sampled_from(["Ann", "ann", "O'Neil", "Łukasz", " ", "Smith-Jones"])
POSTCODES = st.sampled_from(["qa12 3bd", "QA123BD", "XX", "QA1 2AB"])
RECIPES = [
    "first_name",
    "last_name",
    "first_initial",
    "last_name_soundex",
    "last_name_first_part",
    "postcode",
    "postcode_sector",
]


@given(
    batches=st.lists(
        st.lists(
            st.tuples(
                st.one_of(st.none(), NAMES),
                st.one_of(st.none(), NAMES),
                st.one_of(st.none(), POSTCODES),
            ),
            max_size=8,
        ),
        max_size=4,
    ),
    unused=st.lists(st.one_of(NAMES, POSTCODES), max_size=3),
    as_dictionary=st.booleans(),
)
def test_match_columns_with_a_codebook_are_codes_of_each_batch_alone(
    batches, unused, as_dictionary
):
    """Batches normalised with one book (each raw value normalised once for all)
    have integer codes that agree across batches exactly where the match columns
    of each batch alone (strings) do; the names unordered too. Columns may come
    as Arrow dictionaries, as read from a file's (whose values may repeat or be
    used by no row of the batch)."""
    book = Codebook()
    strings: dict[str, list] = {r: [] for r in [*RECIPES, "names_unordered"]}
    codes: dict[str, list] = {r: [] for r in strings}
    for batch in batches:
        frame = pd.DataFrame(
            batch or None, columns=["first_name", "last_name", "postcode"]
        ).astype(STRING)
        alone = _values(match_columns(frame, list(strings)))
        given = _as_dictionaries(frame, unused) if as_dictionary else frame
        shared = match_columns(given, list(strings), book=book)
        table = pa.Table.from_pandas(shared, preserve_index=False)
        for recipe in strings:
            assert pa.types.is_integer(table.schema.field(recipe).type)
            strings[recipe] += alone[recipe]
            codes[recipe] += table.column(recipe).to_pylist()
    for recipe in strings:
        _pairs_agree(strings[recipe], codes[recipe])
