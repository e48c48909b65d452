"""Flags joined to the truth: one row per true household, and domain metrics.

The unit of the audit is the true household (the family). The council flags spine
households, which are built from the address it holds; a flag is acted on at that
address, so it **reaches** every true household with a member on the flagged spine
household. A spine household made from a stale address can hold people of several
true households: each of those families is reached. A family with nobody on the spine
is never reached.

This module reads the hidden ``true_household_id`` column of the spine: it is on the
audit side and never called by council-side stages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audits.errors import AuditError
from simulator.errors import InputDataError
from simulator.id_positions import IdPositions
from simulator.vocabulary import GROUP_COLUMNS

TARGETS = ("eligible", "harm")
"""Truth columns a flag can be judged against."""
CARRIED = ("n_children", "n_needs", "eligible", "harm")
"""Other truth columns carried where present (plus every ``need_*`` column)."""
PER = 10_000
"""Families per which ``wrongly_flagged_per_10k`` is expressed."""

_INVALID_TARGET = "target must be one of {allowed}, got {target!r}"
_MISSING_COLUMNS = "{table} table lacks column(s) {missing}; expected {expected}"
_DUPLICATE_IDS = "{table} table repeats {column} values, e.g. {examples}"
_UNKNOWN_HOUSEHOLDS = (
    "spine rows name {n} true household(s) absent from the households table, "
    "e.g. {examples}"
)
_UNKNOWN_SPINE = (
    "flags name {n} spine household(s) absent from the spine, e.g. {examples}"
)
_BAD_FLAGS = (
    "flags column 'flagged' must be boolean without missing values, got {dtype}"
)


def require_columns(frame: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    """Raise :class:`InputDataError` naming every column missing from ``frame``.

    Parameters
    ----------
    frame : DataFrame
        The table to check.
    columns : sequence of str
        Columns it must have.
    table : str
        Its name in the message.
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputDataError(
            _MISSING_COLUMNS.format(
                table=table, missing=", ".join(missing), expected=", ".join(columns)
            )
        )


def _unique(values: pd.Series, table: str, column: str) -> None:
    dup = values[values.duplicated()]
    if len(dup):
        raise InputDataError(
            _DUPLICATE_IDS.format(
                table=table, column=column, examples=list(dup.unique()[:5])
            )
        )


def truth_columns(names: Sequence[str]) -> list[str]:
    """The households' columns of ``names``, those :func:`household_outcomes` reads.

    A table streamed from a file reads no other column (addresses, areas, carriers).

    Examples
    --------
    >>> truth_columns(["household_id", "area_id", "address", "tenure", "eligible",
    ...                "harm", "n_needs", "need_health", "carrier_health"])
    ['household_id', 'tenure', 'eligible', 'harm', 'n_needs', 'need_health']
    """
    read = {"household_id", *GROUP_COLUMNS, *CARRIED, *TARGETS}
    return [c for c in names if c in read or c.startswith("need_")]


