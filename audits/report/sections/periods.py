"""Over time: the headline and families' fates in every period of a run over periods.

Shown only when the run has more than one period (``dynamics.periods``); a single
run's report has no such section, so it reads exactly as before. Reads the tables
of :mod:`audits.periods` and asks each period the headline question
(:mod:`audits.periods_headline`), as the console does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits.periods import FAMILIES, METRICS
from audits.periods_headline import (
    PeriodQuestion,
    headline_over_periods,
    period_question,
)
from audits.report.charts.periods import periods_chart
from audits.report.inputs import ReportInputs
from audits.report.page import Html, figure, join, note, p, table
from audits.report.sections.common import no_audit, target_families
from audits.report.text import count, join_words, pct, plural, value_label
from simulator.vocabulary import OVERALL

EFFECTS = {
    "surveillance": "flagged families, and areas with many flags, were watched more",
    "support": "flagged families in need were offered support",
    "deterrence": "flagged families, and less so their neighbours, sought help less",
    "history": "the council's past flags counted in its score",
}
"""Each effect of a flag (``dynamics.*.enabled``), in words."""


def has_periods(inputs: ReportInputs) -> bool:
    """Whether the run has more than one period (the section is shown)."""
    metrics = inputs.periods.get(METRICS)
    return metrics is not None and metrics["period"].nunique() > 1


def _effects(inputs: ReportInputs) -> str:
    """What flags did next in this run, in words."""
    dyn = inputs.scenario.dynamics
    on = [words for name, words in EFFECTS.items() if getattr(dyn, name).enabled]
    if not on:
        return (
            "No effect of a flag was switched on, so the periods differ only as the "
            "world moves on by chance."
        )
    return f"What flags did next: {join_words(on)}."


def _points(x: float) -> str:
    """A difference of two rates in percentage points."""
    return "n/a" if not np.isfinite(x) else f"{100 * x:+.1f} points"


def _rows(head: pd.DataFrame, families: pd.DataFrame) -> list[list[str]]:
    """One table row a period: the headline, then the families' counts.

    With the feedback's attribution, the wrong flags and those put down to
    feedback close the row.
    """
    overall = families[families["group"] == OVERALL].set_index("period")
    fed = "wrongly_flagged_by_feedback" in overall
    rows = []
    for r in head.itertuples():  # one row a period, at most 10
        f = overall.loc[r.period]
        row = [
            str(int(r.period)),
            pct(r.group_rate),
            pct(r.reference_rate),
            _points(r.difference),
            count(f["flagged"]),
            count(f["needs_met"]),
            count(f["needs_missed"]),
            count(f["deterred"]),
            count(f["flags_carried_over"]),
        ]
        if fed:
            row += [
                count(f["wrongly_flagged"]),
                count(f["wrongly_flagged_by_feedback"]),
            ]
        rows.append(row)
    return rows


def _headline_parts(inputs: ReportInputs, question: PeriodQuestion) -> list[Html]:
    """The chart and the table of the headline over periods."""
    metrics, families = inputs.periods[METRICS], inputs.periods[FAMILIES]
    head = headline_over_periods(metrics, question)
    group = value_label(question.grouping, question.group)
    reference = value_label(question.grouping, question.reference)
    words = question.words().split(",")[0]
    who = target_families(inputs)
    fed = "wrongly_flagged_by_feedback" in families
    feedback_headers = ["wrongly flagged", "of them, by feedback"] if fed else []
    return [
        figure(
            periods_chart(metrics, families, question.metric, words, question.grouping),
            f"left, the {words} of each group in every period; right, {who} whom a "
            "flag reached or missed, families deterred by a flag of their own and "
            "families flagged again after a flag the period before.",
            "a line that climbs while the others stay flat is a group the flags "
            "feed back on; needs missed rising while families are deterred is "
            "families who stopped being seen.",
        ),
        table(
            [
                "period",
                f"{words}: {group}",
                reference,
                "difference",
                "flagged",
                f"{who}, flagged",
                f"{who}, missed",
                "deterred",
                "flagged again",
                *feedback_headers,
            ],
            _rows(head, families),
            numeric=range(1, 9 + len(feedback_headers)),
            caption=f"The headline question, {question.words()}, in every period; "
            "counts over every group",
        ),
    ]


def periods_section(inputs: ReportInputs) -> Html:
    """The headline by group across periods, with needs met and missed, and more."""
    if inputs.audit is None:
        return no_audit()
    n = int(inputs.periods[METRICS]["period"].nunique())
    question = period_question(inputs.audit)
    parts = [
        p(
            f"This run followed the same world for {plural(n, 'period')} (years). "
            "Period 1 is the run the rest of this report describes; each later "
            "period the needs move on, the agencies record again and the council "
            "links, scores and flags with the model it already had. " + _effects(inputs)
        ),
        *(
            _headline_parts(inputs, question)
            if question is not None
            else [note("The headline's grouping was not audited.", kind="warning")]
        ),
        note(
            "The other sections, the attribution ladder and the case files describe "
            "period 1. A wrong flag is put down to feedback when the same period, "
            "run again from the same needs with no effect of an earlier flag, does "
            "not make it. Every period's tables are in periods/metrics_by_group and "
            "periods/families."
        ),
    ]
    return join(parts)
