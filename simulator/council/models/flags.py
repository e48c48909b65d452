"""The flags table: each household's score, flag, rank and what drove its score."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.council.models.base import drivers, ranking
from simulator.errors import InputDataError
from simulator.vocabulary import INDEX


def flag_table(
    scores: pd.Series,
    flags: pd.Series,
    contributions: pd.DataFrame | None = None,
    *,
    top: int = 3,
) -> pd.DataFrame:
    """One row per spine household: score, flag, rank and the top drivers.

    Parameters
    ----------
    scores : Series
        ``model.score(view)``.
    flags : Series of bool
        ``apply_flag_rule(scores, rule)``, same index.
    contributions : DataFrame, optional
        ``model.explain(view)``, or the explanation of a subset of households (for
        example only the flagged ones: explaining a learned model costs one
        prediction per feature); households it does not cover get no drivers.
    top : int
        Drivers kept per household.

    Returns
    -------
    DataFrame
        In ``spine_household_id`` order: ``spine_household_id``, ``score``,
        ``flagged``, ``rank`` (1 = highest score; ties by the lower id, the order
        :func:`~simulator.council.models.base.apply_flag_rule` uses), then ``driver_1``
        ..
        ``driver_<top>`` and ``contribution_1`` .. ``contribution_<top>``.

    Examples
    --------
    >>> idx = pd.Index([1, 2], name="spine_household_id")
    >>> s, f = pd.Series([0.5, 2.0], index=idx), pd.Series([False, True], index=idx)
    >>> c = pd.DataFrame({"police_incident": [0.0, 2.0]}, index=idx)
    >>> flag_table(s, f, c, top=1)[["rank", "driver_1"]].values.tolist()
    [[2, nan], [1, 'police_incident']]
    """
    if not flags.index.equals(scores.index):
        raise InputDataError("flags must have the scores' index (same order)")
    rank = np.empty(len(scores), dtype=np.int64)
    rank[ranking(scores)] = np.arange(1, len(scores) + 1)
    table = pd.DataFrame(
        {
            INDEX: scores.index.to_numpy(),
            "score": scores.to_numpy(dtype=np.float64),
            "flagged": flags.to_numpy(dtype=bool),
            "rank": rank,
        }
    )
    if contributions is None:
        contributions = pd.DataFrame(index=scores.index)
    extra = contributions.index.difference(scores.index)
    if len(extra):
        raise InputDataError(
            f"contributions name {len(extra)} household(s) that have no score"
        )
    found = drivers(contributions, top=top).reindex(scores.index)
    table = pd.concat([table, found.reset_index(drop=True)], axis=1)
    return table.sort_values(INDEX, kind="stable", ignore_index=True)
