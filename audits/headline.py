"""The headline comparison: one rate of one group against a reference group.

What an analyst quotes and a teacher projects, so it must hold up. For any
(metric, grouping, group, reference) -- by default the false positive rate of the
most deprived fifth of areas against the least deprived -- :func:`headline_figure`
gives both rates, their difference in percentage points and their ratio, each with
its interval; pooled over the replicate worlds when there are several
(:mod:`audits.pooled`), with each world's own difference and ratio as the spread.

A ratio resting on a handful of events in the reference group is not a finding: one
wrong flag more or less there halves or doubles it. :func:`ratio_stability` marks the
ratio unstable (``ratio_stable: false``) when the reference group has fewer than
:data:`MIN_REFERENCE_EVENTS` events (summed over replicates), or when more than
:data:`MAX_UNDEFINED_SHARE` of the resamples leave it undefined (a reference rate of
0), or when it is undefined outright; the console and the report then lead with the
rates and their difference, and say why the ratio is not quoted. The figure is never
dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.stats import norm

from audits.confusion import RATES
from audits.disparity import GroupingCounts
from audits.outcomes import PER
from audits.pooled import Pooled, pool
from simulator.vocabulary import DEPRIVATION

if TYPE_CHECKING:
    from audits.result import AuditResult

MIN_REFERENCE_EVENTS = 10
"""Fewest events (the rate's numerator, e.g. wrong flags for the false positive
rate) in the reference group, summed over replicates, for a ratio to be quoted."""
MAX_UNDEFINED_SHARE = 0.01
"""Largest share of resamples in which the ratio may be undefined and still quoted."""
MOST_DEPRIVED = "1"


@dataclass(frozen=True)
class HeadlineSpec:
    """Which comparison leads: a rate of one group against a reference group.

    Attributes
    ----------
    metric : str
        A rate of :data:`audits.confusion.RATES`.
    grouping : str
        A grouping label audited (a column, or ``"a × b"``).
    group : str
        The group's value as text.
    reference : str or None
        The reference group's value; None for the audit's own reference.
    """

    metric: str = "fpr"
    grouping: str = "imd_quintile"
    group: str = MOST_DEPRIVED
    reference: str | None = None


def default_spec(result: AuditResult) -> HeadlineSpec | None:
    """The false positive rate of the most deprived group, if deprivation is audited."""
    for grouping in DEPRIVATION:
        if grouping in result.disparities.counts:
            return HeadlineSpec("fpr", grouping, MOST_DEPRIVED)
    return None


def ratio_stability(
    reference_events: int, undefined: int, n_resamples: int, ratio: float
) -> tuple[bool, str]:
    """Whether a ratio may be quoted, and if not, why, in a plain sentence.

    Parameters
    ----------
    reference_events : int
        The reference group's numerator (summed over replicates).
    undefined : int
        Resamples in which the ratio is undefined.
    n_resamples : int
        Resamples drawn.
    ratio : float
        The ratio (NaN if undefined).

    Returns
    -------
    stable : bool
    note : str
        Empty when stable.

    Examples
    --------
    >>> ratio_stability(3, 40, 1000, 7.5)[0]
    False
    >>> ratio_stability(25, 0, 1000, 6.0)
    (True, '')
    """
    if not np.isfinite(ratio):
        return False, (
            "the ratio is undefined: the reference group has no events, so compare "
            "the rates and their difference"
        )
    if reference_events < MIN_REFERENCE_EVENTS:
        return False, (
            f"the ratio rests on {reference_events} event"
            f"{'' if reference_events == 1 else 's'} in the reference group (fewer "
            f"than {MIN_REFERENCE_EVENTS}), so one event more or less moves it a lot: "
            "compare the rates and their difference"
        )
    if undefined > MAX_UNDEFINED_SHARE * n_resamples:
        return False, (
            f"the ratio is undefined in {undefined:,} of {n_resamples:,} resamples "
            f"(more than {MAX_UNDEFINED_SHARE:.0%}), so its interval is not reliable: "
            "compare the rates and their difference"
        )
    return True, ""


def wilson(events: float, trials: float, confidence: float) -> tuple[float, float]:
    """The Wilson score interval of a proportion: defined, and not empty, at 0 events.

    Examples
    --------
    >>> [round(x, 4) for x in wilson(0, 3700, 0.95)]
    [0.0, 0.001]
    """
    if trials <= 0:
        return np.nan, np.nan
    z = float(norm.ppf(0.5 + confidence / 2))
    p = events / trials
    centre = (p + z**2 / (2 * trials)) / (1 + z**2 / trials)
    half = (
        z * np.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2)) / (1 + z**2 / trials)
    )
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def newcombe(
    p1: float, bounds1: tuple[float, float], p2: float, bounds2: tuple[float, float]
) -> tuple[float, float]:
    """Newcombe's hybrid score interval of ``p1 - p2`` from each rate's interval."""
    (l1, u1), (l2, u2) = bounds1, bounds2
    d = p1 - p2
    return (
        d - float(np.hypot(p1 - l1, u2 - p2)),
        d + float(np.hypot(u1 - p1, p2 - l2)),
    )


def _rate(
    p: Pooled, m: int, g: int, bounds: tuple[float, float] | None
) -> dict[str, Any]:
    """A group's pooled rate; ``bounds`` widens its interval (a score interval)."""
    low, high = float(p.ci_low[m, g]), float(p.ci_high[m, g])
    if bounds is not None:
        low, high = float(np.fmin(low, bounds[0])), float(np.fmax(high, bounds[1]))
    return {
        "value": p.values[g],
        "estimate": float(p.estimate[m, g]),
        "ci_low": low,
        "ci_high": high,
        "numerator": int(p.numerator[m, g]),
        "denominator": int(p.denominator[m, g]),
        "per_replicate": p.per_replicate_estimate[:, m, g].tolist(),
    }


