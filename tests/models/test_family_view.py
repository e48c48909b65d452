"""The linked family view: shape, counts, and that it reads only council data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import Cohort
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.council.view import (
    IMD_UNKNOWN,
    ViewConfig,
    build_view,
    event_column,
    feature_columns,
    observed_labels,
    postcode_sector,
)
from simulator.errors import InputDataError
from simulator.frames import council_view
from simulator.schema.view import DEFAULT_EVENTS
from simulator.vocabulary import INDEX

COHORTS = ["oracle_cohort", "messy_cohort"]


def rebuild(cohort: Cohort, **changes) -> pd.DataFrame:
    args = {
        "sources": cohort.data.sources,
        "spine": cohort.data.spine,
        "links": cohort.links,
        "reference_date": cohort.scenario.time.reference_date,
        "deprivation": cohort.data.areas,
        "config": ViewConfig(),
    }
    args |= changes
    return build_view(args.pop("sources"), args.pop("spine"), args.pop("links"), **args)


@pytest.mark.parametrize("name", COHORTS)
def test_one_row_per_spine_household_with_numeric_features(name, request):
    cohort: Cohort = request.getfixturevalue(name)
    view = cohort.view
    spine_ids = np.unique(cohort.data.spine[INDEX].to_numpy())
    assert view.index.name == INDEX
    assert view.index.dtype == np.int64
    np.testing.assert_array_equal(view.index.to_numpy(), spine_ids)
    assert tuple(view.columns) == feature_columns(ViewConfig())
    for col in view.columns:
        assert view[col].dtype in (np.int64, np.float64, np.bool_), col
    counts = view.select_dtypes("number")
    assert (counts.to_numpy() >= 0).all()
    # every spine household is there, even those with no linked record
    assert (view["n_events"] == 0).any()


@pytest.mark.parametrize("name", COHORTS)
def test_event_counts_equal_a_plain_pandas_count(name, request):
    cohort: Cohort = request.getfixturevalue(name)
    ref = pd.Timestamp(cohort.scenario.time.reference_date)
    parts = []
    for source, records in cohort.data.sources.items():
        lk = cohort.links[cohort.links["source"] == source]
        merged = records[["record_id", "event_type", "event_date"]].merge(
            lk[["record_id", INDEX]], on="record_id"
        )
        merged = merged[merged[INDEX].notna() & (merged["event_date"] <= ref)]
        parts.append(
            merged.assign(column=source + "_" + merged["event_type"].astype(str))
        )
    events = pd.concat(parts)
    expected = pd.crosstab(events[INDEX].astype(np.int64), events["column"])
    for event in DEFAULT_EVENTS:
        col = event_column(event)
        want = expected[col].reindex(cohort.view.index, fill_value=0)
        np.testing.assert_array_equal(cohort.view[col].to_numpy(), want.to_numpy())
    assert cohort.view[[event_column(e) for e in DEFAULT_EVENTS]].to_numpy().sum() > 0


@pytest.mark.parametrize("name", COHORTS)
def test_hidden_columns_never_change_the_view(name, request):
    cohort: Cohort = request.getfixturevalue(name)
    rng = np.random.default_rng(0)

    def scramble(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        for col in out.columns:
            if col.startswith(("true_", "err_")):
                out[col] = rng.permutation(out[col].to_numpy())
        return out

    scrambled = rebuild(
        cohort,
        sources={k: scramble(v) for k, v in cohort.data.sources.items()},
        spine=scramble(cohort.data.spine),
    )
    pd.testing.assert_frame_equal(scrambled, cohort.view)
    stripped = rebuild(
        cohort,
        sources={k: council_view(v) for k, v in cohort.data.sources.items()},
        spine=council_view(cohort.data.spine),
    )
    pd.testing.assert_frame_equal(stripped, cohort.view)


def test_only_the_two_public_columns_of_the_deprivation_lookup_are_read(
    messy_cohort,
):
    areas = messy_cohort.data.areas
    lookup = areas[["postcode_sector", "imd_decile"]].assign(other=-1)
    pd.testing.assert_frame_equal(
        rebuild(messy_cohort, deprivation=lookup), messy_cohort.view
    )


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_a_record_counts_for_whichever_household_it_is_linked_to(messy_cohort, data):
    """Linked records that belong to someone else count; missed links don't."""
    cohort = messy_cohort
    police = cohort.data.sources["police"]
    ref = pd.Timestamp(cohort.scenario.time.reference_date)
    links = cohort.links
    candidates = links.index[
        (links["source"] == "police")
        & links[INDEX].notna()
        & links["record_id"]
        .map(police.set_index("record_id")["event_date"])
        .le(ref)
        .to_numpy()
    ]
    row = data.draw(st.sampled_from(list(candidates)))
    record_id = links.at[row, "record_id"]
    column = event_column(
        "police." + police.set_index("record_id").at[record_id, "event_type"]
    )
    old = int(links.at[row, INDEX])
    households = cohort.view.index
    new = int(data.draw(st.sampled_from(list(households[households != old]))))
    unlink = data.draw(st.booleans())

    moved = links.copy()
    moved[INDEX] = moved[INDEX].astype("Int64")
    moved.loc[row, INDEX] = pd.NA if unlink else new
    view = rebuild(cohort, links=moved)

    diff = view[[column, "n_events"]] - cohort.view[[column, "n_events"]]
    assert diff.loc[old].tolist() == [-1, -1]
    if unlink:
        assert (diff.drop(index=old) == 0).all().all()
    else:
        assert diff.loc[new].tolist() == [1, 1]
        assert (diff.drop(index=[old, new]) == 0).all().all()
    others = [c for c in view.columns if c not in (column, "n_events", "n_agencies")]
    pd.testing.assert_frame_equal(view[others], cohort.view[others])


