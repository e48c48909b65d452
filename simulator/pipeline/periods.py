"""A run over periods: the single run, then the same world moving on (``dynamics:``).

Period 1 is :func:`simulator.pipeline.run.run`, untouched, so its files are those of
a single run byte for byte. Each later period, on the truth side, needs move on and
earlier flags act (:mod:`simulator.world.dynamics`); the agencies record the
period's world afresh (:func:`simulator.world.generate.records_again`); then the
council, with the model it already has and the family index (spine) it already
holds, links, builds its view, scores and flags
(:func:`simulator.pipeline.run.council_run`), and the flags are audited. The
council side sees only the period's records, never the truth; flags reach the
truth through the audit's join (:func:`audits.outcomes.household_outcomes`).

The attribution ladder and the replicates stay period 1's. With attribution asked
for, each later period is also run without feedback (:func:`without_feedback`):
the same world state (the period's true needs), recorded with no effect of an
earlier flag and scored with no history; a wrong flag present with feedback and
absent without is put down to the loop itself (docs/audit.md, "Feedback"). The
periods add the tables of :mod:`audits.periods`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from audits.periods import (
    FAMILIES,
    METRICS,
    PeriodFacts,
    period_families,
    period_metrics,
)
from simulator.council.history import count_flags, with_history
from simulator.pipeline.run import (
    Council,
    Run,
    audit_council,
    council_run,
    stage_bar,
)
from simulator.pipeline.run import run as single_run
from simulator.schema.scenario import Scenario
from simulator.world.agencies.base import RecordShifts
from simulator.world.dynamics import (
    family_factor,
    next_needs,
    period_scenario,
    record_shifts,
)
from simulator.world.generate import SyntheticData, records_again
from simulator.world.population import Calibration

logger = logging.getLogger(__name__)


def run(scenario: Scenario, **options: Any) -> Run:
    """Run a scenario over its periods: :func:`simulator.pipeline.run.run`, then more.

    With ``dynamics.periods`` 1 this is exactly the single run. Otherwise the run's
    ``periods`` holds the per-period tables (:func:`run_periods`), with the
    feedback's wrong flags when ``attribution`` is asked for (the default).
    ``options`` are those of :func:`simulator.pipeline.run.run`.
    """
    first = single_run(scenario, **options)
    if scenario.dynamics.periods == 1:
        return first
    with first.timings.stage("periods"):
        tables = run_periods(
            first,
            progress=bool(options.get("progress", False)),
            feedback=bool(options.get("attribution", True)),
        )
    return replace(first, periods=tables)


def _first_facts(first: Run, feedback: bool) -> PeriodFacts:
    """Period 1's facts: the single run's outcomes and records, nothing moved yet.

    With ``feedback``, its flags without feedback are its flags: nothing came
    before period 1.
    """
    n = len(first.data.households)
    zeros = np.zeros(n, np.int64)
    assert first.audit.outcomes is not None  # a run keeps its outcomes
    return PeriodFacts(
        1,
        first.audit.outcomes,
        first.data.sources,
        np.zeros(n, bool),
        np.zeros(n, bool),
        np.zeros(n, bool),
        zeros,
        zeros,
        zeros,
        np.zeros(n, bool),
        first.audit.outcomes["flagged"].to_numpy(dtype=bool) if feedback else None,
    )


def without_feedback(
    first: Run,
    world: Scenario,
    households: pd.DataFrame,
    shifts: RecordShifts | None,
    model_only: np.ndarray,
) -> np.ndarray:
    """Whom the period's flags would reach with no feedback from earlier flags.

    The same world state (``households``: the period's true needs, support's
    resolved needs included) and the period's seed, recorded with no
    surveillance or deterrence shift and scored with no history points.

    Parameters
    ----------
    first : Run
        Period 1 (its people, areas, spine and model).
    world : Scenario
        The period's scenario (:func:`simulator.world.dynamics.period_scenario`).
    households : DataFrame
        The period's truth table.
    shifts : RecordShifts or None
        The period's record shifts; None: the records are those of no feedback
        already, so ``model_only`` is the answer and nothing is run again.
    model_only : ndarray of bool
        Per true household, whether the model's own flags (before history) reached
        it, on the period's records.

    Returns
    -------
    ndarray of bool
        Per true household, in the truth's order.
    """
    if shifts is None:
        return model_only
    data = first.data
    sources = records_again(world, households, data.people, None)
    now = SyntheticData(world, data.areas, households, data.people, sources, data.spine)
    outcomes = audit_council(now, council_run(now, world, first.model), world)
    return outcomes["flagged"].to_numpy(dtype=bool)


def remembered(
    council: Council, past: pd.Series, scenario: Scenario
) -> tuple[Council, pd.Series]:
    """The council's flags with its past flags in the score, and the new counts.

    With ``dynamics.history`` on (:func:`simulator.council.history.with_history`);
    the council's own tables only.
    """
    history = scenario.dynamics.history
    flags = with_history(
        council.flags, past, history.points, scenario.model.flag_rule()
    )
    return replace(council, flags=flags), count_flags(past, flags)


def run_periods(
    first: Run, *, progress: bool = False, feedback: bool = False
) -> dict[str, pd.DataFrame]:
    """Periods 2, 3, ... of a run's world, and every period's tables.

    Parameters
    ----------
    first : Run
        The single run (period 1), with its outcomes and fitted model.
    progress : bool
        Show a progress bar over the periods.
    feedback : bool
        Also run each later period without feedback (:func:`without_feedback`)
        and count the wrong flags and missed families it alone makes.

    Returns
    -------
    dict of str to DataFrame
        :data:`audits.periods.METRICS` and :data:`audits.periods.FAMILIES`, every
        period's rows one after another.
    """
    scenario, data = first.scenario, first.data
    config = scenario.audit
    cal = Calibration.from_scenario(scenario)
    facts = _first_facts(first, feedback)
    households = data.households
    times_flagged = np.zeros(len(households), np.int64)
    common = family_factor(scenario, households["household_id"].to_numpy())
    history = scenario.dynamics.history.enabled
    past = count_flags(None, first.council.flags)
    metrics = [period_metrics(facts.outcomes, config, 1)]
    families = [period_families(facts, config)]
    periods = scenario.dynamics.periods
    with stage_bar("periods", periods - 1, progress) as bar:
        for period in range(2, periods + 1):
            flagged = facts.outcomes["flagged"].to_numpy(dtype=bool)
            times_flagged = times_flagged + flagged
            world = period_scenario(scenario, period)
            moved = next_needs(households, data.people, flagged, world, cal, common)
            households = moved.households
            shifts, deterred, neighbours = record_shifts(
                households, times_flagged, scenario.dynamics
            )
            sources = records_again(world, households, data.people, shifts)
            now = SyntheticData(
                world, data.areas, households, data.people, sources, data.spine
            )
            council = council_run(now, world, first.model)
            outcomes = audit_council(now, council, world)
            by_history = np.zeros(len(households), bool)
            model_only = outcomes["flagged"].to_numpy(dtype=bool)
            if history:
                council, past = remembered(council, past, scenario)
                outcomes = audit_council(now, council, world)
                by_history = outcomes["flagged"].to_numpy(dtype=bool) & ~model_only
            unfed = (
                without_feedback(first, world, households, shifts, model_only)
                if feedback
                else None
            )
            facts = PeriodFacts(
                period,
                outcomes,
                sources,
                flagged,
                deterred,
                neighbours,
                moved.resolved,
                moved.supported,
                moved.arisen,
                by_history,
                unfed,
            )
            metrics.append(period_metrics(outcomes, config, period))
            families.append(period_families(facts, config))
            logger.info(
                "period %d: %d families flagged, %d in need",
                period,
                int(outcomes["flagged"].sum()),
                int(outcomes["y_true"].sum()),
            )
            bar.update()
    return {
        METRICS: pd.concat(metrics, ignore_index=True),
        FAMILIES: pd.concat(families, ignore_index=True),
    }
