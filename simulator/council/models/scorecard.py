"""A vendor-like scorecard: weighted points over view features, with a threshold.

Commercial "risk of needing help" tools used by councils are often points tables:
each risk factor found in the linked data earns points, repeated events count up to a
cap, and a family whose total reaches a threshold is flagged. The default table
(:data:`~simulator.schema.model.DEFAULT_SCORE_ITEMS`) is illustrative, not any real
vendor's. The drivers of a score are its points by feature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.council.models.base import ModelBase, check_view, require_columns
from simulator.schema.model import DEFAULT_SCORE_ITEMS, ScoreItem


def item_points(item: ScoreItem, values: np.ndarray) -> np.ndarray:
    """Points one item gives each household.

    Examples
    --------
    >>> item_points(ScoreItem(feature="x", points=2, cap=3), np.array([0, 1, 5]))
    array([0., 2., 6.])
    >>> between = ScoreItem(feature="imd_decile", points=2, between=(1, 2))
    >>> item_points(between, np.array([1.0, 2.0, 5.5]))
    array([2., 2., 0.])
    """
    v = np.asarray(values, dtype=np.float64)
    if item.between is not None:
        low, high = item.between
        return np.where((v >= low) & (v <= high), item.points, 0.0)
    if item.cap is not None:
        v = np.minimum(v, item.cap)
    return item.points * v


class ScorecardModel(ModelBase):
    """Weighted points over view features.

    Parameters
    ----------
    items : tuple of ScoreItem, optional
        The points table; None for
        :data:`~simulator.schema.model.DEFAULT_SCORE_ITEMS`.
    """

    def __init__(self, *, items: tuple[ScoreItem, ...] | None = None):
        self.items = items

    def _items(self) -> tuple[ScoreItem, ...]:
        return tuple(self.items) if self.items is not None else DEFAULT_SCORE_ITEMS

    def explain(self, view: pd.DataFrame) -> pd.DataFrame:
        """Points by feature (one column per item) for each household."""
        check_view(view, "scorecard model")
        items = self._items()
        require_columns(view, [i.feature for i in items], "scorecard model")
        return pd.DataFrame(
            {i.feature: item_points(i, view[i.feature].to_numpy()) for i in items},
            index=view.index,
        )

    def score(self, view: pd.DataFrame) -> pd.Series:
        """Total points of each household."""
        points = self.explain(view).to_numpy()
        return pd.Series(points.sum(axis=1), index=view.index, name="score")
