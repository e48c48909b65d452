"""Link quality counted by integer codes equals its plain definitions.

:mod:`audits.link_counts` counts records per cell of packed flags and group codes,
:mod:`simulator.id_positions` finds ids by a direct table and :mod:`audits.link_truth`
finds each record's link by positions; each is checked here against the plain
computation it replaced (a frame of per-record counts grouped by pandas, a pandas
index, a merge) on small random tables.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.link_counts import GroupKey, Tally, cell_counts, record_states
from audits.link_quality import link_quality, summarise, with_rates
from simulator.errors import InputDataError
from simulator.id_positions import IdPositions

FLAGS = ["linkable", "linked", "correct", "false_link", "missed"]


def reference_summary(records: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per-record counts grouped by pandas: the definition of the counts."""
    subject = records.get("true_subject", records["correct"])
    wrong = records.get("wrong_subject", records["correct"] & ~subject)
    flags = pd.DataFrame(
        {
            "n_records": np.ones(len(records), dtype=np.int64),
            "n_linkable": records["linkable"].to_numpy(np.int64),
            "n_linked": records["linked"].to_numpy(np.int64),
            "n_correct": records["correct"].to_numpy(np.int64),
            "n_false": records["false_link"].to_numpy(np.int64),
            "n_missed": records["missed"].to_numpy(np.int64),
            "n_missed_unlinked": (records["missed"] & ~records["linked"]).to_numpy(
                np.int64
            ),
            "n_wrong_subject": wrong.to_numpy(np.int64),
            "n_subject": subject.to_numpy(np.int64),
        },
        index=records.index,
    )
    if not by:
        return flags.sum().to_frame().T.astype(np.int64)
    keys = [records[c] for c in by]
    return flags.groupby(keys, observed=True, sort=True, dropna=False).sum()


@st.composite
def judged_records(draw):
    """Random records: any flags, and group columns of several dtypes with gaps."""
    n = draw(st.integers(0, 40))
    bools = st.lists(st.booleans(), min_size=n, max_size=n)
    frame = pd.DataFrame({f: draw(bools) for f in FLAGS}, dtype=bool)
    if draw(st.booleans()):
        frame["true_subject"] = draw(bools)
        frame["wrong_subject"] = draw(bools)
    kinds = st.sampled_from(["a", "b", "c", None])
    labels = draw(st.lists(kinds, min_size=n, max_size=n))
    frame["category"] = pd.Categorical(labels, categories=["c", "b", "a", "unused"])
    frame["text"] = pd.Series(labels, dtype="str")
    frame["small"] = np.array(
        draw(st.lists(st.integers(-2, 3), min_size=n, max_size=n)), dtype=np.int8
    )
    frame["flag"] = draw(bools)
    floats = st.sampled_from([0.5, 1.0, np.nan])
    frame["real"] = draw(st.lists(floats, min_size=n, max_size=n))
    frame.index = np.arange(n) * 3  # not a default index
    return frame


KEYS = ["category", "text", "small", "flag", "real"]


@settings(max_examples=100)
@given(judged_records(), st.lists(st.sampled_from(KEYS), max_size=3, unique=True))
def test_summary_counts_are_those_of_grouping_every_record(records, by):
    """The counts, their index and its order are those of a plain groupby of
    per-record counts, whatever the keys' dtypes and missing values."""
    got = summarise(records, by)
    want = with_rates(reference_summary(records, by))
    pd.testing.assert_frame_equal(got, want, check_exact=True)


@settings(max_examples=100)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(0, 127))),
)
def test_cells_counted_densely_or_hashed_are_the_cells_of_the_records(rows):
    """Both ways of counting cells give each observed (keys, state) its count."""
    a, b, state = (np.array([r[i] for r in rows], dtype=np.int64) for i in range(3))
    keys = [
        GroupKey("a", a, pd.Series(range(4))),
        GroupKey("b", b, pd.Series(range(3))),
    ]
    want = Counter(zip(a.tolist(), b.tolist(), state.tolist(), strict=True))
    for limit in (0, 1 << 22):
        codes, states, counts = cell_counts(state, keys, dense_limit=limit)
        got = dict(
            zip(
                zip(*(c.tolist() for c in codes), states.tolist(), strict=True),
                counts.tolist(),
                strict=True,
            )
        )
        assert got == dict(want)


