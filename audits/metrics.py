"""Confusion metrics overall and by group, computed by fairlearn's ``MetricFrame``.

:func:`audit_metrics` counts households per cell of each grouping, then hands
fairlearn one row per (group cell, truth, flag) weighted by its count. Weighted
metrics on that frame equal the unweighted metrics on the household rows (every
metric here is a sum over rows), so ``MetricFrame`` does the disaggregation at any
number of households in milliseconds.

Columns of both tables (long, tidy format):

``group``
    The column name, ``"a × b"`` for an intersection, or ``"overall"``.
``value``
    The group's value as text, ``"1 × white"`` for an intersection, ``"all"``
    overall.
``n``, ``n_positive``, ``n_flagged``, ``tp``, ``fp``, ``fn``, ``tn``
    Families; in the target (TP + FN); reached by a flag (TP + FP); and the
    confusion counts.
``selection_rate``, ``tpr``, ``fpr``, ``fnr``, ``precision``
    (TP + FP) / n, TP / (TP + FN), FP / (FP + TN), FN / (TP + FN), TP / (TP + FP).
``wrongly_flagged_per_10k``
    10,000 FP / n: families flagged but not in the target, per 10,000 families.

A rate whose denominator is zero is NaN (fairlearn's rate functions return 0 for a
single-class group; we replace those with NaN so that a group without positives never
shows a perfect or a zero TPR).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import precision_score

from audits.confusion import CONFUSION, DENOMINATORS, RATES, Cells, confusion_cells
from audits.errors import AuditError
from audits.outcomes import (
    false_negatives,
    false_positives,
    require_columns,
    true_negatives,
    true_positives,
    wrongly_flagged_per_10k,
)

COUNT_COLUMNS = ("n", "n_positive", "n_flagged", *CONFUSION)
"""Count columns of the metric tables."""
COLUMNS = ("group", "value", *COUNT_COLUMNS, *RATES)
"""Every column of the metric tables, in order."""
OVERALL = "overall"
"""The ``group`` label of the overall row."""
STRING = pd.StringDtype("pyarrow")

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


def metric_functions() -> dict[str, Callable[..., float]]:
    """The metrics for ``MetricFrame``, each ``fn(y_true, y_pred, sample_weight)``.

    Returns
    -------
    dict of str to callable
        Confusion counts (from :mod:`audits.outcomes`), fairlearn's rates,
        scikit-learn's precision (NaN when nothing is flagged) and the wrongly
        flagged families per 10,000.
    """
    return {
        "tp": true_positives,
        "fp": false_positives,
        "fn": false_negatives,
        "tn": true_negatives,
        "selection_rate": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
        "fnr": false_negative_rate,
        "precision": functools.partial(precision_score, zero_division=np.nan),
        "wrongly_flagged_per_10k": wrongly_flagged_per_10k,
    }


def metric_frame(cells: Cells) -> MetricFrame:
    """A ``MetricFrame`` over the cells of one grouping, weighted by their counts.

    Parameters
    ----------
    cells : Cells
        Counts per cell (:func:`audits.confusion.confusion_cells`). Sensitive
        features are the cells' codes (column names kept), so groups sort as in
        ``cells``; a grouping of no columns uses one constant feature.

    Returns
    -------
    fairlearn.metrics.MetricFrame
    """
    frame = cells.weighted_frame()
    if cells.columns:
        features = pd.DataFrame(
            {c: frame[f"code_{j}"].to_numpy() for j, c in enumerate(cells.columns)}
        )
    else:
        features = pd.DataFrame({OVERALL: np.zeros(len(frame), dtype=np.int64)})
    metrics = metric_functions()
    weight = frame["weight"].to_numpy()
    return MetricFrame(
        metrics=metrics,
        y_true=frame["y_true"].to_numpy(),
        y_pred=frame["y_pred"].to_numpy(),
        sensitive_features=features,
        sample_params={name: {"sample_weight": weight} for name in metrics},
    )


def _tidy(values: pd.DataFrame, group: str, labels: Sequence[str]) -> pd.DataFrame:
    """Counts as int64, undefined rates as NaN, the tidy columns in order."""
    out = pd.DataFrame(
        {
            c: np.rint(values[c].to_numpy(dtype=float)).astype(np.int64)
            for c in CONFUSION
        }
    )
    tp, fp, fn, tn = (out[c] for c in CONFUSION)
    sizes = {
        "n": tp + fp + fn + tn,
        "n_positive": tp + fn,
        "n_negative": fp + tn,
        "n_flagged": tp + fp,
    }
    for rate in RATES:
        v = values[rate].to_numpy(dtype=float)
        out[rate] = np.where(sizes[DENOMINATORS[rate]].to_numpy() > 0, v, np.nan)
    out["n"], out["n_positive"], out["n_flagged"] = (
        sizes["n"],
        sizes["n_positive"],
        sizes["n_flagged"],
    )
    out.insert(0, "group", pd.array([group] * len(out), dtype=STRING))
    out.insert(1, "value", pd.array(list(labels), dtype=STRING))
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
    by_group = metric_frame(cells).by_group
    if cells.columns:
        index = (
            pd.MultiIndex.from_arrays(list(cells.codes.T), names=list(cells.columns))
            if len(cells.columns) > 1
            else pd.Index(cells.codes[:, 0], name=cells.columns[0])
        )
        by_group = by_group.reindex(index)
    return _tidy(by_group, cells.label, cells.values())


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
    overall = _tidy(
        metric_frame(confusion_cells(outcomes, ())).by_group.reset_index(drop=True),
        OVERALL,
        ["all"],
    )
    by_group = pd.concat(
        [grouping_metrics(confusion_cells(outcomes, s)) for s in sets],
        ignore_index=True,
    )
    return AuditMetrics(overall=overall, by_group=by_group)
