"""How good the score is in each group, whatever the cut: AUC, calibration, curves.

Shared by every report with scores (a run's, ``audit RUN_DIR``, ``audit --scores``
and ``audit --table --score``): it reads only the audit's
:class:`~audits.score_diagnostics.ScoreDiagnostics`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from audits.report.charts.scores import calibration_chart, score_curves_chart
from audits.report.curves import actual_cut
from audits.report.inputs import ReportInputs
from audits.report.page import Html, figure, join, p, table, tag
from audits.report.sections.common import no_audit, one_world_note
from audits.report.text import count, group_label, num, value_label
from audits.result import AuditResult
from audits.score_diagnostics import CALIBRATION_BINS, MAX_POINTS
from simulator.vocabulary import DEPRIVATION


def no_scores(unit: str) -> Html:
    """The section's text when the audit had decisions but no scores."""
    return p(
        f"The decisions were given as 0/1 flags without scores, so there is nothing "
        f"to rank or calibrate: the AUC, calibration and threshold curves need a "
        f"score for each of the {unit}."
    )


def _auc_rows(result: AuditResult) -> list[list[object]]:
    assert result.scores is not None
    rows = []
    for _, r in result.scores.auc.iterrows():  # one row per group, not per record
        rows.append(
            [
                group_label(r["group"]) if r["group"] != "overall" else "everyone",
                value_label(r["group"], r["value"]) if r["group"] != "overall" else "",
                count(r["n"]),
                count(r["n_positive"]),
                count(r["n_negative"]),
                num(r["auc"], 3) if np.isfinite(r["auc"]) else r["note"],
            ]
        )
    return rows


def _charts(result: AuditResult, grouping: str, cut: float, unit: str) -> list[Html]:
    """The calibration and threshold charts of one grouping."""
    assert result.scores is not None
    slug = "".join(ch if ch.isalnum() else "-" for ch in grouping.lower())
    cal = result.scores.calibration
    cal = cal[(cal["group"] == grouping) & (cal["bin"] > 0)]
    curves = result.scores.curves
    curves = curves[curves["group"] == grouping]
    target = result.config.target
    return [
        tag("h3", f"By {group_label(grouping)}"),
        figure(
            calibration_chart(cal, grouping, f"calibration-{slug}"),
            f"for each score bin, the share of the {unit} in it with {target} = 1, "
            "one line per group, against the bin's mean score.",
            "lines close together mean a score says the same thing in every group; "
            "a line above the others means that group's "
            f"{unit} with a given score have the outcome more often.",
        ),
        figure(
            score_curves_chart(curves, grouping, f"score-curves-{slug}", cut),
            f"if every one of the {unit} scoring at least the threshold were flagged: "
            "the share flagged, the false positive rate, the false negative rate and "
            "the precision, one line per group"
            + ("; the dashed line is the cut used." if np.isfinite(cut) else "."),
            "moving right flags fewer: fewer wrong flags, more missed. Where lines "
            "stay apart at every threshold, no single cut treats the groups alike.",
        ),
    ]


def score_section(
    result: AuditResult | None,
    unit: str,
    groupings: Sequence[str],
    cut: float = np.nan,
) -> Html:
    """AUC by group, then calibration and threshold charts of ``groupings``.

    Parameters
    ----------
    result : AuditResult or None
        The audit (None, or no scores: the section says there is nothing to show).
    unit : str
        What one audited row is ("families", "rows").
    groupings : sequence of str
        The groupings to chart (the AUC table has every grouping).
    cut : float
        The cut actually used, marked on the threshold charts (NaN: none).
    """
    if result is None or result.scores is None:
        return no_scores(unit)
    target = result.config.target
    return join(
        [
            p(
                "A score can be judged apart from the cut that turns it into flags. "
                f"The AUC is the chance that one of the {unit} with {target} = 1 "
                f"scores above one with {target} = 0 (ties count half): 0.5 is no "
                "better than chance, 1 a perfect ranking. A group whose "
                f"{unit} all have the same outcome has no AUC, and the table says so."
            ),
            table(
                ["grouping", "group", unit, f"{target} = 1", f"{target} = 0", "AUC"],
                _auc_rows(result),
                numeric=[2, 3, 4, 5],
                caption="Area under the ROC curve, by group",
            ),
            p(
                f"Calibration: the scores are cut into {CALIBRATION_BINS} bins at the "
                "deciles of every scored row (one bin per score value when there are "
                f"no more values than that), the same bins for every group; "
                f"{unit} without a score are counted apart. The threshold curves are "
                f"evaluated at up to {MAX_POINTS} thresholds shared by every group.",
                class_="small",
            ),
            *(
                part
                for grouping in groupings  # a few groupings
                for part in _charts(result, grouping, cut, unit)
            ),
            p(
                "The numbers behind these charts are beside this report: "
                "score_auc, calibration and threshold_curves (CSV and Parquet).",
                class_="small",
            ),
        ]
    )


def run_score_section(inputs: ReportInputs) -> Html:
    """The run report's section: AUC by group, charts by deprivation.

    The charts are of the deprivation grouping (or the first), with the scenario's
    cut marked.
    """
    audit = inputs.audit
    if audit is None:
        return no_audit()
    columns = audit.config.group_columns
    grouping = next((c for c in DEPRIVATION if c in columns), columns[0])
    cut = actual_cut(inputs.flags, inputs.scenario.model.flag_rule())
    return join(
        [
            *one_world_note(
                inputs,
                "This section shows",
                "it needs every family's score, which the run keeps for the first "
                "world only",
            ),
            score_section(audit, "families", [grouping], cut),
        ]
    )
