"""The programme's rule: count the headline problems a family shows in linked data.

Supporting Families (formerly Troubled Families) works with families that have at
least two of six headline problems. The council sees a problem only through the
records linked to the family: each problem has an indicator (which linked events
count, and how many show it; :class:`~simulator.schema.model.Indicator`), and the
score is the number of problems shown. The default flag rule flags scores of at least
``min_problems`` (:meth:`simulator.schema.model.CriteriaConfig.flag_rule`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.council.models.base import ModelBase, check_view, require_columns
from simulator.council.view import event_column
from simulator.schema.model import Indicator, Indicators

PROBLEMS = tuple(Indicators.model_fields)
"""The six headline problems, in the order of
:data:`simulator.vocabulary.NEEDS`."""

PERSISTENT_ABSENCE = "education_persistent_absence"
"""The view column of persistently absent pupils."""


def indicator_columns(indicator: Indicator) -> list[str]:
    """The view columns an indicator adds up."""
    cols = [event_column(e) for e in indicator.events]
    if indicator.persistent_absence:
        cols.append(PERSISTENT_ABSENCE)
    return cols


EXACT = 2.0**53
"""Integers whose sum of magnitudes stays below this add up exactly as floats."""


def _exact_total(view: pd.DataFrame, columns: list[str]) -> np.ndarray | None:
    """The row sums of integer ``columns`` as floats, a column at a time, or None.

    Only where every column is of a NumPy integer type and the sum of their
    largest magnitudes is below :data:`EXACT`: then every partial sum is exact,
    so the totals are those of the frame's float array summed by row (in any
    order), without its copy of the columns taken and stacked. None otherwise.
    """
    arrays = [view[c].to_numpy() for c in columns]
    if not all(isinstance(a, np.ndarray) and a.dtype.kind in "iu" for a in arrays):
        return None
    largest = (max(-float(a.min(initial=0)), float(a.max(initial=0))) for a in arrays)
    if sum(largest) >= EXACT:
        return None
    total = np.zeros(len(view))
    for a in arrays:
        total += a
    return total


class CriteriaModel(ModelBase):
    """Count the headline problems each family shows in the linked data.

    Parameters
    ----------
    indicators : Indicators, optional
        One indicator per headline problem; None for the defaults
        (:class:`~simulator.schema.model.Indicators`).

    Examples
    --------
    >>> from simulator.council.view import ViewConfig, feature_columns
    >>> view = pd.DataFrame(
    ...     0,
    ...     index=pd.Index([10, 11], name="spine_household_id"),
    ...     columns=list(feature_columns(ViewConfig())),
    ... )
    >>> view.loc[10, ["police_incident", "benefits_out_of_work_benefit"]] = [2, 1]
    >>> CriteriaModel().score(view).tolist()
    [2.0, 0.0]
    """

    def __init__(self, *, indicators: Indicators | None = None):
        self.indicators = indicators

    def _indicators(self) -> dict[str, Indicator]:
        ind = self.indicators if self.indicators is not None else Indicators()
        return {
            need: getattr(ind, need) for need in PROBLEMS if getattr(ind, need, None)
        }

    def problems(self, view: pd.DataFrame) -> pd.DataFrame:
        """Which headline problems each family shows (one bool column per problem).

        Parameters
        ----------
        view : DataFrame
            The linked family view.

        Returns
        -------
        DataFrame of bool
            Same index as ``view``; columns in the order of
            :data:`PROBLEMS`.
        """
        check_view(view, "criteria model")
        indicators = self._indicators()
        require_columns(
            view,
            [c for ind in indicators.values() for c in indicator_columns(ind)],
            "criteria model",
        )
        shown = {}
        for need, ind in indicators.items():
            columns = indicator_columns(ind)
            total = _exact_total(view, columns)
            if total is None:
                total = view[columns].to_numpy(dtype=np.float64).sum(axis=1)
            shown[need] = total >= ind.min_count
        return pd.DataFrame(shown, index=view.index)

    def score(self, view: pd.DataFrame) -> pd.Series:
        """The number of headline problems shown, as a float."""
        shown = self.problems(view)
        return pd.Series(
            shown.to_numpy().sum(axis=1).astype(np.float64),
            index=view.index,
            name="score",
        )

    def explain(self, view: pd.DataFrame) -> pd.DataFrame:
        """1.0 for each problem shown (the problems are the drivers), else 0.0."""
        return self.problems(view).astype(np.float64)
