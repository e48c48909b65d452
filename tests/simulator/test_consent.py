"""Families who withhold consent: who they are, and which records the council gets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from simtools import build_scenario

from audits.counterfactuals import without_visibility_bias
from simulator.vocabulary import CONSENT_COLUMN, SOURCES
from simulator.world.generate import generate

SHARED = [s for s in SOURCES if s != "spine"]


def _without_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """Records compared by content: ``record_id`` is numbered after consent."""
    return frame.drop(columns="record_id").reset_index(drop=True)


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    rate=st.floats(0.05, 0.95),
    safeguarding=st.lists(st.sampled_from(SHARED), unique=True, max_size=2),
)
def test_the_council_gets_every_record_but_the_withheld_families(
    seed, rate, safeguarding
):
    consent = {"withhold_rate": rate, "safeguarding_sources": safeguarding}
    on = generate(build_scenario(600, seed, consent=consent))
    off = generate(build_scenario(600, seed))
    truth = on.households.drop(columns=CONSENT_COLUMN)
    pd.testing.assert_frame_equal(truth, off.households)  # the same families
    pd.testing.assert_frame_equal(on.people, off.people)
    pd.testing.assert_frame_equal(on.spine, off.spine)  # the council's own index
    withheld = on.households.loc[on.households[CONSENT_COLUMN], "household_id"]
    for source in SHARED:
        got, every = on.sources[source], off.sources[source]
        kept_back = every["true_household_id"].isin(withheld).to_numpy()
        expected = every if source in safeguarding else every[~kept_back]
        # the same records, errors and all: only the withheld families' are gone
        pd.testing.assert_frame_equal(_without_ids(got), _without_ids(expected))


def test_group_odds_ratios_change_who_withholds(seed, fuzzy):
    rate, ratio = 0.1, 4.0
    consent = {
        "withhold_rate": rate,
        "group_odds_ratios": [{"column": "imd_quintile", "value": 1, "factor": ratio}],
    }
    households = generate(build_scenario(20_000, seed, consent=consent)).households
    most = households["imd_quintile"].eq(1).to_numpy()
    withheld = households[CONSENT_COLUMN].to_numpy()
    odds = rate / (1 - rate) * ratio
    fuzzy.assert_proportion(withheld[most].sum(), most.sum(), odds / (1 + odds), "q1")
    fuzzy.assert_proportion(withheld[~most].sum(), (~most).sum(), rate, "others")


def test_consent_off_draws_no_column(seed):
    households = generate(build_scenario(300, seed)).households
    assert CONSENT_COLUMN not in households


def test_the_ladders_first_rung_shares_every_record(seed):
    scenario = build_scenario(600, seed, consent={"withhold_rate": 0.5})
    rung = without_visibility_bias(scenario)
    assert set(rung.consent.safeguarding_sources) == set(SHARED)
    data = generate(rung)
    assert data.households[CONSENT_COLUMN].any()  # drawn, but nothing withheld
    withheld = data.households.loc[data.households[CONSENT_COLUMN], "household_id"]
    assert data.sources["health"]["true_household_id"].isin(withheld).any()


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        (
            {"audit": {"group_columns": ["imd_quintile", CONSENT_COLUMN]}},
            "needs consent.withhold_rate above 0",
        ),
        (
            {
                "consent": {
                    "group_odds_ratios": [
                        {"column": "imd_quintile", "value": 1, "factor": 2}
                    ]
                }
            },
            "group_odds_ratios need a withhold_rate above 0",
        ),
        (
            {
                "consent": {
                    "withhold_rate": 0.1,
                    "group_odds_ratios": [
                        {"column": CONSENT_COLUMN, "value": True, "factor": 2}
                    ],
                }
            },
            "column",
        ),
        ({"consent": {"safeguarding_sources": ["spine"]}}, "safeguarding_sources"),
    ],
)
def test_consent_settings_that_cannot_hold_are_refused(sections, message):
    with pytest.raises(ValidationError, match=message):
        build_scenario(100, 1, **sections)


def test_a_run_audits_families_by_consent(tmp_path, seed, no_report):
    from simulator.cli import main

    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"seed: {seed}\npopulation: {{n_households: 2000}}\n"
        "consent: {withhold_rate: 0.6}\n"
        "audit: {group_columns: [imd_quintile, withholds_consent], "
        "intersections: [], n_boot: 50, min_group_size: 0}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["run", str(scenario), "-o", str(out), "-q"]) == 0
    by_group = pd.read_csv(out / "audit" / "metrics_by_group.csv")
    rows = by_group[by_group["group"] == CONSENT_COLUMN].set_index("value")
    households = pd.read_parquet(out / "truth" / "households.parquet")
    assert rows.loc["True", "n"] == households[CONSENT_COLUMN].sum()
    # families who withheld consent are far less often found when in need
    assert rows.loc["True", "tpr"] < rows.loc["False", "tpr"]
    assert np.isfinite(rows["tpr"]).all()
