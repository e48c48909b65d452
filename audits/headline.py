"""The headline comparison: one rate of one group against a reference group.

What an analyst quotes and a teacher projects, so it must hold up. The scenario
names its question (``audit.headline``, :mod:`simulator.schema.headline`); by
default it is the false positive rate of the most deprived fifth of areas against
the least deprived. For a flag metric :func:`headline_figure` gives both rates,
their difference in percentage points and their ratio, each with its interval;
pooled over the replicate worlds when there are several (:mod:`audits.pooled`), with
each world's own difference and ratio as the spread. For a linkage metric (link
recall, precision, missed- or false-link rate of one source's records by group)
:func:`linkage_figure` gives the same from each world's link quality by source and
group, with score intervals of the counts summed over the worlds, widened as the
audit's pooled intervals are when the worlds vary more than they explain.

A ratio resting on a handful of events in the reference group is not a finding: one
wrong flag more or less there halves or doubles it. :func:`ratio_stability` marks the
ratio unstable (``ratio_stable: false``) when the reference group has fewer than
:data:`MIN_REFERENCE_EVENTS` events (summed over replicates), or when more than
:data:`MAX_UNDEFINED_SHARE` of the resamples leave it undefined (a reference rate of
0), or when it is undefined outright; the console and the report then lead with the
rates and their difference, and say why the ratio is not quoted. The figure is never
dropped.
"""

# Over 600 lines: the flag and linkage headlines share their question, intervals,
# ratio rule and pooling over worlds; split, each half would import the other's.
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from audits.confusion import RATES
from audits.disparity import GroupingCounts
from audits.outcomes import PER
from audits.pooled import Pooled, interval_variance, pool, widen_by
from simulator.schema.headline import HeadlineConfig
from simulator.vocabulary import DEPRIVATION, LEAST_DEPRIVED, OVERALL

if TYPE_CHECKING:
    from audits.result import AuditResult

MIN_REFERENCE_EVENTS = 10
"""Fewest events (the rate's numerator, e.g. wrong flags for the false positive
rate) in the reference group, summed over replicates, for a ratio to be quoted."""
MAX_UNDEFINED_SHARE = 0.01
"""Largest share of resamples in which the ratio may be undefined and still quoted."""
MOST_DEPRIVED = "1"
"""The most deprived value of a deprivation grouping (IMD quintile or decile 1)."""


HeadlineSpec = HeadlineConfig
"""The comparison that leads (the scenario's ``audit.headline``): metric, grouping,
group, reference and, for a linkage metric, the source."""


def default_spec(result: AuditResult) -> HeadlineSpec | None:
    """The false positive rate of the most deprived group, if deprivation is audited."""
    for grouping in DEPRIVATION:
        if grouping in result.disparities.counts:
            return HeadlineSpec(metric="fpr", grouping=grouping, group=MOST_DEPRIVED)
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
    z = float(ndtri(0.5 + confidence / 2))  # the normal quantile
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
        The comparison; by default the scenario's (``audit.headline``), else
        :func:`default_spec` of ``results[0]``.

    Returns
    -------
    dict or None
        ``grouping``, then :func:`headline_figure` for a flag metric or
        :func:`linkage_figure` for a linkage metric (``source`` too); None if the
        grouping is not audited, no replicate has the group, or (a linkage metric)
        the audit has no links.
    """
    spec = spec or question_of(results[0]) or default_spec(results[0])
    if spec is None:
        return None
    if spec.is_linkage:
        return _linkage_headline(results, spec)
    if spec.grouping not in results[0].disparities.counts:
        return None
    parts = [r.disparities.counts[spec.grouping] for r in results]
    if spec.reference is not None:
        parts = [_with_reference(p, str(spec.reference)) for p in parts]
    confidence = float(results[0].config.confidence)
    figure = headline_figure(
        pool(parts, confidence), spec.metric, str(spec.group), confidence
    )
    return None if figure is None else {"grouping": spec.grouping, **figure}


def _with_reference(part: GroupingCounts, value: str) -> GroupingCounts:
    """``part`` with ``value`` as its reference group (unchanged if absent)."""
    if value not in part.values:
        return part
    return replace(part, reference=part.values.index(value))


def question_of(result: AuditResult) -> HeadlineSpec | None:
    """The scenario's own question (``audit.headline``), if it names one.

    None for a scenario without one, and for an audit of a table (whose section
    has no headline).
    """
    return getattr(result.config, "headline", None)


def headline_spec(result: AuditResult) -> HeadlineSpec | None:
    """The comparison the result leads with: the scenario's, else the default."""
    return question_of(result) or default_spec(result)


