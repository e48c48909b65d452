"""What other cuts would do: the threshold curves by deprivation, over every world.

With replicate worlds the curves pool every world whose families the run kept
(:func:`audits.report.curves.pooled_threshold_curves`): at each cut, the rate of the
families summed over the worlds, with a band from the smallest to the largest world's
rate. The table at the scenario's cut pools each world at its own cut.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits.report import charts
from audits.report.curves import actual_cut, pooled_threshold_curves, run_cut
from audits.report.describe import flag_rule_text
from audits.report.inputs import ReportInputs
from audits.report.page import (
    Html,
    figure,
    join,
    note,
    p,
    table,
)
from audits.report.sections.common import (
    no_audit,
    one_world_note,
    target_words,
    worlds,
)
from audits.report.text import (
    group_label,
    interval,
    pct,
    plural,
    value_label,
)
from simulator.vocabulary import DEPRIVATION


def _threshold_axis_end(score: pd.Series, cut: float, points: int) -> float | None:
    """Where to end the threshold axis of many-valued scores (None: at the top).

    Scores with few values (a criteria count) keep their whole range; continuous
    scores end past the 99.5th percentile and the cut, not at a lone high score.
    """
    values = score.to_numpy(dtype=float, na_value=np.nan)
    values = values[np.isfinite(values)]
    if points < 60 or not len(values):
        return None
    end = float(np.quantile(values, 0.995))
    if np.isfinite(cut):
        end = max(end, cut * 1.5)
    return end if end < values.max() else None


def _worlds_note(inputs: ReportInputs, kept: int) -> list[Html]:
    """How the curves pool several worlds (nothing for one world).

    ``kept`` worlds kept their families' outcomes (a run keeps every world's; an
    audit read back from files written before may hold the first world's only).
    """
    asked = worlds(inputs)
    if kept <= 1:
        return one_world_note(
            inputs,
            "These curves and the table under them show",
            "the curves need every family's score, which was kept for the first "
            "world only",
        )
    missing = (
        f" The families of {plural(asked - kept, 'other world')} were not kept."
        if kept < asked
        else ""
    )
    return [
        note(
            "These curves and the table under them pool "
            f"{plural(kept, 'simulated world')}: at each cut, the families summed "
            "over the worlds; the shaded band spans the smallest to largest world's "
            "rate, and the table gives it beside each rate. With a top-percent or "
            "budget rule each world is taken at its own cut in the table; the "
            f"dashed line is the first world's.{missing}"
        )
    ]


def _at_cut_cell(row: pd.Series, metric: str, spread: bool) -> str:
    """A rate at the cut, with the worlds' range under it when there are several."""
    if not spread:
        return pct(row[metric])
    low, high = row[f"{metric}_low"], row[f"{metric}_high"]
    return f"{pct(row[metric])} (worlds {interval(low, high)})"


def threshold_section(inputs: ReportInputs) -> Html:
    """FPR and TPR at every threshold, by deprivation quintile, with the cut."""
    if inputs.audit is None or inputs.audit.outcomes is None:
        return no_audit()
    outcomes = inputs.audit.outcomes
    kept = [w.outcomes for w in inputs.audit.worlds if w.outcomes is not None]
    grouping = next(
        (c for c in DEPRIVATION if c in outcomes),
        inputs.audit.config.group_columns[0],
    )
    rule = inputs.scenario.model.flag_rule()
    cut = run_cut(inputs.tables, rule)
    # Replicate worlds are known by their outcomes: their cut is the lowest score
    # of a family a flag reached (the threshold, for a threshold rule).
    cuts = [np.array([cut])] + [np.array([actual_cut(o, rule)]) for o in kept[1:]]
    curves = pooled_threshold_curves(kept, grouping)
    at_cut = pooled_threshold_curves(kept, grouping, cuts=cuts)
    spread = len(kept) > 1
    rows = [
        [
            value_label(grouping, r["value"]),
            _at_cut_cell(r, "fpr", spread),
            _at_cut_cell(r, "tpr", spread),
        ]
        for _, r in at_cut.iterrows()  # a handful of groups
    ]
    tie_note = (
        ""
        if rule.threshold is not None
        else " With a top-percent or budget rule, households tied at the cut may be "
        "split; the curves count all of them as flagged."
    )
    return join(
        [
            *_worlds_note(inputs, len(kept)),
            p(
                f"The council's model gives every household a score and "
                f"{flag_rule_text(rule)} (the cut: {cut:.3g}). A different cut "
                "would flag a different number of families. These curves show, for "
                "every possible cut, how many families would be wrongly flagged and "
                f"how many found, in each {group_label(grouping)} group.{tie_note}"
            ),
            figure(
                charts.threshold_chart(
                    curves,
                    cut,
                    grouping,
                    in_target=target_words(inputs),
                    right=_threshold_axis_end(
                        pd.concat([o["score"] for o in kept]), cut, len(curves)
                    ),
                ),
                "the false positive rate (left) and true positive rate (right) that "
                "each cut of the score would give, one line per group; the dashed "
                "line is the scenario's cut.",
                "moving the cut to the right flags fewer families: fewer wrong flags "
                "but more families missed. Where the lines are far apart at the "
                "dashed line, the same rule treats the groups differently; no cut "
                "closes the gap if the lines stay apart everywhere.",
            ),
            table(
                [group_label(grouping), "false positive rate", "true positive rate"],
                rows,
                numeric=[1, 2],
                caption="At the scenario's cut",
            ),
        ]
    )