def household_outcomes(
    households: pd.DataFrame,
    spine: pd.DataFrame,
    flags: pd.DataFrame,
    *,
    target: str,
) -> pd.DataFrame:
    """Join the council's flags to the truth, one row per true household.

    Parameters
    ----------
    households : DataFrame
        The truth table: ``household_id``, ``eligible``, ``harm`` and any of the
        group columns (:data:`simulator.vocabulary.GROUP_COLUMNS`), ``n_children``,
        ``n_needs`` and ``need_*``. ``imd_quintile`` is derived from ``imd_decile``
        if absent.
    spine : DataFrame
        The council's family index with ``spine_household_id`` and the hidden
        ``true_household_id``.
    flags : DataFrame
        One row per scored spine household: ``spine_household_id``, ``flagged``
        (bool) and ``score`` (float). Spine households without a row are not flagged.
    target : {'eligible', 'harm'}
        The truth column copied into ``y_true``.

    Returns
    -------
    DataFrame
        Every true household (also those with nobody on the spine), in the order of
        ``households``: ``household_id``, the group columns present, the carried truth
        columns, ``y_true`` (the target), ``flagged`` (a flag reached a member),
        ``score`` (the highest score of the spine households holding a member; NaN if
        none), ``on_spine`` (a member is on the spine) and ``n_spine_households``
        (how many spine households hold its members).

    Raises
    ------
    AuditError
        If ``target`` is not one of :data:`TARGETS`.
    InputDataError
        If a table lacks a column, repeats an id, or names an unknown household.
    """
    reach = _reach(households, spine, flags, target, with_score=True)
    n = len(households)
    pos = reach.pos
    on_spine = np.bincount(pos, minlength=n) > 0
    score = np.full(n, np.nan)
    np.fmax.at(score, pos, reach.row_score)
    n_spine = _distinct_per(pos, reach.spine_household, n)

    keep = ["household_id"]
    keep += [c for c in GROUP_COLUMNS if c in households.columns]
    keep += [c for c in CARRIED if c in households.columns]
    keep += [c for c in households.columns if c.startswith("need_")]
    out = households[keep].reset_index(drop=True)
    if "imd_quintile" not in out.columns and "imd_decile" in out.columns:
        decile = out["imd_decile"].to_numpy()
        out.insert(
            out.columns.get_loc("imd_decile") + 1,
            "imd_quintile",
            ((decile + 1) // 2).astype(np.int8),
        )
    return out.assign(
        y_true=households[target].to_numpy(dtype=bool),
        flagged=reach.reached(n),
        score=score,
        on_spine=on_spine,
        n_spine_households=n_spine.astype(np.int64),
    )


def household_flags(
    households: pd.DataFrame,
    spine: pd.DataFrame,
    flags: pd.DataFrame,
    *,
    target: str,
) -> pd.DataFrame:
    """:func:`household_outcomes`' ``household_id``, ``y_true`` and ``flagged`` only.

    What attribution reads of a rung's outcomes
    (:data:`audits.attribution.RUNG_COLUMNS`): the same values after the same
    checks of the ids, without the carried columns, the scores and the spine
    households counted. ``households`` needs ``household_id`` and ``target``
    only; ``flags`` needs no ``score``.

    Examples
    --------
    >>> h = pd.DataFrame({"household_id": [1, 2], "eligible": [True, False]})
    >>> s = pd.DataFrame({"spine_household_id": [7, 7], "true_household_id": [2, 2]})
    >>> f = pd.DataFrame({"spine_household_id": [7], "flagged": [True]})
    >>> household_flags(h, s, f, target="eligible")["flagged"].tolist()
    [False, True]
    """
    reach = _reach(households, spine, flags, target, with_score=False)
    return pd.DataFrame(
        {
            "household_id": households["household_id"].to_numpy(copy=True),
            "y_true": households[target].to_numpy(dtype=bool),
            "flagged": reach.reached(len(households)),
        }
    )


@dataclass(frozen=True)
class _Reach:
    """Each spine row's true household (its position), flag and score."""

    pos: np.ndarray
    spine_household: np.ndarray
    row_flag: np.ndarray
    row_score: np.ndarray | None

    def reached(self, n: int) -> np.ndarray:
        """Per true household ``0..n-1``: a flag reached one of its members."""
        return np.bincount(self.pos[self.row_flag], minlength=n) > 0


def _reach(
    households: pd.DataFrame,
    spine: pd.DataFrame,
    flags: pd.DataFrame,
    target: str,
    *,
    with_score: bool,
) -> _Reach:
    """The tables checked, and each spine row's household, flag and score.

    ``with_score``: :func:`household_outcomes`' (the households need both targets,
    the flags a score); else :func:`household_flags`'. Ids are found through
    :class:`simulator.id_positions.IdPositions` (a table indexed by id where they
    are numbered from 0, as generated).
    """
    if target not in TARGETS:
        raise AuditError(_INVALID_TARGET.format(allowed=list(TARGETS), target=target))
    truth = ["household_id", *(TARGETS if with_score else (target,))]
    require_columns(households, truth, "households")
    require_columns(spine, ["spine_household_id", "true_household_id"], "spine")
    wanted = ["spine_household_id", "flagged"] + ["score"] * with_score
    require_columns(flags, wanted, "flags")
    household_ids = IdPositions(households["household_id"].to_numpy())
    if not household_ids.is_unique:
        _unique(households["household_id"], "households", "household_id")
    flag_ids = IdPositions(flags["spine_household_id"].to_numpy())
    if not flag_ids.is_unique:
        _unique(flags["spine_household_id"], "flags", "spine_household_id")
    if (
        not pd.api.types.is_bool_dtype(flags["flagged"])
        or flags["flagged"].isna().any()
    ):
        raise InputDataError(_BAD_FLAGS.format(dtype=flags["flagged"].dtype))

    true_hh = spine["true_household_id"].to_numpy()
    pos = household_ids.positions(true_hh)
    if (pos < 0).any():
        unknown = pd.unique(true_hh[pos < 0])
        raise InputDataError(
            _UNKNOWN_HOUSEHOLDS.format(n=len(unknown), examples=list(unknown[:5]))
        )
    spine_hh = spine["spine_household_id"].to_numpy()
    flag_hh = flags["spine_household_id"].to_numpy()
    unknown_flags = ~IdPositions(spine_hh).contains(flag_hh)
    if unknown_flags.any():
        bad = flag_hh[unknown_flags]
        raise InputDataError(_UNKNOWN_SPINE.format(n=len(bad), examples=list(bad[:5])))

    fpos = flag_ids.positions(spine_hh)
    has_row = fpos >= 0
    safe = np.maximum(fpos, 0)
    row_flag = has_row & flags["flagged"].to_numpy(dtype=bool)[safe]
    row_score = None
    if with_score:
        score = flags["score"].to_numpy(dtype=float, na_value=np.nan)
        row_score = np.where(has_row, score[safe], np.nan)
    return _Reach(pos, spine_hh, row_flag, row_score)


def _distinct_per(pos: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per position ``0..n-1``, how many distinct ``values`` its rows have.

    Examples
    --------
    >>> _distinct_per(np.array([0, 0, 2, 0]), np.array([5, 5, 1, 6]), 3).tolist()
    [2, 0, 1]
    """
    if values.dtype.kind in "iu" and len(values) and values.min() >= 0:
        codes = values.astype(np.int64, copy=False)  # ids as generated, from 0
    else:
        codes = pd.factorize(values)[0].astype(np.int64)
    width = int(codes.max(initial=0)) + 1
    distinct = pd.unique(pos.astype(np.int64) * width + codes)
    return np.bincount(distinct // width, minlength=n)


def _binary(y_true, y_pred, sample_weight) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.asarray(y_true).astype(bool).ravel()
    p = np.asarray(y_pred).astype(bool).ravel()
    if t.shape != p.shape:
        raise ValueError(
            f"y_true and y_pred must have the same length, got {t.size} and {p.size}"
        )
    w = (
        np.ones(t.size)
        if sample_weight is None
        else np.asarray(sample_weight, float).ravel()
    )
    if w.shape != t.shape:
        raise ValueError(
            f"sample_weight must have one weight per row ({t.size}), got {w.size}"
        )
    return t, p, w


def wrongly_flagged_per_10k(y_true, y_pred, sample_weight=None) -> float:
    """Families flagged although not in the target, per 10,000 families.

    ``10_000 * FP / n``: of every 10,000 families in a group, how many a flag
    reached that do not meet the target (false positives over *all* families, not
    over the negatives as the false positive rate is). NaN for an empty group.

    Parameters
    ----------
    y_true : array-like of bool or {0, 1}
        The truth (the audit target).
    y_pred : array-like of bool or {0, 1}
        Whether a flag reached the family.
    sample_weight : array-like, optional
        Weight of each row (e.g. the number of families a row stands for).

    Returns
    -------
    float
        The rate per 10,000 families.
    """
    t, p, w = _binary(y_true, y_pred, sample_weight)
    total = w.sum()
    if total == 0:
        return float("nan")
    return float(PER * w[p & ~t].sum() / total)


def true_positives(y_true, y_pred, sample_weight=None) -> float:
    """Families in the target that a flag reached (weighted count).

    Parameters
    ----------
    y_true, y_pred : array-like of bool or {0, 1}
        The truth and whether a flag reached the family.
    sample_weight : array-like, optional
        Weight of each row.

    Returns
    -------
    float
    """
    t, p, w = _binary(y_true, y_pred, sample_weight)
    return float(w[t & p].sum())


def false_positives(y_true, y_pred, sample_weight=None) -> float:
    """Families a flag reached that are not in the target (weighted count).

    Parameters
    ----------
    y_true, y_pred : array-like of bool or {0, 1}
        The truth and whether a flag reached the family.
    sample_weight : array-like, optional
        Weight of each row.

    Returns
    -------
    float
    """
    t, p, w = _binary(y_true, y_pred, sample_weight)
    return float(w[~t & p].sum())


def false_negatives(y_true, y_pred, sample_weight=None) -> float:
    """Families in the target that no flag reached (weighted count).

    Parameters
    ----------
    y_true, y_pred : array-like of bool or {0, 1}
        The truth and whether a flag reached the family.
    sample_weight : array-like, optional
        Weight of each row.

    Returns
    -------
    float
    """
    t, p, w = _binary(y_true, y_pred, sample_weight)
    return float(w[t & ~p].sum())


def true_negatives(y_true, y_pred, sample_weight=None) -> float:
    """Families not in the target that no flag reached (weighted count).

    Parameters
    ----------
    y_true, y_pred : array-like of bool or {0, 1}
        The truth and whether a flag reached the family.
    sample_weight : array-like, optional
        Weight of each row.

    Returns
    -------
    float
    """
    t, p, w = _binary(y_true, y_pred, sample_weight)
    return float(w[~t & ~p].sum())
