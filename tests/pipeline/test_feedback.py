"""The feedback's attribution: later wrong flags made only because of the loop."""

from __future__ import annotations

import functools

import pandas as pd

from audits.periods import FAMILIES, FEEDBACK_COUNTS
from simulator.pipeline.periods import run_periods
from simulator.pipeline.run import run as single_run
from simulator.vocabulary import OVERALL
from tests.pipeline.test_periods import overall, periods_run, small


@functools.cache
def fed(seed: int, effect: str | None) -> pd.DataFrame:
    """Periods 1 to 3 with one effect on (or none), with the feedback counted."""
    dynamics = {effect: {"enabled": True}} if effect else {}
    first = single_run(small(seed, 3, **dynamics), attribution=False)
    families = run_periods(first, feedback=True)[FAMILIES]
    return families[families["group"] == OVERALL].set_index("period")


def test_with_every_effect_off_nothing_is_put_down_to_feedback(seed):
    table = fed(seed, None)
    assert (table["wrongly_flagged"] > 0).all()
    assert (table["wrongly_flagged_by_feedback"] == 0).all()
    assert (table["missed_by_feedback"] == 0).all()
    # the counts of a run without the attribution are the same
    plain = overall(periods_run(seed))
    pd.testing.assert_frame_equal(table.drop(columns=list(FEEDBACK_COUNTS)), plain)


def test_surveillance_makes_wrong_flags_the_loop_is_blamed_for(seed):
    table = fed(seed, "surveillance")
    off = overall(periods_run(seed))
    assert table.loc[1, "wrongly_flagged_by_feedback"] == 0  # nothing came before
    for period in (2, 3):
        caused = table.loc[period, "wrongly_flagged_by_feedback"]
        assert caused > 0
        # surveillance leaves needs alone, so the period run without feedback is
        # the run with every effect off: every other wrong flag is one of its own
        others = table.loc[period, "wrongly_flagged"] - caused
        assert others <= off.loc[period, "flagged"] - off.loc[period, "needs_met"]
        assert table.loc[period, "wrongly_flagged"] == (
            table.loc[period, "flagged"] - table.loc[period, "needs_met"]
        )


def test_history_is_feedback_only_through_the_flags_it_adds(seed):
    table = fed(seed, "history")
    for period in (2, 3):
        caused = table.loc[period, "wrongly_flagged_by_feedback"]
        assert 0 < caused <= table.loc[period, "flagged_by_history"]
    assert (table["missed_by_feedback"] == 0).all()  # a threshold rule only adds


def test_deterrence_misses_families_because_of_the_loop(seed):
    table = fed(seed, "deterrence")
    assert table.loc[1, "missed_by_feedback"] == 0
    assert (table.loc[[2, 3], "missed_by_feedback"] > 0).all()


def test_a_run_without_attribution_leaves_the_feedback_out(seed):
    result = periods_run(seed)  # the module's run over 3 periods, attribution off
    assert not set(FEEDBACK_COUNTS) & set(result.periods[FAMILIES].columns)
