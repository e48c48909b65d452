"""Why each family was wrongly flagged or missed: a ladder of counterfactual runs.

The scenario is run again with the same seeds, adding one imperfection at a time:

=============  ===============================================================
rung           what the council's model sees
=============  ===============================================================
``model``      every true problem recorded and nothing else (no visibility bias),
               everyone on the council's index, no data errors, the true links
``spine``      + the people the scenario leaves off the council's index (the
               spine), and its group factors: a family with nobody on it cannot
               be flagged, a member missing from it loses their linked events
``visibility`` + the scenario's visibility: who is seen by the agencies, and
               background events
``data_error`` + the scenario's data errors (typos, stale addresses, ...)
``linkage``    + the scenario's linkage method: the real run
=============  ===============================================================

The truth (households, needs, eligibility, harm) is the same on every rung: it is
drawn from streams the agencies do not touch. The fitted model is the same too (the
council's model as deployed), so only its inputs change. Each wrong flag (false
positive) and each missed family (false negative) of the real run is assigned to the
first rung at which it appears: it is the model's own error if the model makes it on
perfect data, the index's if it first appears when the people missing from the spine
are removed, visibility's if it first appears when visibility bias is added, and so
on. Counts therefore add up to the real run's totals. Each family's flag at every rung
is kept (``flagged_<rung>`` columns), so a family's cause can be checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audits.counterfactuals import (
    with_spine_of,
    without_errors,
    without_visibility_bias,
)
from simulator.errors import InputDataError
from simulator.schema.scenario import Scenario
from simulator.vocabulary import OVERALL

RUNGS = ("model", "spine", "visibility", "data_error", "linkage")
"""The ladder's rungs, in order; the last is the real run."""
REAL_WORLD_RUNGS = ("data_error", "linkage")
"""The rungs drawn in the real run's own world (:func:`ladder` gives them the
scenario itself; only their linkage method differs): a run computes them from the
world it already holds instead of generating it again."""
RUNG_COLUMNS = ("household_id", "y_true", "flagged")
"""What :func:`attribute` reads of every rung's outcomes but the real run's
(``household_id`` may be their index instead: :func:`rung_flags`)."""
CAUSE_LABELS = {
    "model": "the model itself",
    "spine": "missing from the council's index",
    "visibility": "visibility bias",
    "data_error": "data errors",
    "linkage": "linkage errors",
}
ERROR_KINDS = ("false_positive", "false_negative")


def ladder(scenario: Scenario) -> dict[str, tuple[Scenario, str]]:
    """The scenario and linkage method of each rung, same seeds throughout.

    Examples
    --------
    >>> rungs = ladder(Scenario())
    >>> [(name, method) for name, (_, method) in rungs.items()]
    [('model', 'oracle'), ('spine', 'oracle'), ('visibility', 'oracle'), ('data_error', 'oracle'), ('linkage', 'deterministic')]
    >>> all(rungs[r][0] == Scenario() for r in REAL_WORLD_RUNGS)
    True
    """  # noqa: E501
    clean = without_errors(scenario)
    perfect = without_visibility_bias(clean)
    return {
        "model": (perfect, "oracle"),
        "spine": (with_spine_of(perfect, clean), "oracle"),
        "visibility": (clean, "oracle"),
        "data_error": (scenario, "oracle"),
        "linkage": (scenario, scenario.linkage.method),
    }


def rung_flags(outcomes: pd.DataFrame) -> pd.DataFrame:
    """A rung's outcomes as :func:`attribute` reads them: :data:`RUNG_COLUMNS`.

    Copies of ``y_true`` and ``flagged`` indexed by ``household_id``: a
    ``RangeIndex`` when the ids run on by one (as a generated world's do), so two
    bytes a household against the outcomes' 43 at the baseline, and the outcomes
    frame is not kept alive by them. A run holds four such rungs of every world
    until it attributes, and a pool's task sends them back pickled.

    Examples
    --------
    >>> o = pd.DataFrame({"household_id": [4, 5], "tenure": ["owned", "rented"],
    ...                   "y_true": [True, False], "flagged": [False, False]})
    >>> lean = rung_flags(o)
    >>> list(lean.columns), lean.index
    (['y_true', 'flagged'], RangeIndex(start=4, stop=6, step=1, name='household_id'))
    """
    ids = outcomes["household_id"].to_numpy()
    consecutive = len(ids) > 0 and bool((np.diff(ids) == 1).all())
    index = (
        pd.RangeIndex(ids[0], ids[0] + len(ids), name="household_id")
        if consecutive
        else pd.Index(ids.copy(), name="household_id")
    )
    return pd.DataFrame(
        {c: outcomes[c].to_numpy(copy=True) for c in RUNG_COLUMNS[1:]}, index=index
    )


def _household_ids(outcomes: pd.DataFrame) -> np.ndarray:
    """A rung's ``household_id``: its column, or its index (:func:`rung_flags`)."""
    if "household_id" in outcomes.columns:
        return outcomes["household_id"].to_numpy()
    return outcomes.index.to_numpy()