def test_states_pack_the_flags_in_order():
    states = record_states([np.array([True, False]), np.array([True, True])])
    assert states.tolist() == [3, 2]


@settings(max_examples=100)
@given(
    st.lists(st.integers(-3, 60), max_size=30),
    st.lists(st.integers(-5, 1000), max_size=30),
)
def test_id_positions_are_those_of_a_pandas_index(ids, target):
    """Positions where ids are unique, membership always (dense table or index)."""
    ids_ = np.array(ids, dtype=np.int64)
    target_ = np.array(target, dtype=np.int64)
    found = IdPositions(ids_)
    index = pd.Index(ids_)
    assert found.is_unique == index.is_unique
    if index.is_unique:
        assert found.positions(target_).tolist() == index.get_indexer(target_).tolist()
    assert found.contains(target_).tolist() == np.isin(target_, ids_).tolist()


@st.composite
def worlds(draw):
    """A spine, one or two sources and a links table, all small and random."""
    n_people = draw(st.integers(1, 6))
    people = st.integers(0, n_people + 2)  # some never on the spine
    spine_people = draw(st.lists(people, min_size=1, max_size=8))
    spine = pd.DataFrame(
        {
            "spine_person_id": np.array(draw(st.permutations(range(len(spine_people)))))
            * 7
            + 100,
            "true_person_id": spine_people,
            "err_duplicate": draw(
                st.lists(
                    st.booleans(),
                    min_size=len(spine_people),
                    max_size=len(spine_people),
                )
            ),
        }
    )
    sources, links = {}, []
    for name in draw(st.sampled_from([["police"], ["police", "health"]])):
        n = draw(st.integers(0, 8))
        subject = draw(st.lists(people, min_size=n, max_size=n))
        carried = [p if draw(st.booleans()) else draw(people) for p in subject]
        sources[name] = pd.DataFrame(
            {
                "record_id": np.array(draw(st.permutations(range(n))), dtype=np.int64),
                "true_person_id": subject,
                "true_identity_person_id": carried,
                "true_household_id": [p % 3 for p in subject],
                f"err_{name}_typo": draw(
                    st.lists(st.booleans(), min_size=n, max_size=n)
                ),
            }
        )
        for rid in sources[name]["record_id"]:
            choice = draw(
                st.sampled_from(["none", "absent", *spine["spine_person_id"]])
            )
            if choice != "absent":
                to = None if choice == "none" else int(choice)
                links.append((name, int(rid), to))
    links = pd.DataFrame(links, columns=["source", "record_id", "spine_person_id"])
    links["source"] = links["source"].astype("string")
    links["spine_person_id"] = links["spine_person_id"].astype("Int64")
    return links, sources, spine


@settings(max_examples=60)
@given(worlds())
def test_each_record_is_judged_as_its_definition_says(world):
    """Outcomes and counts from a merge of links, records and spine, by definition."""
    links, sources, spine = world
    households = pd.DataFrame({"household_id": [0, 1, 2], "tenure": ["a", "b", "a"]})
    q = link_quality(links, sources, spine, households)
    truth = pd.concat(
        [f.assign(source=name) for name, f in sources.items()], ignore_index=True
    )
    rec = truth.merge(
        links.astype({"source": str}), on=["source", "record_id"], how="left"
    )
    by_spine = spine.set_index("spine_person_id")
    to = rec["spine_person_id"]
    identity = rec["true_identity_person_id"]
    linkable = identity.isin(spine["true_person_id"])
    linked = to.notna()
    linked_identity = to.map(by_spine["true_person_id"])
    correct = linked & (linked_identity == identity).fillna(False).astype(bool)
    subject = linked & (linked_identity == rec["true_person_id"]).fillna(False).astype(
        bool
    )
    got = q.records
    assert got["record_id"].tolist() == rec["record_id"].tolist()
    assert got["spine_person_id"].tolist() == rec["spine_person_id"].tolist()
    assert got["linkable"].tolist() == linkable.tolist()
    assert got["linked"].tolist() == linked.tolist()
    assert got["correct"].tolist() == correct.tolist()
    assert got["true_subject"].tolist() == subject.tolist()
    assert got["missed"].tolist() == (linkable & ~correct).tolist()
    overall = reference_summary(got, [])
    assert q.overall["n_records"].iloc[0] == overall["n_records"].iloc[0] == len(rec)
    for table, by in ((q.overall, []), (q.by_source, ["source"])):
        want = with_rates(reference_summary(got, by))
        pd.testing.assert_frame_equal(table[list(want.columns)], want, check_exact=True)
    joined = got.assign(
        tenure=got["true_household_id"].map(
            households.set_index("household_id")["tenure"]
        )
    )
    want = reference_summary(joined, ["tenure"])
    assert q.by_group["n_records"].tolist() == want["n_records"].tolist()
    assert q.by_group["n_correct"].tolist() == want["n_correct"].tolist()
    bad = got[got["false_link"] | got["missed"]]
    assert q.errors["record_id"].tolist() == bad["record_id"].tolist()
    lowest = spine.groupby("true_person_id")["spine_person_id"].min()
    want_first = bad["true_identity_person_id"].map(lowest)
    assert (
        q.errors["true_spine_person_id"].astype("Float64").fillna(-1).tolist()
        == want_first.fillna(-1).tolist()
    )


