"""What other cuts would do: the threshold curves by deprivation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits.report import charts
from audits.report.curves import actual_cut, threshold_curves
from audits.report.describe import flag_rule_text
from audits.report.inputs import ReportInputs
from audits.report.page import (
    Html,
    figure,
    join,
    p,
    table,
)
from audits.report.sections.common import (
    no_audit,
    one_world_note,
    target_words,
)
from audits.report.text import (
    group_label,
    pct,
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


def threshold_section(inputs: ReportInputs) -> Html:
    """FPR and TPR at every threshold, by deprivation quintile, with the cut."""
    if inputs.audit is None or inputs.audit.outcomes is None:
        return no_audit()
    outcomes = inputs.audit.outcomes
    grouping = next(
        (c for c in DEPRIVATION if c in outcomes),
        inputs.audit.config.group_columns[0],
    )
    rule = inputs.scenario.model.flag_rule()
    cut = actual_cut(inputs.flags, rule)
    curves = threshold_curves(outcomes, grouping)
    at_cut = threshold_curves(outcomes, grouping, cuts=np.array([cut]))
    rows = [
        [value_label(grouping, r["value"]), pct(r["fpr"]), pct(r["tpr"])]
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
            *one_world_note(
                inputs,
                "These curves and the table under them show",
                "the curves need every family's score, which the run keeps for the "
                "first world only",
            ),
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
                    right=_threshold_axis_end(outcomes["score"], cut, len(curves)),
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