@pytest.mark.parametrize(("days", "counted"), [(0, True), (1, False)])
def test_only_events_up_to_the_reference_date_count(messy_cohort, days, counted):
    cohort = messy_cohort
    assert "social_care_followup_referral" not in cohort.view.columns
    police = cohort.data.sources["police"]
    links = cohort.links[cohort.links["source"] == "police"].set_index("record_id")
    linked = police["record_id"].map(links[INDEX]).notna()
    row = police.index[linked & (police["event_type"] == "incident")][0]
    household = int(links.at[police.at[row, "record_id"], INDEX])
    moved = police.copy()
    moved.loc[row, "event_date"] = pd.Timestamp(
        cohort.scenario.time.reference_date
    ) + pd.Timedelta(days=days)
    view = rebuild(cohort, sources={**cohort.data.sources, "police": moved})
    change = view["police_incident"] - cohort.view["police_incident"]
    assert change.loc[household] == (0 if counted else -1)
    assert (change.drop(index=household) == 0).all()


def test_composition_and_area_on_oracle_data(oracle_cohort):
    cohort = oracle_cohort
    view, truth = cohort.view, cohort.truth()
    spine = cohort.data.spine
    np.testing.assert_array_equal(
        view["n_members"].to_numpy(),
        spine.groupby(INDEX).size().reindex(view.index).to_numpy(),
    )
    assert not view["imd_unknown"].any()
    np.testing.assert_array_equal(view["imd_decile"], truth["imd_decile"].astype(float))
    people = cohort.data.people
    under_18 = (people["age"] < 18).groupby(people["household_id"]).sum()
    np.testing.assert_array_equal(
        view["n_children"], under_18.reindex(truth["household_id"]).to_numpy()
    )
    assert (view["n_adults"] + view["n_children"] == view["n_members"]).all()
    assert (view["education_pupils"] <= view["n_school_age"]).all()


def test_no_deprivation_lookup_leaves_the_area_unknown(oracle_cohort):
    view = rebuild(oracle_cohort, deprivation=None)
    assert view["imd_unknown"].all()
    assert (view["imd_decile"] == IMD_UNKNOWN).all()


