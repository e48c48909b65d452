"""Intervals across worlds: resampling within each replicate and variation between them.

One simulated council is one draw of a random world. A bootstrap of its households
says how much a figure would move if the same world's families were sampled again;
it cannot say how much the figure moves when the whole world (areas, families,
records, errors, links) is drawn again. With ``audit.replicates`` R > 1 the audit has
R independent worlds, and every figure here is pooled over them and given an interval
that covers both (docs/audit.md, "Intervals across worlds"):

- the estimate is that of the counts summed over replicates (the pooling rule of
  :mod:`audits.replicates`);
- the within-world part is the pooled-count bootstrap: each replicate's own
  household resamples (:attr:`audits.disparity.Disparities.counts`, the very
  resamples of its tables) summed resample by resample, so with R = 1 every interval
  is exactly the run's own percentile interval;
- the between-world part is a random-effects check: if the replicates' own estimates
  vary more than the within-world resampling explains (their variance over R, the
  variance of a mean of R worlds, exceeds the pooled bootstrap's variance), the
  percentile interval is widened about the estimate by
  ``sqrt(var_between / R / var_within)``, on the log scale for ratios. That is
  ``var_total = within + max(0, between - within)`` with both sides measured for the
  pooled figure; it never narrows an interval. A figure whose within-world interval
  is a score interval rather than resamples (the linkage headline) takes the
  variance that interval implies (:func:`interval_variance`, :func:`widen_by`).

Everything is array arithmetic over (resamples, metrics, groups).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri

from audits.confusion import RATES, divide, fractions, percentile_interval
from audits.disparity import GroupingCounts


@dataclass(frozen=True)
class Pooled:
    """One grouping's rates pooled over replicates, with intervals across worlds.

    Arrays of shape (metrics, groups) have metrics in :data:`audits.confusion.RATES`
    order and groups in ``values`` order; per-replicate arrays have a leading
    replicate axis.

    Attributes
    ----------
    values : tuple of str
        The groups, in order of first appearance over the replicates.
    reference : int
        Position of the reference group (replicate 0's).
    replicates : int
        R, the number of worlds pooled.
    n_boot : int
        Resamples per world.
    numerator, denominator : ndarray of int64, shape (M, G)
        Each rate's counts summed over replicates.
    estimate, ci_low, ci_high : ndarray, shape (M, G)
        The pooled rate and its interval.
    ratio, ratio_ci_low, ratio_ci_high : ndarray, shape (M, G)
        Ratio to the reference group's pooled rate (NaN if undefined).
    ratio_undefined : ndarray of int64, shape (M, G)
        Pooled resamples in which the ratio is undefined (reference rate 0).
    boot_undefined, diff_undefined : ndarray of int64, shape (M, G)
        Pooled resamples in which the rate (the difference) is undefined.
    diff, diff_ci_low, diff_ci_high : ndarray, shape (M, G)
        Difference to the reference group's pooled rate.
    per_replicate_estimate, per_replicate_ratio, per_replicate_diff : ndarray
        Shape (R, M, G): each world's own figures (the spread between worlds).
    widened : ndarray of bool, shape (3, M, G)
        Whether the between-world part widened the interval of the rate, the
        ratio and the difference.
    """

    values: tuple[str, ...]
    reference: int
    replicates: int
    n_boot: int
    numerator: np.ndarray
    denominator: np.ndarray
    estimate: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    ratio: np.ndarray
    ratio_ci_low: np.ndarray
    ratio_ci_high: np.ndarray
    ratio_undefined: np.ndarray
    diff: np.ndarray
    diff_ci_low: np.ndarray
    diff_ci_high: np.ndarray
    per_replicate_estimate: np.ndarray
    per_replicate_ratio: np.ndarray
    per_replicate_diff: np.ndarray
    widened: np.ndarray
    boot_undefined: np.ndarray
    diff_undefined: np.ndarray

    def index(self, value: str) -> int | None:
        """Position of a group's value, or None if no replicate has it."""
        return self.values.index(value) if value in self.values else None


def align(
    parts: Sequence[GroupingCounts],
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, int]:
    """One grouping's counts of several replicates on a shared group axis.

    Parameters
    ----------
    parts : sequence of GroupingCounts
        The grouping in each replicate (same ``n_boot``).

    Returns
    -------
    values : tuple of str
        Every group present in some replicate, in order of first appearance.
    observed : ndarray of int64, shape (R, G, 4)
        Zero where a replicate lacks the group.
    resampled : ndarray of int64, shape (R, B, G, 4)
    reference : int
        Position of replicate 0's reference group.
    """
    values: list[str] = []
    for part in parts:  # over replicates
        values += [v for v in part.values if v not in values]
    n_boot = parts[0].resamples.shape[0]
    observed = np.zeros((len(parts), len(values), 4), dtype=np.int64)
    resampled = np.zeros((len(parts), n_boot, len(values), 4), dtype=np.int64)
    for r, part in enumerate(parts):  # over replicates
        at = [values.index(v) for v in part.values]
        observed[r, at] = part.counts
        resampled[r][:, at] = part.resamples
    reference = values.index(parts[0].values[parts[0].reference])
    return tuple(values), observed, resampled, reference


def _rates(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numerators, denominators and rates stacked as (..., M, G) from (..., G, 4)."""
    parts = fractions(counts)
    num = np.stack([parts[m][0] for m in RATES], axis=-2)
    den = np.stack([parts[m][1] for m in RATES], axis=-2)
    return num, den, divide(num, den)


def _versus(rate: np.ndarray, reference: int) -> tuple[np.ndarray, np.ndarray]:
    """Ratio and difference of each group's rate to the reference's (last axis)."""
    base = rate[..., reference : reference + 1]
    return divide(rate, base), rate - base


def _log(x: np.ndarray) -> np.ndarray:
    """Natural log, NaN where x is not positive (an undefined log ratio)."""
    x = np.asarray(x, dtype=float)
    return np.log(x, out=np.full(x.shape, np.nan), where=x > 0)


def widen(
    point: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    resampled: np.ndarray,
    per_world: np.ndarray,
    *,
    log: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Widen a percentile interval when worlds vary more than resampling explains.

    Parameters
    ----------
    point, low, high : ndarray, shape (...)
        The pooled estimate and its pooled-bootstrap percentile interval.
    resampled : ndarray, shape (B, ...)
        The pooled statistic in every resample.
    per_world : ndarray, shape (R, ...)
        Each replicate's own statistic.
    log : bool
        Work on the log scale (ratios): a zero end stays zero.

    Returns
    -------
    low, high : ndarray
        The interval, scaled about ``point`` by ``k = sqrt(max(1, s2 / R /
        v_within))``, where ``s2`` is the variance of the defined per-world
        values (``ddof=1``) and ``v_within`` the variance of the resampled ones
        (unchanged where either is undefined, or R < 2).
    widened : ndarray of bool
        Where ``k > 1``.
    """
    f = _log if log else np.asarray
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: k stays 1
        within = np.nanvar(f(resampled), axis=0)
    return widen_by(point, (low, high), within, per_world, log=log)


def interval_variance(
    low: np.ndarray, high: np.ndarray, confidence: float, *, log: bool = False
) -> np.ndarray:
    """The within-world variance an interval implies: ``((high - low) / 2z)^2``.

    For an interval not drawn from resamples (a score interval), the variance
    :func:`widen_by` compares the worlds' spread with; on the log scale for
    ratios. NaN where an end is undefined (or, on the log scale, not positive).
    """
    f = _log if log else np.asarray
    z = float(ndtri(0.5 + confidence / 2))  # the normal quantile
    with np.errstate(invalid="ignore"):
        return ((f(high) - f(low)) / (2 * z)) ** 2


def widen_by(
    point: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
    within: np.ndarray,
    per_world: np.ndarray,
    *,
    log: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Widen an interval whose within-world variance is ``within`` (:func:`widen`).

    ``within`` is the pooled statistic's within-world variance on the scale used
    (of the resamples for :func:`widen`, :func:`interval_variance` for a score
    interval); ``bounds`` is the interval (low, high); ``point``, ``per_world`` (R
    leading), ``log`` and the result are as in :func:`widen`, which this is the
    core of.
    """
    low, high = bounds
    f = _log if log else np.asarray
    defined = np.isfinite(f(per_world))
    n_worlds = defined.sum(axis=0)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: k stays 1
        between = np.nanvar(f(per_world), axis=0, ddof=1) / n_worlds
        k = np.sqrt(np.maximum(1.0, between / within))
    k = np.where(np.isfinite(k) & (n_worlds >= 2), k, 1.0)
    centre = f(point)
    with np.errstate(invalid="ignore"):
        lo = centre - k * (centre - f(low))
        hi = centre + k * (f(high) - centre)
    if log:
        lo = np.where(np.asarray(low) == 0, 0.0, np.exp(lo))
        hi = np.exp(hi)
    keep = k == 1.0
    return np.where(keep, low, lo), np.where(keep, high, hi), ~keep


def pool(parts: Sequence[GroupingCounts], confidence: float) -> Pooled:
    """Pool one grouping over replicates, with intervals across worlds.

    Parameters
    ----------
    parts : sequence of GroupingCounts
        The grouping in each replicate (:attr:`audits.disparity.Disparities.counts`).
    confidence : float
        E.g. 0.95.

    Returns
    -------
    Pooled
        With one replicate, the run's own estimates and percentile intervals.
    """
    values, observed, resampled, ref = align(parts)
    num, den, est = _rates(observed.sum(axis=0))  # (M, G)
    boot = _rates(resampled.sum(axis=0))[2]  # (B, M, G)
    per_world = _rates(observed)[2]  # (R, M, G)
    ratio, diff = _versus(est, ref)
    boot_ratio, boot_diff = _versus(boot, ref)
    world_ratio, world_diff = _versus(per_world, ref)
    lo, hi, und = percentile_interval(boot, confidence)
    r_lo, r_hi, r_und = percentile_interval(boot_ratio, confidence)
    d_lo, d_hi, d_und = percentile_interval(boot_diff, confidence)
    lo, hi, w_rate = widen(est, lo, hi, boot, per_world)
    lo = np.clip(lo, 0.0, None)
    r_lo, r_hi, w_ratio = widen(ratio, r_lo, r_hi, boot_ratio, world_ratio, log=True)
    d_lo, d_hi, w_diff = widen(diff, d_lo, d_hi, boot_diff, world_diff)
    return Pooled(
        values=values,
        reference=ref,
        replicates=len(parts),
        n_boot=int(resampled.shape[1]),
        numerator=num.astype(np.int64),
        denominator=den.astype(np.int64),
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        ratio=ratio,
        ratio_ci_low=r_lo,
        ratio_ci_high=r_hi,
        ratio_undefined=r_und,
        diff=diff,
        diff_ci_low=d_lo,
        diff_ci_high=d_hi,
        per_replicate_estimate=per_world,
        per_replicate_ratio=world_ratio,
        per_replicate_diff=world_diff,
        widened=np.stack([w_rate, w_ratio, w_diff]),
        boot_undefined=und,
        diff_undefined=d_und,
    )


INTERVAL_COLUMNS = (
    "ci_low",
    "ci_high",
    "ratio_ci_low",
    "ratio_ci_high",
    "ratio_boot_undefined",
    "diff_ci_low",
    "diff_ci_high",
    "widened",
)
"""Interval columns :func:`interval_rows` gives each pooled (group, value, metric)."""


def interval_rows(
    counts: Sequence[dict[str, GroupingCounts]], confidence: float
) -> pd.DataFrame:
    """Intervals across worlds of every grouping's rates, ratios and differences.

    Parameters
    ----------
    counts : sequence of dict of str to GroupingCounts
        Each replicate's :attr:`audits.disparity.Disparities.counts`.
    confidence : float

    Returns
    -------
    DataFrame
        One row per grouping (``group``, ``overall`` included), ``value`` and
        ``metric``: :data:`INTERVAL_COLUMNS` (``widened``: the between-world part
        widened the rate's, the ratio's or the difference's interval). Empty if the
        results kept no counts.
    """
    frames = []
    for label in counts[0] if counts else ():  # over groupings
        p = pool([c[label] for c in counts if label in c], confidence)
        n_metrics, n_groups = p.estimate.shape
        frames.append(
            pd.DataFrame(
                {
                    "group": label,
                    "value": np.tile(np.asarray(p.values, dtype=object), n_metrics),
                    "metric": np.repeat(RATES, n_groups),
                    "ci_low": p.ci_low.ravel(),
                    "ci_high": p.ci_high.ravel(),
                    "ratio_ci_low": p.ratio_ci_low.ravel(),
                    "ratio_ci_high": p.ratio_ci_high.ravel(),
                    "ratio_boot_undefined": p.ratio_undefined.ravel(),
                    "diff_ci_low": p.diff_ci_low.ravel(),
                    "diff_ci_high": p.diff_ci_high.ravel(),
                    "widened": p.widened.any(axis=0).ravel(),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["group", "value", "metric", *INTERVAL_COLUMNS])
    return pd.concat(frames, ignore_index=True)
