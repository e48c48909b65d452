"""Confusion counts and rates overall and by group: the audit's one statistics path.

:func:`audit_metrics` counts households per cell of each grouping
(:func:`audits.confusion.confusion_cells`) and turns the counts into rates with
:func:`audits.confusion.rates`, the same arithmetic the bootstrap, the disparities,
the pooled replicates and the sweep use. Nothing is counted twice and no figure comes
from a second computation. Agreement with fairlearn's ``MetricFrame`` (fed the
scikit-learn-signature metric functions of :mod:`audits.outcomes`) is a test
(tests/audits/test_audit_metrics.py), not a step of the audit.

Columns of both tables (long, tidy format):

``group``
    The column name, ``"a × b"`` for an intersection, or ``"overall"``.
``value``
    The group's value as text, ``"1 × white"`` for an intersection, ``"overall"``
    overall (:data:`simulator.vocabulary.OVERALL`).
``n``, ``n_positive``, ``n_flagged``, ``tp``, ``fp``, ``fn``, ``tn``
    Families; in the target (TP + FN); reached by a flag (TP + FP); and the
    confusion counts.
``selection_rate``, ``tpr``, ``fpr``, ``fnr``, ``precision``
    (TP + FP) / n, TP / (TP + FN), FP / (FP + TN), FN / (TP + FN), TP / (TP + FP).
``wrongly_flagged_per_10k``
    10,000 FP / n: families flagged but not in the target, per 10,000 families.

A rate whose denominator is zero is NaN (fairlearn's rate functions return 0 for a
single-class group; here a group without positives never shows a perfect or a zero
TPR).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audits.confusion import CONFUSION, RATES, Cells, confusion_cells, rates, totals
from audits.errors import AuditError
from audits.outcomes import require_columns
from simulator.frames import STRING
from simulator.vocabulary import OVERALL

COUNT_COLUMNS = ("n", "n_positive", "n_flagged", *CONFUSION)
"""Count columns of the metric tables."""
COLUMNS = ("group", "value", *COUNT_COLUMNS, *RATES)
"""Every column of the metric tables, in order."""

_NO_GROUPINGS = "group_columns and intersections are both empty; name a column"
_DUPLICATE_GROUPING = "grouping {grouping!r} is listed twice"


@dataclass(frozen=True)
class AuditMetrics:
    """Confusion metrics of the flags against the truth.

    Attributes
    ----------
    overall : DataFrame
        One row, every household (columns :data:`COLUMNS`).
    by_group : DataFrame
        One row per group of each grouping, groupings in the order asked and groups
        in the order of their values (columns :data:`COLUMNS`).
    """

    overall: pd.DataFrame
    by_group: pd.DataFrame


def count_table(counts: np.ndarray, group: str, labels: Sequence[str]) -> pd.DataFrame:
    """The metric table of some cells: counts, group sizes and rates, tidy.

    Parameters
    ----------
    counts : ndarray, shape (n_cells, 4)
        TP, FP, FN, TN of each cell (:data:`audits.confusion.CONFUSION`): integer
        row counts, or float weighted counts.
    group : str
        The ``group`` label of every row.
    labels : sequence of str
        Each cell's ``value`` text.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`; a rate with a zero denominator is NaN. Counts are
        int64, or float64 if ``counts`` are weighted.
    """
    counts = np.asarray(counts)
    dtype = np.float64 if np.issubdtype(counts.dtype, np.floating) else np.int64
    counts = counts.astype(dtype).reshape(-1, len(CONFUSION))
    sizes = totals(counts)
    out = pd.DataFrame(
        {
            "group": pd.array([group] * len(counts), dtype=STRING),
            "value": pd.array(list(labels), dtype=STRING),
            "n": sizes["n"],
            "n_positive": sizes["n_positive"],
            "n_flagged": sizes["n_flagged"],
            **{c: counts[:, j] for j, c in enumerate(CONFUSION)},
            **rates(counts),
        }
    )
    return out[list(COLUMNS)]


def grouping_metrics(cells: Cells) -> pd.DataFrame:
    """The metric table of one grouping (one row per observed group).

    Parameters
    ----------
    cells : Cells
        Counts per cell of the grouping.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`.
    """
    return count_table(cells.observed(), cells.label, cells.values())


def groupings(
    group_columns: Sequence[str], intersections: Sequence[Sequence[str]] = ()
) -> list[tuple[str, ...]]:
    """Each group column alone, then each intersection, checked for repeats.

    Parameters
    ----------
    group_columns : sequence of str
    intersections : sequence of sequence of str

    Returns
    -------
    list of tuple of str

    Raises
    ------
    AuditError
        If there is no grouping or one is listed twice.
    """
    sets = [(c,) for c in group_columns] + [tuple(i) for i in intersections]
    if not sets:
        raise AuditError(_NO_GROUPINGS)
    seen: set[tuple[str, ...]] = set()
    for s in sets:
        if s in seen:
            raise AuditError(_DUPLICATE_GROUPING.format(grouping=" × ".join(s)))
        seen.add(s)
    return sets


def audit_metrics(
    outcomes: pd.DataFrame,
    *,
    group_columns: Sequence[str],
    intersections: Sequence[Sequence[str]] = (),
    weight: str | None = None,
) -> AuditMetrics:
    """Counts and rates of the flags against the truth, overall and by group.

    Parameters
    ----------
    outcomes : DataFrame
        One row per true household (:func:`audits.outcomes.household_outcomes`):
        ``y_true``, ``flagged`` and the group columns.
    group_columns : sequence of str
        Columns whose groups are reported one column at a time.
    intersections : sequence of sequence of str
        Column combinations whose joint groups are reported.
    weight : str, optional
        A column of row weights: every count is then the sum of the weights of its
        rows (and every rate a ratio of weighted counts).

    Returns
    -------
    AuditMetrics

    Raises
    ------
    AuditError
        If no grouping is asked for, or one is asked for twice.
    InputDataError
        If a column is missing or a group column has missing values.

    Examples
    --------
    >>> import pandas as pd
    >>> outcomes = pd.DataFrame({
    ...     "tenure": ["owner", "owner", "social_rent", "social_rent"],
    ...     "y_true": [True, False, True, False],
    ...     "flagged": [True, False, True, True],
    ... })
    >>> m = audit_metrics(outcomes, group_columns=["tenure"])
    >>> m.by_group[["value", "n", "fp", "fpr", "precision"]]
             value  n  fp  fpr  precision
    0        owner  2   0  0.0        1.0
    1  social_rent  2   1  1.0        0.5
    """
    sets = groupings(group_columns, intersections)
    used = dict.fromkeys(c for s in sets for c in s)
    require_columns(outcomes, ["y_true", "flagged", *used], "outcomes")
    everyone = confusion_cells(outcomes, (), weight)
    overall = count_table(everyone.observed(), OVERALL, [OVERALL])
    by_group = pd.concat(
        [grouping_metrics(confusion_cells(outcomes, s, weight)) for s in sets],
        ignore_index=True,
    )
    return AuditMetrics(overall=overall, by_group=by_group)