def test_observed_labels_are_the_true_harm_when_nothing_is_hidden(oracle_cohort):
    cohort = oracle_cohort
    labels = cohort.labels
    assert labels.index.equals(cohort.view.index) and labels.dtype == bool
    truth = cohort.truth()
    np.testing.assert_array_equal(labels.to_numpy(), truth["harm"].to_numpy())


def test_observed_labels_follow_the_links(messy_cohort):
    cohort = messy_cohort
    links = cohort.links.copy()
    links[INDEX] = pd.NA
    labels = observed_labels(
        cohort.data.sources,
        links.astype({INDEX: "Int64"}),
        reference_date=cohort.scenario.time.reference_date,
        households=cohort.view.index,
    )
    assert cohort.labels.any() and not labels.any()


def test_a_record_missing_from_the_links_table_is_an_error(messy_cohort):
    links = messy_cohort.links
    dropped = links.drop(index=links.index[links["source"] == "police"][:3])
    with pytest.raises(InputDataError, match=r"3 police record\(s\) have no row"):
        rebuild(messy_cohort, links=dropped)


def test_a_record_with_two_rows_in_the_links_table_is_an_error(messy_cohort):
    links = messy_cohort.links
    police = links.index[links["source"] == "police"][:2]
    doubled = pd.concat([links, links.loc[police]], ignore_index=True)
    with pytest.raises(InputDataError, match=r"2 police record\(s\) have two rows"):
        rebuild(messy_cohort, links=doubled)


def test_a_link_to_a_household_not_on_the_spine_is_an_error(messy_cohort):
    links = messy_cohort.links.copy()
    row = links.index[links[INDEX].notna()][0]
    links.loc[row, INDEX] = 10**9
    with pytest.raises(InputDataError, match="not on the spine, e.g. 1000000000"):
        rebuild(messy_cohort, links=links)


def test_missing_columns_are_named(messy_cohort):
    sources = dict(messy_cohort.data.sources)
    sources["health"] = sources["health"].drop(columns=["event_date"])
    with pytest.raises(
        InputDataError, match="health records: missing column.*event_date"
    ):
        rebuild(messy_cohort, sources=sources)
    with pytest.raises(InputDataError, match="spine: missing column.*dob"):
        rebuild(messy_cohort, spine=messy_cohort.data.spine.drop(columns=["dob"]))


def test_view_config_refuses_repeated_events_and_typos():
    with pytest.raises(ValueError, match="listed twice"):
        ViewConfig(events=("police.incident", "police.incident"))
    with pytest.raises(ValueError, match="pattern"):
        ViewConfig(events=("police incident",))
    with pytest.raises(ValueError, match="extra"):
        ViewConfig(persistant_absence=0.1)


def _sector_by_pandas(postcodes: pd.Series) -> list:
    """The postcode sector by pandas' string methods (before the Arrow path)."""
    compact = postcodes.astype("str").str.upper().str.replace(r"\s+", "", regex=True)
    sector = compact.str[:-3] + " " + compact.str[-3]
    got = sector.where(compact.str.len() >= 5).tolist()
    return [None if isinstance(g, float) else g for g in got]


_POSTCODE_TEXT = st.one_of(
    st.none(),
    st.text(alphabet="QAZ019 xy\t\n\x0b\x0c\r\x1c\x1f", max_size=10),
    st.text(max_size=10),  # any text: Python's upper case and spaces beyond ASCII
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_POSTCODE_TEXT, max_size=12))
def test_postcode_sector_in_arrow_is_the_pandas_sector(postcodes):
    """Arrow's ASCII path (and the fallback for other text) give pandas' sectors.

    Python's ``\\s`` is wider than Arrow's, even within ASCII (``\\x0b``,
    ``\\x1c``-``\\x1f``): the first alphabet holds them.
    """
    given = pd.Series(postcodes, dtype=object)
    got = postcode_sector(given).tolist()
    assert [None if isinstance(g, float) else g for g in got] == _sector_by_pandas(
        given
    )
