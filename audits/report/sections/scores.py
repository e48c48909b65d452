"""How good the score is in each group, whatever the cut: AUC, calibration, curves.

Shared by every report with scores (a run's, ``audit RUN_DIR``, ``audit --scores``
and ``audit --table --score``): it reads only the audit's
:class:`~audits.score_diagnostics.ScoreDiagnostics`. With replicate worlds whose
families were kept, the run's section pools them
(:func:`audits.pooled_scores.pooled_score_diagnostics`): each AUC is that of every
world's families together, with the smallest and largest world's own beside it, and
calibration counts are summed over the worlds in one set of bins, with a band from
the smallest to the largest world's rate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from audits.pooled_scores import pooled_score_diagnostics
from audits.report.charts.scores import (
    auc_chart,
    calibration_chart,
    score_curves_chart,
)
from audits.report.curves import run_cut
from audits.report.inputs import ReportInputs
from audits.report.page import Html, figure, join, note, p, table, tag
from audits.report.sections.common import no_audit, one_world_note
from audits.report.text import count, group_label, interval, num, plural, value_label
from audits.result import AuditResult
from audits.score_diagnostics import CALIBRATION_BINS, MAX_POINTS, ScoreDiagnostics
from simulator.vocabulary import DEPRIVATION


def no_scores(unit: str) -> Html:
    """The section's text when the audit had decisions but no scores."""
    return p(
        f"The decisions were given as 0/1 flags without scores, so there is nothing "
        f"to rank or calibrate: the AUC, calibration and threshold curves need a "
        f"score for each of the {unit}."
    )


def _pooled(scores: ScoreDiagnostics) -> bool:
    """Whether ``scores`` pool several worlds (they then carry each world's range)."""
    return "auc_low" in scores.auc and bool((scores.auc["worlds"] > 1).any())


def _auc_rows(scores: ScoreDiagnostics) -> list[list[object]]:
    """The AUC table's rows; pooled, with the smallest to largest world's AUC."""
    spread = _pooled(scores)
    rows = []
    for _, r in scores.auc.iterrows():  # one row per group, not per record
        row = [
            group_label(r["group"]) if r["group"] != "overall" else "everyone",
            value_label(r["group"], r["value"]) if r["group"] != "overall" else "",
            count(r["n"]),
            count(r["n_positive"]),
            count(r["n_negative"]),
            num(r["auc"], 3) if np.isfinite(r["auc"]) else r["note"],
        ]
        if spread:
            row.append(interval(r["auc_low"], r["auc_high"], lambda x: num(x, 3)))
        rows.append(row)
    return rows


def _auc_table(scores: ScoreDiagnostics, unit: str, target: str) -> Html:
    """Area under the ROC curve by group (pooled: with one world's range)."""
    headers = ["grouping", "group", unit, f"{target} = 1", f"{target} = 0", "AUC"]
    spread = _pooled(scores)
    return table(
        headers + (["one world's AUC, lowest to highest"] if spread else []),
        _auc_rows(scores),
        numeric=[2, 3, 4, 5, 6] if spread else [2, 3, 4, 5],
        caption="Area under the ROC curve, by group"
        + (", every world's families together" if spread else ""),
    )


def _auc_figure(
    scores: ScoreDiagnostics, grouping: str, slug: str, unit: str
) -> list[Html]:
    """The chart of a grouping's pooled AUC and each world's (none for one world)."""
    if not _pooled(scores):
        return []
    auc = scores.auc[scores.auc["group"] == grouping]
    return [
        figure(
            auc_chart(auc, grouping, f"auc-{slug}"),
            f"each group's AUC over every world's {unit} together (a dot), and the "
            "lowest and highest AUC of one world (grey diamonds).",
            "dots further right rank the group's "
            f"{unit} better; diamonds far apart mean the worlds disagree, so a "
            "gap between groups smaller than that spread may be chance.",
        )
    ]