@dataclass(frozen=True)
class Attribution:
    """Causes of the real run's wrong flags and missed families.

    Attributes
    ----------
    households : DataFrame
        One row per wrongly flagged or missed family of the real run:
        ``household_id``, ``error`` (``false_positive`` or ``false_negative``),
        ``cause`` (a rung of :data:`RUNGS`), ``flagged_<rung>`` for every rung
        (whether the family was flagged on that rung; its cause is the first rung
        where that equals the real run's ``flagged_linkage``), and the group
        columns.
    counts : DataFrame
        ``group`` (``"overall"`` or a group column), ``value``, ``error``, then one
        column per cause with the number of families, and ``total``.
    flagged_by_rung : DataFrame
        Per rung: families flagged, wrongly flagged and missed (how the totals
        build up along the ladder).
    """

    households: pd.DataFrame
    counts: pd.DataFrame
    flagged_by_rung: pd.DataFrame


def _aligned(outcomes: Mapping[str, pd.DataFrame]) -> tuple[pd.DataFrame, np.ndarray]:
    """The real run's outcomes, and a (household x rung) matrix of flags."""
    missing = [r for r in RUNGS if r not in outcomes]
    if missing:
        raise InputDataError(f"attribution needs every rung; missing {missing}")
    real = outcomes[RUNGS[-1]]
    ids = real["household_id"].to_numpy()
    y_true = real["y_true"].to_numpy(bool)
    flags = np.empty((len(real), len(RUNGS)), dtype=bool)
    for j, rung in enumerate(RUNGS):  # five rungs, not rows
        o = outcomes[rung]
        if not np.array_equal(_household_ids(o), ids) or not np.array_equal(
            o["y_true"].to_numpy(bool), y_true
        ):
            raise InputDataError(
                f"rung {rung!r} has other households or another truth than the real "
                "run: the ladder must share the scenario's seeds and population"
            )
        flags[:, j] = o["flagged"].to_numpy(bool)
    return real, flags


def attribute(
    outcomes: Mapping[str, pd.DataFrame], group_columns: Sequence[str] = ()
) -> Attribution:
    """Assign each wrong flag and missed family of the real run to its first rung.

    Parameters
    ----------
    outcomes : mapping of rung to DataFrame
        For every rung of :data:`RUNGS`, the household outcomes
        (:func:`audits.outcomes.household_outcomes`), in the same household order:
        the real run's (the last rung) with its group columns; of the others, only
        :data:`RUNG_COLUMNS` are read (``household_id`` from the index if it is
        not a column: :func:`rung_flags`).
    group_columns : sequence of str
        Columns of the outcomes to break the counts down by.

    Returns
    -------
    Attribution

    Examples
    --------
    >>> def o(flagged):
    ...     return pd.DataFrame({"household_id": [1, 2, 3],
    ...                          "y_true": [False, False, True],
    ...                          "flagged": flagged})
    >>> a = attribute({"model": o([True, False, True]),
    ...                "spine": o([True, False, True]),
    ...                "visibility": o([True, False, True]),
    ...                "data_error": o([True, True, False]),
    ...                "linkage": o([True, True, False])})
    >>> a.households[["household_id", "error", "cause"]].values.tolist()
    [[1, 'false_positive', 'model'], [2, 'false_positive', 'data_error'], [3, 'false_negative', 'data_error']]
    """  # noqa: E501
    real, flags = _aligned(outcomes)
    y_true = real["y_true"].to_numpy(bool)
    wrong = np.where(y_true[:, None], ~flags, flags)  # the real run's error, per rung
    is_fp = ~y_true & flags[:, -1]
    is_fn = y_true & ~flags[:, -1]
    bad = is_fp | is_fn
    first = np.argmax(wrong, axis=1)  # the first rung where it is already wrong
    cols = [c for c in group_columns if c in real.columns]
    households = pd.DataFrame(
        {
            "household_id": real["household_id"].to_numpy()[bad],
            "error": pd.Categorical(
                np.where(is_fp[bad], "false_positive", "false_negative"),
                categories=list(ERROR_KINDS),
            ),
            "cause": pd.Categorical(
                np.asarray(RUNGS)[first[bad]], categories=list(RUNGS)
            ),
        }
    )
    for j, rung in enumerate(RUNGS):  # five rungs, not rows
        households[f"flagged_{rung}"] = flags[bad, j]
    for c in cols:
        households[c] = real[c].to_numpy()[bad]
    by_rung = pd.DataFrame(
        {
            "rung": list(RUNGS),
            "flagged": flags.sum(axis=0),
            "false_positives": (flags & ~y_true[:, None]).sum(axis=0),
            "false_negatives": (~flags & y_true[:, None]).sum(axis=0),
        }
    )
    return Attribution(households, _counts(households, cols), by_rung)


def _counts(households: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    parts = []
    for col in [OVERALL, *columns]:  # group columns, not rows
        keys = ["error"] if col == OVERALL else [col, "error"]
        table = (
            households.groupby([*keys, "cause"], observed=False, sort=True)
            .size()
            .unstack("cause", fill_value=0)
            .reindex(columns=list(RUNGS), fill_value=0)
        )
        table["total"] = table.sum(axis=1)
        table = table.reset_index()
        if col == OVERALL:
            table.insert(0, "value", OVERALL)
        else:
            table = table.rename(columns={col: "value"})
            table["value"] = table["value"].astype(str)
        table.insert(0, "group", col)
        parts.append(table)
    out = pd.concat(parts, ignore_index=True)
    out.columns.name = None
    out["error"] = out["error"].astype(str)
    return out
