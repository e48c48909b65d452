"""The match-key cascade on small hand-made tables, and the links-table contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.council.linkage import (
    LINK_COLUMNS,
    DeterministicConfig,
    LinkageConfig,
    LinkageDB,
    MatchKey,
    link,
)
from simulator.council.linkage.deterministic import (
    cascade,
    match_key_sql,
    run_cascade,
)
from simulator.errors import InputDataError
from simulator.frames import STRING
from simulator.world.records import IDENTITY_COLUMNS


def people(rows: list[dict]) -> pd.DataFrame:
    """Identity rows with every identity column (missing ones null)."""
    frame = pd.DataFrame(rows)
    for col in IDENTITY_COLUMNS:
        if col not in frame:
            frame[col] = None
        if col == "dob":
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[s]")
        else:
            frame[col] = frame[col].astype(STRING)
    return frame


SPINE = people(
    [
        {
            "first_name": "Amy",
            "last_name": "Khan",
            "dob": "2010-03-04",
            "postcode": "QA1 2AB",
            "nhs_number": "9434765919",
        },
        {
            "first_name": "Ben",
            "last_name": "Khan",
            "dob": "2012-07-08",
            "postcode": "QA1 2AB",
        },
        # Twins with the same first initial: "A Cole" is ambiguous.
        {
            "first_name": "Ann",
            "last_name": "Cole",
            "dob": "2015-01-01",
            "postcode": "QB2 3CD",
        },
        {
            "first_name": "Alf",
            "last_name": "Cole",
            "dob": "2015-01-01",
            "postcode": "QB2 3CD",
        },
        {
            "first_name": "Zoe",
            "last_name": "Ng",
            "dob": "1980-12-31",
            "postcode": "QC3 4EF",
        },
    ]
)
SPINE.insert(0, "spine_household_id", np.array([1, 1, 2, 2, 3], dtype=np.int64))
SPINE.insert(0, "spine_person_id", np.array([10, 11, 12, 13, 14], dtype=np.int64))

RECORDS = people(
    [
        # NHS number right, name misspelt: only the NHS key links it.
        {
            "first_name": "Aimy",
            "last_name": "Kahn",
            "dob": "2010-03-04",
            "nhs_number": "943 476 5919",
        },
        # Exact name, dob and postcode (case and spacing differ).
        {
            "first_name": "BEN",
            "last_name": "khan",
            "dob": "2012-07-08",
            "postcode": "qa12ab",
        },
        # Initial + surname + dob: matches both twins.
        {
            "first_name": "A",
            "last_name": "Cole",
            "dob": "2015-01-01",
            "postcode": "QB2 3CD",
        },
        # Nobody.
        {"first_name": "Kim", "last_name": "Lee", "dob": "1999-09-09"},
        # Zoe, recorded without the space in her postcode.
        {
            "first_name": "Zoe",
            "last_name": "Ng",
            "dob": "1980-12-31",
            "postcode": "QC34EF",
        },
    ]
)
RECORDS.insert(0, "record_id", np.arange(100, 105, dtype=np.int64))

KEYS = (
    MatchKey(name="nhs", columns=("nhs_number",)),
    MatchKey(name="full", columns=("first_name", "last_name", "dob", "postcode")),
    MatchKey(name="initial", columns=("first_initial", "last_name", "dob")),
)


def run(ties: str) -> pd.DataFrame:
    cfg = LinkageConfig(
        method="deterministic", deterministic=DeterministicConfig(keys=KEYS, ties=ties)
    )
    return link({"police": RECORDS}, SPINE, cfg, seed=0).set_index("record_id")


def test_each_record_links_by_the_first_key_that_finds_it():
    out = run("drop")
    assert out.loc[100, "match_key"] == "nhs"
    assert out.loc[100, "spine_person_id"] == 10
    assert out.loc[101, "match_key"] == "full"
    assert out.loc[101, "spine_person_id"] == 11
    assert out.loc[104, "match_key"] == "full"
    assert out.loc[104, "spine_household_id"] == 3
    assert pd.isna(out.loc[103, "spine_person_id"])
    assert out.loc[103, "n_candidates"] == 0


@pytest.mark.parametrize(("ties", "expected"), [("drop", pd.NA), ("first", 12)])
def test_ties_follow_the_policy(ties, expected):
    out = run(ties)
    got = out.loc[102, "spine_person_id"]
    if expected is pd.NA:
        assert pd.isna(got)
    else:
        assert got == expected
        assert out.loc[102, "n_candidates"] == 2
        assert out.loc[102, "match_key"] == "initial"


def test_links_table_contract():
    out = link(
        {"police": RECORDS, "health": RECORDS.iloc[:2]},
        SPINE,
        LinkageConfig(method="deterministic"),
        seed=0,
    )
    assert tuple(out.columns) == LINK_COLUMNS
    assert len(out) == len(RECORDS) + 2
    assert out[["source", "record_id"]].equals(
        out[["source", "record_id"]].sort_values(["source", "record_id"])
    )
    assert str(out["spine_person_id"].dtype) == "Int64"
    assert out["match_probability"].isna().all()
    linked = out["spine_person_id"].notna()
    assert (out.loc[linked, "n_candidates"] >= 1).all()
    assert (out.loc[~linked, "n_candidates"] == 0).all()
    assert out.loc[~linked, "match_key"].isna().all()


def test_match_key_sql_runs_on_a_five_row_table():
    db = LinkageDB()
    db.register("r", pd.DataFrame({"rid": [0, 1, 2], "k": ["a", "b", None]}))
    db.register(
        "s",
        pd.DataFrame(
            {"spine_person_id": [5, 6, 7, 8, 9], "k": ["a", "a", "b", None, "c"]}
        ),
    )
    _, sql = match_key_sql(MatchKey(name="k", columns=("last_name",)), "r", "s")
    got = db.frame(sql.replace("last_name", "k") + " ORDER BY rid")
    assert got["rid"].tolist() == [0, 1]
    assert got["n_candidates"].tolist() == [2, 1]
    assert got["spine_person_id"].tolist() == [5, 7]


def test_a_record_is_never_offered_to_a_later_key():
    db = LinkageDB()
    db.register("r", pd.DataFrame({"rid": [0], "a": ["x"], "b": ["y"]}))
    db.register(
        "s", pd.DataFrame({"spine_person_id": [1, 2], "a": ["x", "z"], "b": ["q", "y"]})
    )
    keys = [
        MatchKey(name="first", columns=("first_name",)),
        MatchKey(name="second", columns=("last_name",)),
    ]
    db.con.execute(
        "CREATE VIEW r2 AS SELECT rid, a AS first_name, b AS last_name FROM r"
    )
    db.con.execute(
        "CREATE VIEW s2 AS SELECT spine_person_id, a AS first_name, "
        "b AS last_name FROM s"
    )
    found = run_cascade(db, "r2", "s2", keys, "drop")
    assert found[["rid", "spine_person_id", "match_key"]].values.tolist() == [
        [0, 1, "first"]
    ]


def test_missing_columns_are_all_named_with_their_agency():
    with pytest.raises(InputDataError) as e:
        link(
            {
                "police": RECORDS.drop(columns=["dob", "postcode"]),
                "health": RECORDS.drop(columns=["record_id"]),
            },
            SPINE.drop(columns=["last_name"]),
            LinkageConfig(method="deterministic"),
            seed=0,
        )
    msg = str(e.value)
    assert "police: missing column(s) dob, postcode" in msg
    assert "health: missing column(s) record_id" in msg
    assert "spine: missing column(s) last_name" in msg


def test_duplicate_record_ids_are_refused():
    with pytest.raises(InputDataError, match="police: record_id is not unique"):
        link(
            {"police": pd.concat([RECORDS, RECORDS.iloc[:1]])},
            SPINE,
            LinkageConfig(method="deterministic"),
            seed=0,
        )


def test_splink_refuses_too_many_pairs():
    from simulator.council.linkage import SplinkConfig

    cfg = LinkageConfig(
        method="splink",
        splink=SplinkConfig(blocking_rules=(("sex",),), max_blocked_pairs=1),
    )
    recs = RECORDS.assign(sex="F")
    with pytest.raises(InputDataError, match="max_blocked_pairs=1"):
        link({"police": recs}, SPINE.assign(sex="F"), cfg, seed=0)


_COLUMNS = ("first_name", "last_name", "sex")
_VALUE = st.one_of(st.none(), st.integers(0, 3))


@settings(deadline=None, max_examples=60)
@given(
    data=st.data(),
    ties=st.sampled_from(["drop", "first"]),
    narrow_below=st.floats(0, 1),
)
def test_narrowing_the_records_offered_links_the_same(data, ties, narrow_below):
    """Keys reading a copy of the unlinked records' columns (``narrow_below``) find
    what they find reading every record's: the same records, persons, keys and
    candidates."""
    tables = {}
    for name, id_column in (("r", "rid"), ("s", "spine_person_id")):
        n = data.draw(st.integers(1, 30))
        frame = pd.DataFrame({id_column: np.arange(n, dtype=np.int64)})
        for column in _COLUMNS:
            values = data.draw(st.lists(_VALUE, min_size=n, max_size=n))
            frame[column] = pd.array(values, dtype="Int64")
        tables[name] = frame
    key_columns = st.lists(
        st.sampled_from(_COLUMNS), min_size=1, max_size=3, unique=True
    )
    keys = [
        MatchKey(name=f"k{i}", columns=tuple(columns))
        for i, columns in enumerate(
            data.draw(st.lists(key_columns, min_size=1, max_size=6))
        )
    ]
    found = []
    for narrow in (None, narrow_below):
        db = LinkageDB()
        db.register("r", tables["r"])
        db.register("s", tables["s"])
        union, _ = cascade(db, "r", "s", keys, ties, narrow_below=narrow)
        found.append(db.arrow(f"{union}\nORDER BY rid").to_pylist())
    assert found[0] == found[1]


_KEY_COLUMNS = ("nhs_number", "upn", "last_name", "dob")


@settings(deadline=None, max_examples=80)
@given(data=st.data())
def test_a_key_finds_every_spine_row_agreeing_on_all_its_fields(data):
    """A key's candidates are the spine rows agreeing on each of its fields, none
    missing, whether the key filters a field as an identifier often missing
    (``OFTEN_MISSING``) or not: counted, and the lowest person kept."""
    tables = {}
    for name, id_column in (("r", "rid"), ("s", "spine_person_id")):
        n = data.draw(st.integers(0, 25))
        ids = data.draw(
            st.lists(st.integers(0, 99), min_size=n, max_size=n, unique=True)
        )
        frame = pd.DataFrame({id_column: np.array(ids, dtype=np.int64)})
        for column in _KEY_COLUMNS:
            values = data.draw(st.lists(_VALUE, min_size=n, max_size=n))
            frame[column] = pd.array(values, dtype="Int64")
        tables[name] = frame
    columns = tuple(
        data.draw(st.lists(st.sampled_from(_KEY_COLUMNS), min_size=1, unique=True))
    )
    db = LinkageDB()
    db.register("r", tables["r"])
    db.register("s", tables["s"])
    _, sql = match_key_sql(MatchKey(name="k", columns=columns), "r", "s")
    got = db.arrow(f"{sql}\nORDER BY rid").to_pylist()
    expected = []
    for record in tables["r"].to_dict("records"):
        agree = [
            person["spine_person_id"]
            for person in tables["s"].to_dict("records")
            if all(
                not pd.isna(record[c])
                and not pd.isna(person[c])
                and record[c] == person[c]
                for c in columns
            )
        ]
        if agree:
            expected.append(
                {
                    "rid": record["rid"],
                    "n_candidates": len(agree),
                    "spine_person_id": min(agree),
                }
            )
    assert got == sorted(expected, key=lambda row: row["rid"])
