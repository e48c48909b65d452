"""Known to services: the council's own past flags as part of a family's score.

A council keeps what it flagged. With ``dynamics.history`` on, each later period's
score of a spine household gains ``points`` for every earlier period in which the
council flagged it, before the flag rule: a family once flagged, rightly or
wrongly, stays "known to services". Everything here is the council's own data
(its flags, keyed by its spine household ids); nothing reads the truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.council.models import FlagRule, apply_flag_rule
from simulator.vocabulary import INDEX


def count_flags(past: pd.Series | None, flags: pd.DataFrame) -> pd.Series:
    """Each spine household's flags so far: ``past`` plus this period's ``flags``.

    Parameters
    ----------
    past : Series of int or None
        Earlier counts by spine household id (None before any period).
    flags : DataFrame
        This period's flags table (``spine_household_id``, ``flagged``).

    Returns
    -------
    Series of int
        Indexed by spine household id, every household of ``flags`` and ``past``.

    Examples
    --------
    >>> flags = pd.DataFrame({"spine_household_id": [1, 2], "flagged": [True, False]})
    >>> count_flags(None, flags).to_dict()
    {1: 1, 2: 0}
    >>> count_flags(count_flags(None, flags), flags).to_dict()
    {1: 2, 2: 0}
    """
    now = pd.Series(
        flags["flagged"].to_numpy(dtype=np.int64),
        index=pd.Index(flags[INDEX].to_numpy(), name=INDEX),
    )
    if past is None:
        return now
    return now.add(past, fill_value=0).astype(np.int64)


def with_history(
    flags: pd.DataFrame, past: pd.Series, points: float, rule: FlagRule
) -> pd.DataFrame:
    """The period's flags with ``points`` per past flag added to each score.

    Parameters
    ----------
    flags : DataFrame
        The model's flags table of the period (``spine_household_id``, ``score``).
    past : Series of int
        Past flags by spine household id (:func:`count_flags`); households absent
        were never flagged.
    points : float
        Points added per past flag.
    rule : FlagRule
        The scenario's flag rule, applied to the new scores.

    Returns
    -------
    DataFrame
        ``spine_household_id``, ``score`` (with the points), ``flagged`` (the rule on
        those scores) and ``past_flags``, in the order of ``flags``.

    Examples
    --------
    >>> flags = pd.DataFrame({"spine_household_id": [1, 2], "score": [1.0, 2.0]})
    >>> past = pd.Series([1], index=pd.Index([1], name="spine_household_id"))
    >>> out = with_history(flags, past, 1.0, FlagRule(threshold=2.0))
    >>> out["flagged"].tolist(), out["score"].tolist()
    ([True, True], [2.0, 2.0])
    """
    ids = pd.Index(flags[INDEX].to_numpy(), name=INDEX)
    count = past.reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    scores = pd.Series(flags["score"].to_numpy(dtype=float) + points * count, ids)
    flagged = apply_flag_rule(scores, rule)
    return pd.DataFrame(
        {
            INDEX: ids.to_numpy(),
            "score": scores.to_numpy(),
            "flagged": flagged.to_numpy(dtype=bool),
            "past_flags": count,
        }
    )
