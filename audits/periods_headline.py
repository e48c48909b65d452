"""The headline across periods: one group's rate against its reference, per period.

A run over periods (``dynamics:``) asks its headline question of every period: the
scenario's own (``audit.headline``), else the default (the false positive rate of
the most deprived fifth against the least deprived). A linkage headline cannot be
asked of ``periods/metrics_by_group`` (it holds the flags' rates only), so the
periods fall back to the default for it. Read by the console (one line a period)
and the report's "Over time" section; both read the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from audits.headline import METRIC_WORDS, default_spec, question_of

if TYPE_CHECKING:
    from audits.result import AuditResult

HEADLINE_COLUMNS = ("period", "group_rate", "reference_rate", "difference")
"""The columns of :func:`headline_over_periods`."""


@dataclass(frozen=True)
class PeriodQuestion:
    """The comparison asked of each period.

    Attributes
    ----------
    metric : str
        A rate of ``periods/metrics_by_group`` (``fpr``, ``tpr``, ...).
    grouping, group, reference : str
        The group column, the group that leads and the group it is compared with.
    """

    metric: str
    grouping: str
    group: str
    reference: str

    def words(self) -> str:
        """The question in words, as the console and the report say it."""
        metric = METRIC_WORDS.get(self.metric, self.metric)
        return f"{metric}, {self.grouping} {self.group} vs {self.reference}"


def period_question(result: AuditResult) -> PeriodQuestion | None:
    """The headline question of a run's periods (None: its grouping is not audited).

    Period 1's audit gives the reference group when the scenario names none (the
    audit's reference of that grouping).
    """
    spec = question_of(result)
    if spec is None or spec.is_linkage:
        spec = default_spec(result)
    if spec is None or spec.grouping not in result.disparities.counts:
        return None
    counts = result.disparities.counts[spec.grouping]
    reference = (
        str(spec.reference)
        if spec.reference is not None
        else counts.values[counts.reference]
    )
    return PeriodQuestion(spec.metric, spec.grouping, str(spec.group), reference)


def headline_over_periods(
    metrics: pd.DataFrame, question: PeriodQuestion
) -> pd.DataFrame:
    """The question's two rates and their difference in every period.

    Parameters
    ----------
    metrics : DataFrame
        ``periods/metrics_by_group`` (:func:`audits.periods.period_metrics`, every
        period's rows).
    question : PeriodQuestion

    Returns
    -------
    DataFrame
        :data:`HEADLINE_COLUMNS`, one row a period in order; a rate is NaN in a
        period where its group has no families in its denominator (or none).

    Examples
    --------
    >>> m = pd.DataFrame({"period": [1, 1, 2, 2], "group": ["g"] * 4,
    ...                   "value": ["1", "5"] * 2, "fpr": [0.2, 0.1, 0.3, 0.1]})
    >>> q = PeriodQuestion("fpr", "g", "1", "5")
    >>> headline_over_periods(m, q)["difference"].round(2).tolist()
    [0.1, 0.2]
    """
    rows = metrics[metrics["group"] == question.grouping]
    rates = rows.pivot_table(
        index="period", columns="value", values=question.metric, dropna=False
    )
    periods = np.sort(metrics["period"].unique())
    rates = rates.reindex(periods)
    nan = pd.Series(np.nan, index=rates.index)
    group = rates.get(question.group, nan).to_numpy(dtype=float)
    reference = rates.get(question.reference, nan).to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "period": periods.astype(np.int64),
            "group_rate": group,
            "reference_rate": reference,
            "difference": group - reference,
        }
    )


def period_lines(metrics: pd.DataFrame, question: PeriodQuestion) -> list[str]:
    """One console line a period: the two rates and their difference.

    Examples
    --------
    >>> m = pd.DataFrame({"period": [1, 1], "group": ["g"] * 2,
    ...                   "value": ["1", "5"], "fpr": [0.2, 0.1]})
    >>> period_lines(m, PeriodQuestion("fpr", "g", "1", "5"))[1]
    '  period 1: 20.0% vs 10.0% (+10.0 points)'
    """

    def pct(x: float) -> str:
        return "n/a" if not np.isfinite(x) else f"{100 * x:.1f}%"

    def points(x: float) -> str:
        return "n/a" if not np.isfinite(x) else f"{100 * x:+.1f} points"

    table = headline_over_periods(metrics, question)
    lines = [f"over periods: {question.words()}"]
    lines += [
        f"  period {int(r.period)}: {pct(r.group_rate)} vs {pct(r.reference_rate)} "
        f"({points(r.difference)})"
        for r in table.itertuples()  # one line a period, at most 10
    ]
    return lines
