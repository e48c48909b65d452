"""The council's fast paths for ids numbered from 0 (counting tables) agree with the
plain definitions (a stable lexsort, ``Series.is_unique``, a hash lookup, pandas'
groups, ``np.unique``) on any ids: dense or sparse, negative, repeated, empty."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.council.linkage.backend import LinkageDB, sql_text
from simulator.council.linkage.links import (
    _household_of,
    id_order,
    is_unique,
)
from simulator.council.linkage.on_disk import repeats
from simulator.council.view import lowest_rows, sorted_unique
from simulator.id_positions import IdPositions
from simulator.world.true_links import spine_rows_of

DENSE = st.integers(0, 30)  # ids numbered from 0: the counting tables
SPARSE = st.integers(-5, 10**6)  # sparse or negative: the fallbacks


def id_lists(**kwargs) -> st.SearchStrategy[list[int]]:
    """Lists of ids, all from the dense range or all from the sparse one, or the
    ids 0 to n - 1 in order (their own positions: no table)."""
    in_order = st.integers(0, kwargs.get("max_size", 30)).map(lambda n: [*range(n)])
    return st.one_of(st.lists(DENSE, **kwargs), st.lists(SPARSE, **kwargs), in_order)


@st.composite
def numbered_sources(draw) -> list[tuple[int, int]]:
    """(source code, record id) rows, each source's ids 0..n-1 in a random order."""
    sizes = draw(st.lists(st.integers(0, 12), min_size=1, max_size=4))
    rows = [(code, i) for code, n in enumerate(sizes) for i in range(n)]
    return draw(st.permutations(rows))


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        numbered_sources(),  # as generated: the counting sort
        st.lists(st.tuples(st.integers(0, 4), st.one_of(DENSE, SPARSE)), max_size=60),
    )
)
def test_id_order_is_a_stable_lexsort(rows):
    codes = np.array([c for c, _ in rows], dtype=np.int64)
    ids = np.array([i for _, i in rows], dtype=np.int64)
    assert id_order(codes, ids).tolist() == np.lexsort((ids, codes)).tolist()


@settings(max_examples=200, deadline=None)
@given(id_lists(max_size=60))
def test_is_unique_is_pandas(ids):
    series = pd.Series(ids, dtype=np.int64)
    assert is_unique(series) == series.is_unique


@settings(max_examples=200, deadline=None)
@given(
    id_lists(max_size=40, unique=True).flatmap(
        lambda ids: st.tuples(
            st.just(ids),
            st.lists(st.sampled_from(ids), max_size=40) if ids else st.just([]),
        )
    )
)
def test_household_of_is_a_lookup_by_person(case):
    ids, linked = case
    spine = pd.DataFrame(
        {
            "spine_person_id": np.array(ids, dtype=np.int64),
            "spine_household_id": np.arange(len(ids), dtype=np.int64) * 7 + 1,
        }
    )
    person = np.array(linked, dtype=np.int64)
    expected = spine.set_index("spine_person_id")["spine_household_id"].reindex(person)
    assert _household_of(spine, person).tolist() == expected.tolist()


@pytest.mark.parametrize("stranger", [-1, 3, 10**6])
def test_a_person_off_the_spine_is_an_error(stranger):
    ids = {"spine_person_id": [0, 1, 2], "spine_household_id": [5, 5, 6]}
    spine = pd.DataFrame(ids)
    with pytest.raises(KeyError, match="not on the spine"):
        _household_of(spine, np.array([0, stranger], dtype=np.int64))


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.tuples(st.lists(DENSE, max_size=40), st.lists(DENSE, max_size=40)),
        st.tuples(st.lists(SPARSE, max_size=40), st.lists(SPARSE, max_size=40)),
    ),
    st.randoms(use_true_random=False),
)
def test_spine_rows_of_a_true_person_are_pandas_groups(ids, rnd):
    """The oracle's count and lowest spine id per true person, by groups and lookup."""
    true_person, wanted = (np.array(v, dtype=np.int64) for v in ids)
    spine_person = np.array(rnd.sample(range(1000), len(true_person)), dtype=np.int64)
    n_rows, lowest = spine_rows_of(true_person, spine_person, wanted)
    groups = pd.Series(spine_person).groupby(true_person)
    expected_n = groups.size().reindex(wanted, fill_value=0).to_numpy()
    assert n_rows.tolist() == expected_n.tolist()
    on = expected_n > 0
    assert lowest[on].tolist() == groups.min().reindex(wanted[on]).tolist()


@settings(max_examples=200, deadline=None)
@given(id_lists(max_size=60))
def test_sorted_unique_is_numpys(ids):
    ids = np.array(ids, dtype=np.int64)
    got = sorted_unique(ids)
    assert got.dtype == np.int64
    assert got.tolist() == np.unique(ids).tolist()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), SPARSE | DENSE), max_size=40),
    st.integers(0, 3),
)
def test_lowest_rows_are_the_first_of_a_sort_by_household_then_id(rows, more):
    """Each household's row with the lowest id, ties to the first: a stable sort's."""
    pos = np.array([h for h, _ in rows], dtype=np.int64)
    person = np.array([p for _, p in rows], dtype=np.int64)
    n = int(pos.max(initial=-1)) + 1 + more  # some households without a row
    order = np.lexsort((person, pos))
    first = {}
    for row in order.tolist():  # the old way: the first row of each household
        first.setdefault(int(pos[row]), row)
    expected = [first.get(h, -1) for h in range(n)]
    assert lowest_rows(pos, person, n).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(id_lists(max_size=40), id_lists(max_size=40, unique=True))
def test_id_positions_of_records_among_links_is_a_lookup(record_ids, link_ids):
    record_id = np.array(record_ids, dtype=np.int64)
    link_id = np.array(link_ids, dtype=np.int64)
    expected = [link_ids.index(r) if r in link_ids else -1 for r in record_ids]
    assert IdPositions(link_id).positions(record_id).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(id_lists(max_size=60))
def test_id_positions_is_unique_is_pandas(ids):
    # The direct table's check counts filled slots; repeated ids share one.
    array = np.array(ids, dtype=np.int64)
    assert IdPositions(array).is_unique == pd.Index(array).is_unique


@settings(max_examples=200, deadline=None)
@given(id_lists(max_size=60), st.integers(1, 20), st.booleans())
def test_repeated_spine_ids_are_duckdbs_distinct_count(
    tmp_path_factory, ids, rows, as_int32
):
    """The spine's ids repeat where DuckDB's distinct count says so, ids dense or not,
    in row groups of any size (the bitmap reads a batch at a time)."""
    path = tmp_path_factory.mktemp("ids") / "spine.parquet"
    values = pa.array(ids, pa.int32() if as_int32 else pa.int64())
    pq.write_table(pa.table({"spine_person_id": values}), path, row_group_size=rows)
    db = LinkageDB(duckdb.connect())
    expected = db.scalar(
        "SELECT count(*) > count(DISTINCT spine_person_id) "
        f"FROM read_parquet({sql_text(path)})"
    )
    assert repeats(db, path, "spine_person_id") == expected


@settings(max_examples=200, deadline=None)
@given(id_lists(max_size=40), id_lists(max_size=40))
def test_id_positions_contains_is_isin(targets, ids):
    """Repeated ids allowed; every target inside the table or some outside."""
    target = np.array(targets, dtype=np.int64)
    expected = pd.Series(target).isin(ids).tolist()
    assert IdPositions(np.array(ids, dtype=np.int64)).contains(target).tolist() == (
        expected
    )
