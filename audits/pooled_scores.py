"""Score diagnostics pooled over replicate worlds: AUC, calibration and curves.

Each world's own diagnostics (:mod:`audits.score_diagnostics`) have their own
calibration bins and thresholds (quantiles of that world's scores), so they cannot
be summed table by table. Pooled, every world's rows are taken together, as the
audit pools its rates (counts summed over the worlds):

``auc``
    A group's AUC over every world's rows together: the chance that a row with the
    outcome, from any world, scores above one without it, from any world (for a
    rank statistic, what summing the worlds' counts means). Beside it ``auc_low``
    and ``auc_high``, the smallest and largest world's own AUC (NaN ignored), and
    ``worlds``, how many worlds have the group.
``calibration``
    One set of bins from every world's scores (the deciles of all of them, as the
    threshold curves use one grid); per bin, the counts summed over the worlds and
    their observed rate, with ``observed_rate_low`` and ``observed_rate_high``, the
    smallest and largest world's rate in the same bin (a world with no row in the
    bin does not count), and ``worlds``.
``curves``
    The threshold curves of every world's rows on one grid: at each threshold the
    rates of the counts summed over the worlds.

The pooled AUC is a weighted mean, over every pair of worlds (i, j), of the chance
that a row with the outcome in world i scores above one without it in world j, with
weight (positives in i) x (negatives in j); the pairs i = j are the worlds' own
AUCs. So it lies between the smallest and largest of those pairs' figures, but not
always between the worlds' own AUCs: a world whose scores all sit higher moves it.
The spread beside it is the worlds' own AUCs. One world pools to its own
diagnostics, the spread equal to them.

The world's own figures come from the same pass: each grouping is also crossed with
the world, so every world is measured on the pooled bins.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from audits.confusion import JOIN
from audits.score_diagnostics import (
    AUC_COLUMNS,
    CALIBRATION_COLUMNS,
    ScoreDiagnostics,
    score_diagnostics,
)
from simulator.vocabulary import OVERALL

WORLD = "_world"
"""The column that holds each row's world while the worlds are pooled."""


def _world_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a grouping crossed with the world, as the grouping's own rows.

    ``group`` ``"_world × g"`` and ``value`` ``"2 × v"`` become ``g`` and ``v`` (the
    world alone becomes ``overall``), with the world in ``world``.
    """
    mine = table[table["group"].str.startswith(WORLD)]
    group = mine["group"].str.slice(len(WORLD) + len(JOIN)).replace("", OVERALL)
    split = mine["value"].str.split(JOIN, n=1, expand=True)
    value = split[1] if split.shape[1] > 1 else pd.Series(None, index=mine.index)
    return mine.assign(
        group=group.to_numpy(),
        value=value.astype(object).where(value.notna(), OVERALL).to_numpy(),
        world=split[0].astype(np.int64).to_numpy(),
    )


def _with_spread(
    pooled: pd.DataFrame, worlds: pd.DataFrame, keys: list[str], metric: str
) -> pd.DataFrame:
    """``pooled`` with the smallest and largest world's ``metric``, and ``worlds``."""
    spread = worlds.groupby(keys, sort=False).agg(
        low=(metric, "min"), high=(metric, "max"), worlds=("world", "nunique")
    )
    spread.columns = [f"{metric}_low", f"{metric}_high", "worlds"]
    return pooled.merge(spread, left_on=keys, right_index=True, how="left")


def pooled_score_diagnostics(
    worlds: Sequence[pd.DataFrame],
    column_sets: Sequence[tuple[str, ...]],
    *,
    weight: str | None = None,
    target: str = "y_true",
) -> ScoreDiagnostics:
    """AUC, calibration and threshold curves of every world's rows together.

    Parameters
    ----------
    worlds : sequence of DataFrame
        Each world's audited rows (``score``, ``y_true``, the group columns, and
        ``weight`` if given), replicate 0 first.
    column_sets, weight, target
        As for :func:`~audits.score_diagnostics.score_diagnostics`: the
        groupings, a column of row weights, the name of ``y_true`` in the notes.

    Returns
    -------
    ScoreDiagnostics
        The tables of :func:`~audits.score_diagnostics.score_diagnostics` of the
        rows of every world, ``auc`` gaining ``auc_low``, ``auc_high`` and
        ``worlds``, ``calibration`` gaining ``observed_rate_low``,
        ``observed_rate_high`` and ``worlds`` (the module's docstring).

    Examples
    --------
    Two worlds that each rank perfectly, one scoring everyone higher:

    >>> a = pd.DataFrame({"score": [0.9, 0.8], "y_true": [1, 0]})
    >>> b = pd.DataFrame({"score": [0.2, 0.1], "y_true": [1, 0]})
    >>> pooled_score_diagnostics([a, b], []).auc[["auc", "auc_low", "auc_high"]]
        auc  auc_low  auc_high
    0  0.75      1.0       1.0
    """
    needed = ["score", "y_true", *dict.fromkeys(c for s in column_sets for c in s)]
    needed += [] if weight is None else [weight]
    rows = pd.concat(
        [w[needed].assign(**{WORLD: i}) for i, w in enumerate(worlds)],
        ignore_index=True,
    )
    sets = [tuple(s) for s in column_sets]
    crossed = [(WORLD,), *((WORLD, *s) for s in sets)]
    both = score_diagnostics(
        rows, [*sets, *crossed], target=target, weight=weight, no_curves=crossed
    )
    own = {"auc": both.auc, "calibration": both.calibration}
    pooled = {k: t[~t["group"].str.startswith(WORLD)] for k, t in own.items()}
    by_world = {k: _world_rows(t) for k, t in own.items()}
    auc = _with_spread(pooled["auc"], by_world["auc"], ["group", "value"], "auc")
    calibration = _with_spread(
        pooled["calibration"],
        by_world["calibration"],
        ["group", "value", "bin"],
        "observed_rate",
    )
    return ScoreDiagnostics(
        auc=auc[[*AUC_COLUMNS, "auc_low", "auc_high", "worlds"]].reset_index(drop=True),
        calibration=calibration[
            [*CALIBRATION_COLUMNS, "observed_rate_low", "observed_rate_high", "worlds"]
        ].reset_index(drop=True),
        curves=both.curves,
    )