# ------------------------------------------------------------------- in words

METRIC_WORDS = {
    "selection_rate": "share flagged",
    "tpr": "true positive rate",
    "fpr": "false positive rate",
    "fnr": "false negative rate",
    "precision": "precision",
    "wrongly_flagged_per_10k": "wrongly flagged per 10,000 families",
    "link_recall": "link recall",
    "link_precision": "link precision",
    "missed_link_rate": "missed-link rate",
    "false_link_rate": "false-link rate",
}
"""The headline comparison's metric in words."""


def question(c: dict) -> str:
    """The comparison in words: metric (of which records), grouping, the two groups.

    ``c`` is the summary's ``comparison`` or its ``spec``.

    Examples
    --------
    >>> question({"metric": "fpr", "grouping": "imd_quintile", "group": "1",
    ...           "reference": "5"})
    'false positive rate, imd_quintile 1 vs 5'
    >>> question({"metric": "link_recall", "source": "police",
    ...           "grouping": "ethnicity", "group": "black", "reference": None})
    'link recall of police records, ethnicity black vs the reference'
    """
    metric = METRIC_WORDS.get(c["metric"], c["metric"])
    if c["metric"] in LINK_COUNTS:
        metric += f" of {records_of(c.get('source'))}"
    reference = c.get("reference")
    against = "the reference" if reference is None else reference
    return f"{metric}, {c['grouping']} {c['group']} vs {against}"


def records_of(source: str | None) -> str:
    """Whose records a linkage metric judges, in words.

    Examples
    --------
    >>> records_of("social_care"), records_of(None)
    ('social care records', "every source's records")
    """
    if source in (None, OVERALL):
        return "every source's records"
    return f"{str(source).replace('_', ' ')} records"


# ------------------------------------------------------------- linkage metrics

LINK_COUNTS: dict[str, tuple[str, str]] = {
    "link_recall": ("n_correct", "n_linkable"),
    "link_precision": ("n_correct", "n_linked"),
    "missed_link_rate": ("n_missed", "n_linkable"),
    "false_link_rate": ("n_false", "n_linked"),
}
"""Each linkage metric's numerator and denominator columns of link quality
(:data:`audits.link_quality.METRIC_COLUMNS`)."""


def _linkage_headline(
    results: Sequence[AuditResult], spec: HeadlineSpec
) -> dict[str, Any] | None:
    """A linkage metric's headline from each world's link quality by group."""
    tables = [r.link_quality for r in results]
    if any(t is None for t in tables):
        return None  # an audit of a score file has no links
    reference = spec.reference
    if reference is None:
        reference = results[0].config.reference.get(spec.grouping)  # type: ignore[call-overload]
    figure = linkage_figure(
        tables,  # type: ignore[arg-type]
        spec,
        None if reference is None else str(reference),
        float(results[0].config.confidence),
    )
    return None if figure is None else {"grouping": spec.grouping, **figure}


