"""A run over periods: period 1 is the single run, and flags feed back as set."""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pytest

from audits.periods import FAMILIES, METRICS
from simulator.pipeline.output import write_run
from simulator.pipeline.periods import run
from simulator.pipeline.run import Run
from simulator.pipeline.run import run as single_run
from simulator.schema.scenario import Scenario
from simulator.vocabulary import AGENCIES, NEEDS, OVERALL
from tests.scenarios.digests import run_digests

HOUSEHOLDS = 2_000


def small(seed: int, periods: int = 3, **dynamics: object) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "periods-test",
            "seed": seed,
            "population": {"n_households": HOUSEHOLDS, "households_per_area": 100},
            "audit": {"n_boot": 50, "min_group_size": 0},
            "dynamics": {"periods": periods, **dynamics},
        }
    )


@functools.cache
def periods_run(seed: int, periods: int = 3, effect: str | None = None) -> Run:
    """A run over ``periods`` with one effect of flags switched on (or none)."""
    dynamics = {effect: {"enabled": True}} if effect else {}
    return run(small(seed, periods, **dynamics), attribution=False)


def overall(result: Run) -> pd.DataFrame:
    families = result.periods[FAMILIES]
    return families[families["group"] == OVERALL].set_index("period")


def test_dynamics_off_period_one_is_todays_run_byte_for_byte(
    seed, tmp_path: Path, no_report
):
    today = single_run(small(seed, periods=1), attribution=False)
    assert not today.periods
    later = periods_run(seed)
    write_run(today, tmp_path / "today")
    write_run(later, tmp_path / "periods")
    before, after = run_digests(tmp_path / "today"), run_digests(tmp_path / "periods")
    assert before  # every table of today's run ...
    assert {k: after.get(k) for k in before} == before  # ... is unchanged
    assert set(after) - set(before) == {f"{METRICS}.parquet", f"{FAMILIES}.parquet"}
    for stem in (METRICS, FAMILIES):
        assert (tmp_path / "periods" / f"{stem}.csv").is_file()