def _small_count_rates(
    pooled: Pooled, m: int, groups: tuple[int, int], scale: int, confidence: float
) -> tuple[dict[str, Any], dict[str, Any], tuple[float, float]] | None:
    """Both rates and the difference's score interval if either has few events.

    With fewer than :data:`MIN_REFERENCE_EVENTS` events in either group the
    percentile bootstrap can collapse (0 events resample to 0 every time), so each
    rate's interval is widened to cover its Wilson interval and the difference's to
    cover Newcombe's; None when both groups have enough events.
    """
    events = [pooled.numerator[m, k] / scale for k in groups]
    if min(events) >= MIN_REFERENCE_EVENTS:
        return None
    rates = []
    for k, e in zip(groups, events, strict=True):  # the two groups
        low, high = wilson(e, float(pooled.denominator[m, k]), confidence)
        rates.append(_rate(pooled, m, k, (low * scale, high * scale)))
    g, r = rates
    diff = newcombe(
        g["estimate"],
        (g["ci_low"], g["ci_high"]),
        r["estimate"],
        (r["ci_low"], r["ci_high"]),
    )
    return g, r, diff


def headline_figure(
    pooled: Pooled, metric: str, group: str, confidence: float
) -> dict[str, Any] | None:
    """One group's rate against the reference's: rates, difference and ratio.

    Parameters
    ----------
    pooled : Pooled
        The grouping pooled over replicates (:func:`audits.pooled.pool`).
    metric : str
        A rate of :data:`audits.confusion.RATES`.
    group : str
        The group's value.
    confidence : float

    Returns
    -------
    dict or None
        None if no replicate has the group. Otherwise ``metric``, ``group``,
        ``reference``, ``replicates``, ``confidence``, ``group_rate`` and
        ``reference_rate`` (estimate, interval, counts, each replicate's value),
        ``difference`` and ``ratio`` with ``*_ci_low``/``*_ci_high`` and each
        replicate's own (``*_per_replicate``), ``ratio_undefined_resamples``,
        ``n_resamples``, ``ratio_stable`` and ``ratio_note`` (why not, if not),
        ``widened`` (the between-world part widened the ratio or difference).
    """
    g = pooled.index(group)
    if g is None:
        return None
    m, ref = RATES.index(metric), pooled.reference
    scale = PER if metric == "wrongly_flagged_per_10k" else 1  # numerator per event
    undefined = int(pooled.ratio_undefined[m, g])
    ratio = float(pooled.ratio[m, g])
    stable, note = ratio_stability(
        int(pooled.numerator[m, ref] // scale), undefined, pooled.n_boot, ratio
    )
    d_low, d_high = float(pooled.diff_ci_low[m, g]), float(pooled.diff_ci_high[m, g])
    small = _small_count_rates(pooled, m, (g, ref), scale, confidence)
    if small is None:
        rates = _rate(pooled, m, g, None), _rate(pooled, m, ref, None)
        method = "percentile bootstrap"
    else:
        *rates, (s_low, s_high) = small
        d_low, d_high = float(np.fmin(d_low, s_low)), float(np.fmax(d_high, s_high))
        method = "percentile bootstrap widened to the score interval (few events)"
    return {
        "metric": metric,
        "group": pooled.values[g],
        "reference": pooled.values[ref],
        "replicates": pooled.replicates,
        "confidence": confidence,
        "interval_method": method,
        "group_rate": rates[0],
        "reference_rate": rates[1],
        "difference": float(pooled.diff[m, g]),
        "difference_ci_low": d_low,
        "difference_ci_high": d_high,
        "difference_per_replicate": [
            float(x) for x in pooled.per_replicate_diff[:, m, g]
        ],
        "ratio": ratio,
        "ratio_ci_low": float(pooled.ratio_ci_low[m, g]),
        "ratio_ci_high": float(pooled.ratio_ci_high[m, g]),
        "ratio_per_replicate": pooled.per_replicate_ratio[:, m, g].tolist(),
        "ratio_undefined_resamples": undefined,
        "n_resamples": pooled.n_boot,
        "ratio_stable": stable,
        "ratio_note": note,
        "widened": bool(pooled.widened[1:, m, g].any()),
    }


def headline(
    results: Sequence[AuditResult], spec: HeadlineSpec | None = None
) -> dict[str, Any] | None:
    """The headline comparison of a run, pooled over its replicate audits.

    Parameters
    ----------
    results : sequence of AuditResult
        Replicate 0 first, then the other replicates (may be just one).
    spec : HeadlineSpec, optional
        The comparison; by default :func:`default_spec` of ``results[0]``.

    Returns
    -------
    dict or None
        :func:`headline_figure` with ``grouping``; None if the grouping is not
        audited or no replicate has the group.
    """
    spec = spec or default_spec(results[0])
    if spec is None or spec.grouping not in results[0].disparities.counts:
        return None
    parts = [r.disparities.counts[spec.grouping] for r in results]
    if spec.reference is not None:
        parts = [_with_reference(p, spec.reference) for p in parts]
    confidence = float(results[0].config.confidence)
    figure = headline_figure(
        pool(parts, confidence), spec.metric, spec.group, confidence
    )
    return None if figure is None else {"grouping": spec.grouping, **figure}


def _with_reference(part: GroupingCounts, value: str) -> GroupingCounts:
    """``part`` with ``value`` as its reference group (unchanged if absent)."""
    if value not in part.values:
        return part
    return replace(part, reference=part.values.index(value))