@st.composite
def households_and_records(draw):
    """Households with group columns (categories, integers, flags, gaps) and the
    records' households, some of them absent from the table."""
    n = draw(st.integers(1, 30))
    column = st.lists(st.sampled_from(["a", "b", None]), min_size=n, max_size=n)
    households = pd.DataFrame(
        {
            "household_id": draw(
                st.lists(st.integers(0, 80), min_size=n, max_size=n, unique=True)
            ),
            "ethnicity": pd.Categorical(draw(column), categories=["b", "a", "c"]),
            "imd_decile": np.array(
                draw(st.lists(st.integers(1, 3), min_size=n, max_size=n)), np.int8
            ),
            "lone_parent": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
            "tenure": pd.Series(draw(column), dtype="str"),
        }
    )
    columns = draw(
        st.lists(
            st.sampled_from(["ethnicity", "imd_decile", "lone_parent", "tenure"]),
            unique=True,
            max_size=4,
        )
    )
    ids = households["household_id"].tolist()
    m = draw(st.integers(0, 40))
    absent = st.integers(81, 90) if draw(st.booleans()) else st.nothing()
    homes = draw(st.lists(st.sampled_from(ids) | absent, min_size=m, max_size=m))
    state = draw(st.lists(st.integers(0, 127), min_size=m, max_size=m))
    source = draw(st.lists(st.integers(0, 2), min_size=m, max_size=m))
    return (
        households,
        columns,
        np.array(homes, np.int64),
        np.array(state, np.int64),
        source,
    )


@settings(max_examples=150)
@given(households_and_records())
def test_households_tally_counts_as_every_group_columns_key(case):
    """Counted by the households' combinations of group codes, every summary
    (overall, by source, by each group, by source and group) is that of counting
    by each group column's key taken through the records' households."""
    from audits.link_quality import household_groups

    households, columns, homes, state, source = case
    groups = household_groups(households, columns)
    names = pd.Series(["x", "y", "z"], name="source")
    source_key = GroupKey("source", np.array(source, np.int64), names)
    at = groups.at.positions(homes)
    if not (at >= 0).all():  # a household missing: refused for a batch
        with pytest.raises(InputDataError, match="household is missing"):
            groups.tally(state, source_key, homes, batch=True)
        got = groups.tally(state, source_key, homes, batch=False)
        assert [k.name for k in got.keys] == ["source", *columns]
        return
    keys = [GroupKey(k.name, k.codes[at], k.values) for k in groups.keys]
    want = Tally.of(state, [source_key, *keys])
    got = groups.tally(state, source_key, homes, batch=True)
    assert [k.name for k in got.keys] == ["source", *columns]
    for by in [[], [0], *([i] for i in range(1, len(keys) + 1))]:
        for within in ([], [0]) if by != [0] else ([],):
            keys_at = [*within, *by]
            pd.testing.assert_frame_equal(
                got.summed(keys_at), want.summed(keys_at), check_exact=True
            )