def test_period_one_rows_are_the_runs_audit(seed):
    result = periods_run(seed)
    metrics = result.periods[METRICS]
    first = metrics[metrics["period"] == 1].drop(columns="period")
    audit = pd.concat(
        [result.audit.metrics.overall, result.audit.metrics.by_group],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(first.reset_index(drop=True), audit)
    assert sorted(metrics["period"].unique()) == [1, 2, 3]


def test_later_periods_are_the_same_world_moving_on(seed):
    table = overall(periods_run(seed))
    assert (table["n"] == HOUSEHOLDS).all()
    assert (table.loc[1, ["needs_resolved", "needs_arisen"]] == 0).all()
    assert (table.loc[[2, 3], "needs_resolved"] > 0).all()
    assert (table.loc[[2, 3], "needs_arisen"] > 0).all()
    assert (table.loc[[2, 3], "flags_carried_over"] > 0).all()
    assert (table["needs_resolved_by_support"] == 0).all()  # support is off
    assert (table["deterred"] == 0).all()
    assert (table["needs_met"] + table["needs_missed"] == table["in_need"]).all()
    assert (table["needs_recorded"] <= table["true_needs"]).all()
    by_group = periods_run(seed).periods[FAMILIES]
    sums = by_group[by_group["group"] == "tenure"].groupby("period")["n"].sum()
    assert (sums == HOUSEHOLDS).all()


def test_the_same_scenario_gives_the_same_periods(seed):
    again = run(small(seed), attribution=False)
    for name, table in periods_run(seed).periods.items():
        pd.testing.assert_frame_equal(again.periods[name], table)


def test_support_lowers_next_periods_true_need(seed):
    off = overall(periods_run(seed))  # its periods 1 and 2 are a 2-period run's
    on = overall(periods_run(seed, 2, "support"))
    assert list(on.index) == [1, 2]
    pd.testing.assert_series_equal(on.loc[1], off.loc[1])  # period 1 untouched
    assert on.loc[2, "needs_resolved_by_support"] > 0
    assert on.loc[2, "true_needs"] < off.loc[2, "true_needs"]
    assert on.loc[2, "in_need"] <= off.loc[2, "in_need"]


def test_deterrence_lowers_recorded_not_true_need(seed):
    off = overall(periods_run(seed))
    on = overall(periods_run(seed, 3, "deterrence"))
    pd.testing.assert_series_equal(on["true_needs"], off["true_needs"])
    pd.testing.assert_series_equal(on["in_need"], off["in_need"])
    for period in (2, 3):
        assert on.loc[period, "needs_recorded"] < off.loc[period, "needs_recorded"]
        assert on.loc[period, "need_records"] < off.loc[period, "need_records"]
        assert on.loc[period, "deterred"] > 0
    assert on.loc[1, "needs_recorded"] == off.loc[1, "needs_recorded"]


def loop_scenario(seed: int) -> Scenario:
    """Equal true need in every area; deprived areas watched more from the start
    (the default visibility and background gradients); a strong surveillance loop
    (every agency watches; attention follows an area's flags steeply), so the
    loop's growth stands clear of one small world's noise.
    """
    equal = {
        need: {**Scenario().needs.need(need).model_dump(), "deprivation_odds_ratio": 1}
        for need in NEEDS
    }
    return Scenario.model_validate(
        {
            "name": "feedback-loop",
            "seed": seed,
            "population": {"n_households": 3_000, "households_per_area": 100},
            "needs": equal,
            "linkage": {"method": "oracle"},
            "audit": {"n_boot": 20, "min_group_size": 0},
            "dynamics": {
                "periods": 3,
                "surveillance": {
                    "enabled": True,
                    "sources": list(AGENCIES),
                    "area_ratio": 8.0,
                    "background_ratio": 2.0,
                },
            },
        }
    )


LOOP_WORLDS = (1, 2, 3)
"""The loop test's worlds: the first three seeds, fixed before looking."""


def test_surveillance_grows_the_watched_groups_share_of_flags():
    """The deprived half of areas (quintiles 1-2) is watched more at the start and
    has the same true need: its share of flags, pooled over three worlds, grows
    period over period, beyond what its share of need does.

    Pooled, not world by world: in one small world (30 areas) the deprived half can
    start with fewer flags than its share (seed 231888260: 0.435 of flags), and the
    loop then feeds the areas that had more, so its share need not grow there
    (0.435, 0.466, 0.435). Across worlds the loop's direction is the watched half's.
    """
    metrics = pd.concat(
        [
            run(loop_scenario(seed), attribution=False).periods[METRICS]
            for seed in LOOP_WORLDS
        ]
    )
    quintiles = metrics[metrics["group"] == "imd_quintile"]
    watched = quintiles[quintiles["value"].isin(["1", "2"])]
    share = (
        watched.groupby("period")["n_flagged"].sum()
        / quintiles.groupby("period")["n_flagged"].sum()
    )
    need_share = (
        watched.groupby("period")["n_positive"].sum()
        / quintiles.groupby("period")["n_positive"].sum()
    )
    assert share.loc[2] > share.loc[1]
    assert share.loc[3] > share.loc[2]
    gap = share - need_share  # grows beyond what the need itself does
    assert gap.loc[3] > gap.loc[1]


@pytest.mark.parametrize("bad", [0, 11])
def test_periods_are_checked(bad):
    with pytest.raises(ValueError, match="periods"):
        small(1, periods=bad)


def test_history_keeps_families_known_to_services(seed):
    off = overall(periods_run(seed))
    on = overall(periods_run(seed, 3, "history"))
    pd.testing.assert_series_equal(on.loc[1], off.loc[1])
    pd.testing.assert_series_equal(on["true_needs"], off["true_needs"])
    assert (off["flagged_by_history"] == 0).all()
    for period in (2, 3):
        assert on.loc[period, "flagged_by_history"] > 0
        assert on.loc[period, "flagged"] > off.loc[period, "flagged"]
        assert (
            on.loc[period, "flags_carried_over"] > off.loc[period, "flags_carried_over"]
        )
