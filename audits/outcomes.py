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

import numpy as np
import pandas as pd

from audits.errors import AuditError
from simulator.errors import InputDataError
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
    if target not in TARGETS:
        raise AuditError(_INVALID_TARGET.format(allowed=list(TARGETS), target=target))
    require_columns(households, ["household_id", "eligible", "harm"], "households")
    require_columns(spine, ["spine_household_id", "true_household_id"], "spine")
    require_columns(flags, ["spine_household_id", "flagged", "score"], "flags")
    _unique(households["household_id"], "households", "household_id")
    _unique(flags["spine_household_id"], "flags", "spine_household_id")
    if (
        not pd.api.types.is_bool_dtype(flags["flagged"])
        or flags["flagged"].isna().any()
    ):
        raise InputDataError(_BAD_FLAGS.format(dtype=flags["flagged"].dtype))

    hh_index = pd.Index(households["household_id"].to_numpy())
    true_hh = spine["true_household_id"].to_numpy()
    pos = hh_index.get_indexer(true_hh)
    if (pos < 0).any():
        unknown = pd.unique(true_hh[pos < 0])
        raise InputDataError(
            _UNKNOWN_HOUSEHOLDS.format(n=len(unknown), examples=list(unknown[:5]))
        )
    spine_hh = spine["spine_household_id"].to_numpy()
    flag_index = pd.Index(flags["spine_household_id"].to_numpy())
    unknown_flags = ~flag_index.isin(pd.unique(spine_hh))
    if unknown_flags.any():
        bad = flag_index[unknown_flags]
        raise InputDataError(_UNKNOWN_SPINE.format(n=len(bad), examples=list(bad[:5])))

    fpos = flag_index.get_indexer(spine_hh)
    has_row = fpos >= 0
    safe = np.maximum(fpos, 0)
    row_flag = has_row & flags["flagged"].to_numpy(dtype=bool)[safe]
    row_score = np.where(
        has_row, flags["score"].to_numpy(dtype=float, na_value=np.nan)[safe], np.nan
    )

    n = len(households)
    reached = np.bincount(pos, weights=row_flag, minlength=n) > 0
    on_spine = np.bincount(pos, minlength=n) > 0
    score = np.full(n, np.nan)
    np.fmax.at(score, pos, row_score)
    pairs = pd.DataFrame({"pos": pos, "spine": spine_hh}).drop_duplicates()
    n_spine = np.bincount(pairs["pos"].to_numpy(), minlength=n)

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
        flagged=reached,
        score=score,
        on_spine=on_spine,
        n_spine_households=n_spine.astype(np.int64),
    )


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