def link_counts(
    tables: Sequence[pd.DataFrame], spec: HeadlineSpec
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Each world's numerator and denominator of the spec's metric, by group.

    Parameters
    ----------
    tables : sequence of DataFrame
        Each world's ``linkage/quality_by_group``
        (:func:`audits.link_quality.by_source_and_group`).
    spec : HeadlineSpec
        A linkage metric; its ``source`` (None: every source together) and
        ``grouping`` select the rows.

    Returns
    -------
    values : tuple of str
        The groups, in order of first appearance.
    numerator, denominator : ndarray of int64, shape (R, G)
        Zero where a world lacks the group.
    """
    num_col, den_col = LINK_COUNTS[spec.metric]
    source = spec.source or OVERALL
    rows = [
        t[(t["source"].astype(str) == source) & (t["group"] == spec.grouping)]
        for t in tables
    ]
    values: list[str] = []
    for r in rows:  # over worlds
        values += [v for v in r["value"].astype(str) if v not in values]
    num = np.zeros((len(rows), len(values)), dtype=np.int64)
    den = np.zeros_like(num)
    for w, r in enumerate(rows):  # over worlds
        at = [values.index(v) for v in r["value"].astype(str)]
        num[w, at] = r[num_col].to_numpy(np.int64)
        den[w, at] = r[den_col].to_numpy(np.int64)
    return tuple(values), num, den


def default_link_reference(
    grouping: str, values: Sequence[str], denominator: np.ndarray
) -> str:
    """The least deprived group for deprivation, else the group with most records."""
    least = LEAST_DEPRIVED.get(grouping)
    if least is not None and str(least) in values:
        return str(least)
    return values[int(np.argmax(denominator))]


def mover_ratio(
    p1: float, bounds1: tuple[float, float], p2: float, bounds2: tuple[float, float]
) -> tuple[float, float]:
    """The MOVER interval of ``p1 / p2`` from each rate's score interval.

    Donner and Zou (2012), "Closed-form confidence intervals for functions of the
    normal mean and standard deviation", method of variance estimates recovery for
    a ratio: the companion of :func:`newcombe` for the difference, so both measures
    are built from the same Wilson intervals. NaN if ``p2`` is 0 (no ratio); the
    upper end is infinite if the reference's interval reaches 0.

    Examples
    --------
    >>> [round(x, 3) for x in mover_ratio(0.2, (0.15, 0.26), 0.1, (0.07, 0.14))]
    [1.283, 3.109]
    """
    (l1, u1), (l2, u2) = bounds1, bounds2
    if p2 <= 0:
        return np.nan, np.nan
    prod = p1 * p2
    low_root = max(0.0, prod**2 - l1 * u2 * (2 * p1 - l1) * (2 * p2 - u2))
    high_root = max(0.0, prod**2 - u1 * l2 * (2 * p1 - u1) * (2 * p2 - l2))
    low = (prod - np.sqrt(low_root)) / (u2 * (2 * p2 - u2))
    high_den = l2 * (2 * p2 - l2)
    high = (prod + np.sqrt(high_root)) / high_den if high_den > 0 else np.inf
    return float(max(0.0, low)), float(high)


def _link_rate(
    value: str, num: np.ndarray, den: np.ndarray, confidence: float
) -> dict[str, Any]:
    """One group's rate on counts summed over worlds, with its Wilson interval."""
    events, trials = int(num.sum()), int(den.sum())
    low, high = wilson(events, trials, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_world = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    return {
        "value": value,
        "estimate": events / trials if trials else np.nan,
        "ci_low": low,
        "ci_high": high,
        "numerator": events,
        "denominator": trials,
        "per_replicate": per_world.tolist(),
    }


def linkage_figure(
    tables: Sequence[pd.DataFrame],
    spec: HeadlineSpec,
    reference: str | None,
    confidence: float,
) -> dict[str, Any] | None:
    """A linkage metric of one group against a reference group, over the worlds.

    Counts are summed over the worlds (the pooling rule of every figure); each
    rate's within-world interval is the Wilson score interval of the summed counts
    (records counted as independent), the difference's Newcombe's hybrid score
    interval and the ratio's the MOVER interval built from the same two
    (:func:`mover_ratio`). With several worlds each interval then covers the
    variation between them as the audit's pooled intervals do
    (:func:`audits.pooled.widen_by`): when the worlds' own figures
    (``*_per_replicate``) vary more than the score interval's implied variance
    explains (:func:`audits.pooled.interval_variance`), it is widened about the
    estimate (on the log scale for the ratio; ``widened`` says so). With one world
    the intervals are the score intervals.

    Parameters
    ----------
    tables : sequence of DataFrame
        Each world's ``linkage/quality_by_group``, replicate 0 first.
    spec : HeadlineSpec
        A linkage metric.
    reference : str or None
        The reference group; None for :func:`default_link_reference`.
    confidence : float

    Returns
    -------
    dict or None
        The keys of :func:`headline_figure` (``ratio_undefined_resamples`` and
        ``n_resamples`` 0: no resampling), plus ``source``; None if no world has
        the group or the reference.
    """
    values, num, den = link_counts(tables, spec)
    group = str(spec.group)
    if reference is None and values:
        reference = default_link_reference(spec.grouping, values, den.sum(axis=0))
    if group not in values or reference not in values:
        return None
    g, r = values.index(group), values.index(reference)
    rates = [_link_rate(values[k], num[:, k], den[:, k], confidence) for k in (g, r)]
    p1, p2 = rates[0]["estimate"], rates[1]["estimate"]
    b1 = (rates[0]["ci_low"], rates[0]["ci_high"])
    b2 = (rates[1]["ci_low"], rates[1]["ci_high"])
    ratio = p1 / p2 if p2 > 0 else np.nan
    stable, note = ratio_stability(rates[1]["numerator"], 0, 0, ratio)
    g_world = np.asarray(rates[0]["per_replicate"], dtype=float)
    r_world = np.asarray(rates[1]["per_replicate"], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        world_ratio = np.where(r_world > 0, g_world / r_world, np.nan)
    d_low, d_high, d_wide = _across_worlds(
        p1 - p2, newcombe(p1, b1, p2, b2), g_world - r_world, confidence
    )
    r_low, r_high, r_wide = _across_worlds(
        ratio, mover_ratio(p1, b1, p2, b2), world_ratio, confidence, log=True
    )
    for rate in rates:
        low, high, _ = _across_worlds(
            rate["estimate"],
            (rate["ci_low"], rate["ci_high"]),
            np.asarray(rate["per_replicate"], dtype=float),
            confidence,
        )
        # np's, not Python's max and min: a rate of no records (nan) keeps an
        # undefined interval rather than turning into (0, 1) by accident
        rate["ci_low"] = float(np.maximum(0.0, low))
        rate["ci_high"] = float(np.minimum(1.0, high))
    return {
        "metric": spec.metric,
        "source": spec.source or OVERALL,
        "group": group,
        "reference": reference,
        "replicates": len(tables),
        "confidence": confidence,
        "interval_method": "Wilson score intervals of the counts summed over worlds "
        "(Newcombe for the difference, MOVER for the ratio), widened by the "
        "variation between worlds where it exceeds them",
        "group_rate": rates[0],
        "reference_rate": rates[1],
        "difference": p1 - p2,
        "difference_ci_low": d_low,
        "difference_ci_high": d_high,
        "difference_per_replicate": (g_world - r_world).tolist(),
        "ratio": ratio,
        "ratio_ci_low": r_low,
        "ratio_ci_high": r_high,
        "ratio_per_replicate": world_ratio.tolist(),
        "ratio_undefined_resamples": 0,
        "n_resamples": 0,
        "ratio_stable": stable,
        "ratio_note": note,
        "widened": d_wide or r_wide,
    }


def _across_worlds(
    point: float,
    bounds: tuple[float, float],
    per_world: np.ndarray,
    confidence: float,
    *,
    log: bool = False,
) -> tuple[float, float, bool]:
    """A score interval widened by the variation between worlds (one world: as is).

    The within-world variance is the one the score interval implies
    (:func:`audits.pooled.interval_variance`), the between-world part that of the
    worlds' own figures (:func:`audits.pooled.widen_by`, the audit's rule).
    """
    low, high = np.asarray(bounds[0], dtype=float), np.asarray(bounds[1], dtype=float)
    within = interval_variance(low, high, confidence, log=log)
    lo, hi, wide = widen_by(
        np.asarray(point, dtype=float), (low, high), within, per_world, log=log
    )
    return float(lo), float(hi), bool(wide)