def _charts(
    scores: ScoreDiagnostics, grouping: str, cut: float, unit: str, target: str
) -> list[Html]:
    """The calibration and threshold charts of one grouping."""
    slug = "".join(ch if ch.isalnum() else "-" for ch in grouping.lower())
    cal = scores.calibration
    cal = cal[(cal["group"] == grouping) & (cal["bin"] > 0)]
    curves = scores.curves
    curves = curves[curves["group"] == grouping]
    band = (
        "; the shaded band spans the smallest to largest world's rate in the bin"
        if _pooled(scores)
        else ""
    )
    return [
        tag("h3", f"By {group_label(grouping)}"),
        *_auc_figure(scores, grouping, slug, unit),
        figure(
            calibration_chart(cal, grouping, f"calibration-{slug}"),
            f"for each score bin, the share of the {unit} in it with {target} = 1, "
            f"one line per group, against the bin's mean score{band}.",
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


def kept_worlds(result: AuditResult) -> list[pd.DataFrame]:
    """The scored families of every world that kept them, replicate 0 first."""
    return [
        w.outcomes
        for w in result.worlds
        if w.outcomes is not None and w.scores is not None and "score" in w.outcomes
    ]


def section_scores(result: AuditResult) -> tuple[ScoreDiagnostics, int]:
    """The diagnostics to show and how many worlds they pool.

    The first world's own with one world (or one kept); else every kept world's
    families pooled (:func:`~audits.pooled_scores.pooled_score_diagnostics`).
    """
    assert result.scores is not None
    kept = kept_worlds(result)
    if len(kept) <= 1:
        return result.scores, 1
    pooled = pooled_score_diagnostics(
        kept,
        result.config.column_sets(),
        target=result.config.target,
        weight=getattr(result.config, "weight", None),
    )
    return pooled, len(kept)


def _pooled_note(result: AuditResult, kept: int) -> list[Html]:
    """How the section pools the worlds (nothing for one world)."""
    if kept <= 1:
        return []
    missing = len(result.worlds) - kept
    return [
        note(
            f"This section pools {plural(kept, 'simulated world')}: each AUC is "
            "that of every world's families together (a family with the outcome "
            "from any world against one without it from any world), with the "
            "smallest and largest world's own AUC beside it; the calibration bins "
            "are the deciles of every world's scores, their counts summed over the "
            "worlds; the threshold curves are those of the summed counts."
            + (
                f" The families of {plural(missing, 'other world')} were not kept."
                if missing
                else ""
            )
        )
    ]


def score_section(
    result: AuditResult | None,
    unit: str,
    groupings: Sequence[str],
    cut: float = np.nan,
) -> Html:
    """AUC by group, then calibration and threshold charts of ``groupings``.

    With several worlds that kept their families, every figure pools them
    (:func:`section_scores`).

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
    scores, kept = section_scores(result)
    files = (
        "The numbers behind these charts are beside this report: "
        "score_auc, calibration and threshold_curves (CSV and Parquet)."
        if kept <= 1
        else "These pooled figures are in this report only. The files beside it "
        "(score_auc, calibration and threshold_curves, CSV and Parquet) are the "
        "first world's; replicates/ holds every world's own, with a replicate column."
    )
    return join(
        [
            *_pooled_note(result, kept),
            p(
                "A score can be judged apart from the cut that turns it into flags. "
                f"The AUC is the chance that one of the {unit} with {target} = 1 "
                f"scores above one with {target} = 0 (ties count half): 0.5 is no "
                "better than chance, 1 a perfect ranking. A group whose "
                f"{unit} all have the same outcome has no AUC, and the table says so."
            ),
            _auc_table(scores, unit, target),
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
                for part in _charts(scores, grouping, cut, unit, target)
            ),
            p(files, class_="small"),
        ]
    )


def run_score_section(inputs: ReportInputs) -> Html:
    """The run report's section: AUC by group, charts by deprivation.

    The charts are of the deprivation grouping (or the first), with the scenario's
    cut marked. With replicate worlds that kept their families the section pools
    them; an audit whose other worlds kept none says it shows the first world.
    """
    audit = inputs.audit
    if audit is None:
        return no_audit()
    columns = audit.config.group_columns
    grouping = next((c for c in DEPRIVATION if c in columns), columns[0])
    cut = run_cut(inputs.tables, inputs.scenario.model.flag_rule())
    pooled = len(kept_worlds(audit)) > 1
    return join(
        [
            *(
                []
                if pooled
                else one_world_note(
                    inputs,
                    "This section shows",
                    "it needs every family's score, which was kept for the first "
                    "world only",
                )
            ),
            score_section(audit, "families", [grouping], cut),
        ]
    )
