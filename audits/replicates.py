"""Pooling replicate runs: one rule for the run, the sweep and the explorer.

A scenario can ask for ``audit.replicates`` runs with different seeds (the pipeline
runs them, :func:`simulator.pipeline.run.replicate_scenario`), and ``linkaudit sweep
--replicates`` runs each point that many times. The bootstrap interval of one run says
how much a figure would move if the same world's households were sampled again; the
spread across replicates says how much it moves when the whole world (population,
records, errors, linkage) is drawn again.

The pooling rule (docs/audit.md, "Replicates: one pooling rule"): a rate pooled over
replicates is the rate of the counts summed across them (:func:`pool_rates`: the
sum of the numerators over the sum of the denominators), and the pooled ratio and
difference to the reference group are those of the pooled rates
(:func:`against_reference`). Not the mean of the per-replicate ratios, which is biased
upwards (a ratio is convex in its denominator) and undefined as soon as one
replicate has no event in the reference group. A pooled ratio is undefined only when
the reference group has no event in any replicate, or when the replicates do not
share one reference group; either way it is NaN with a ``ratio_note`` saying why, and
the replicates whose own ratio is undefined are counted (``ratio_undefined``), never
dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from audits.confusion import CONFUSION, FAIRNESS, divide, fairness, fractions
from audits.errors import AuditError
from audits.metrics import count_table
from audits.pooled import interval_rows
from audits.result import AuditResult
from simulator.frames import STRING
from simulator.vocabulary import OVERALL

RATE_COLUMNS = ("numerator", "denominator", "estimate")
"""Columns of one rate in one run (:func:`rate_rows`)."""
SPREAD = ("replicates", "undefined", "sd", "min", "max")
"""The spread of a figure across replicates: how many define it, how many do not,
its standard deviation (``ddof=1``; NaN for one replicate), minimum and maximum."""
POOLED = ("numerator", "denominator", "estimate", *SPREAD)
"""Columns of a pooled rate (:func:`pool_rates`)."""
VERSUS = (
    "reference",
    "ratio_to_ref",
    "diff_to_ref",
    "ratio_note",
    "ratio_undefined",
    "ratio_min",
    "ratio_max",
    "diff_min",
    "diff_max",
)
"""Columns :func:`against_reference` adds."""
RATIO_UNDEFINED = "undefined: the reference group's pooled rate is 0"
"""Note of a pooled ratio whose reference group has no event in any replicate."""
RATIO_MIXED = "undefined: the reference differs between replicates"
"""Note of a pooled ratio whose replicates do not share one reference group."""
_NO_RESULTS = "pool_replicates needs at least one audit result, got none"
_MIXED_AUDITS = (
    "replicates must share one audit configuration (target, groupings, n_boot, "
    "confidence); result {index} differs from result 0"
)


def rate_rows(table: pd.DataFrame) -> pd.DataFrame:
    """A metric table's rates as long rows with their numerators and denominators.

    Parameters
    ----------
    table : DataFrame
        A metric table (:data:`audits.metrics.COLUMNS`: ``group``, ``value`` and the
        confusion counts).

    Returns
    -------
    DataFrame
        One row per table row and rate (:data:`audits.confusion.RATES`, rate-major):
        ``group``, ``value``, ``metric``, ``numerator``, ``denominator`` and
        ``estimate`` (their ratio, NaN when the denominator is 0).
    """
    parts = fractions(table[list(CONFUSION)].to_numpy(dtype=np.int64))
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "group": table["group"].to_numpy(),
                    "value": table["value"].to_numpy(),
                    "metric": metric,
                    "numerator": num,
                    "denominator": den,
                    "estimate": divide(num, den),
                }
            )
            for metric, (num, den) in parts.items()
        ],
        ignore_index=True,
    )


def pool_rates(rows: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Rates pooled over replicates: summed numerators over summed denominators.

    Parameters
    ----------
    rows : DataFrame
        One row per replicate and key: ``keys``, ``numerator``, ``denominator`` and
        ``estimate`` (the replicate's own rate, NaN where undefined).
    keys : sequence of str
        The columns naming one figure (e.g. ``group``, ``value``, ``metric``).

    Returns
    -------
    DataFrame
        One row per key, in order of first appearance: ``keys`` and :data:`POOLED`
        (the summed counts, the pooled ``estimate``, and the spread of the
        replicates' own estimates).

    Examples
    --------
    >>> rows = pd.DataFrame({"value": ["a", "a"], "numerator": [1, 3],
    ...                      "denominator": [10, 30], "estimate": [0.1, 0.1]})
    >>> pool_rates(rows, ["value"])[["value", "estimate", "replicates"]]
      value  estimate  replicates
    0     a       0.1           2
    """
    grouped = rows.groupby(list(keys), sort=False, observed=True, dropna=False)
    out = grouped.agg(
        numerator=("numerator", "sum"),
        denominator=("denominator", "sum"),
        replicates=("estimate", "count"),
        runs=("estimate", "size"),
        sd=("estimate", "std"),
        min=("estimate", "min"),
        max=("estimate", "max"),
    ).reset_index()
    out["estimate"] = divide(out["numerator"], out["denominator"])
    out["undefined"] = (out["runs"] - out["replicates"]).astype(np.int64)
    out["replicates"] = out["replicates"].astype(np.int64)
    return out[[*keys, *POOLED]]


def _shared_reference(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per ``by``: the replicates' reference group, and whether they differ."""
    named = rows.loc[rows["reference"].notna(), [*by, "reference"]]
    grouped = named.astype({"reference": str}).groupby(by, sort=False, dropna=False)
    out = grouped["reference"].agg(
        reference=lambda r: "/".join(sorted(set(r))), n_references="nunique"
    )
    return out.reset_index()


def against_reference(
    rows: pd.DataFrame, pooled: pd.DataFrame, by: Sequence[str]
) -> pd.DataFrame:
    """Pooled ratios and differences of each group's pooled rate to its reference.

    Parameters
    ----------
    rows : DataFrame
        The per-replicate rows :func:`pool_rates` pooled, with ``reference`` (the
        reference group's ``value``; missing for rows without one, e.g. overall)
        and each replicate's own ``ratio_to_ref`` and ``diff_to_ref``.
    pooled : DataFrame
        :func:`pool_rates` of ``rows`` by ``[*by, "value"]``.
    by : sequence of str
        The columns within which groups are compared (e.g. ``group``, ``metric``).

    Returns
    -------
    DataFrame
        ``pooled`` with :data:`VERSUS`: the ``reference`` (joined with ``/`` if the
        replicates differ), the pooled ratio (NaN when undefined) and difference,
        ``ratio_note`` (:data:`RATIO_UNDEFINED`, :data:`RATIO_MIXED` or empty),
        ``ratio_undefined`` (replicates whose own ratio is undefined), and the
        smallest and largest per-replicate ratio and difference.
    """
    by = list(by)
    own = rows.assign(
        _has_reference=rows["reference"].notna(),
        _undefined=rows["reference"].notna() & rows["ratio_to_ref"].isna(),
    )
    per_rep = own.groupby([*by, "value"], sort=False, dropna=False).agg(
        _has_reference=("_has_reference", "any"),
        ratio_undefined=("_undefined", "sum"),
        ratio_min=("ratio_to_ref", "min"),
        ratio_max=("ratio_to_ref", "max"),
        diff_min=("diff_to_ref", "min"),
        diff_max=("diff_to_ref", "max"),
    )
    out = pooled.merge(per_rep.reset_index(), on=[*by, "value"], how="left")
    out = out.merge(_shared_reference(rows, by), on=by, how="left", sort=False)
    named = out["_has_reference"].fillna(False).to_numpy(dtype=bool)
    out["reference"] = out["reference"].where(named)
    base = out[[*by, "value", "estimate"]].rename(
        columns={"value": "reference", "estimate": "_ref"}
    )
    base = base.astype({"reference": str})
    out = out.merge(base, on=[*by, "reference"], how="left", sort=False)
    mixed = named & out["n_references"].gt(1).to_numpy()
    ref = np.where(mixed, np.nan, out["_ref"].to_numpy(dtype=float))
    est = out["estimate"].to_numpy(dtype=float)
    out["ratio_to_ref"] = divide(est, ref)
    out["diff_to_ref"] = est - ref
    zero = named & ~mixed & ~(ref > 0)
    out["ratio_note"] = np.select([mixed, zero], [RATIO_MIXED, RATIO_UNDEFINED], "")
    out["ratio_undefined"] = out["ratio_undefined"].fillna(0).astype(np.int64)
    out["reference"] = out["reference"].astype(STRING)
    out["ratio_note"] = out["ratio_note"].astype(STRING)
    return out[[*pooled.columns, *VERSUS]]


def _stack(
    results: Sequence[AuditResult], pick: Callable[[AuditResult], pd.DataFrame]
) -> pd.DataFrame:
    """One table per replicate, stacked with a ``replicate`` column."""
    parts = [pick(r).assign(replicate=i) for i, r in enumerate(results)]
    return pd.concat(parts, ignore_index=True)


def _check(results: Sequence[AuditResult]) -> None:
    if not results:
        raise AuditError(_NO_RESULTS)

    def key(r: AuditResult) -> tuple:
        c = r.config
        return (c.target, c.group_columns, c.intersections, c.n_boot, c.confidence)

    first = key(results[0])
    for i, r in enumerate(results[1:], start=1):
        if key(r) != first:
            raise AuditError(_MIXED_AUDITS.format(index=i))


def pooled_counts(results: Sequence[AuditResult]) -> pd.DataFrame:
    """The metric table of the counts summed across replicates.

    Parameters
    ----------
    results : sequence of AuditResult

    Returns
    -------
    DataFrame
        :data:`audits.metrics.COLUMNS` plus ``replicates`` (how many replicates have
        the group): overall first, then every group in order of first appearance;
        the rates are those of the summed counts.
    """
    table = _stack(
        results,
        lambda r: pd.concat([r.metrics.overall, r.metrics.by_group], ignore_index=True),
    )
    grouped = table.groupby(["group", "value"], sort=False, observed=True)
    summed = grouped[list(CONFUSION)].sum()
    out = count_table(
        summed.to_numpy(), "", summed.index.get_level_values("value").astype(str)
    )
    out["group"] = pd.array(summed.index.get_level_values("group"), dtype=STRING)
    out["replicates"] = grouped.size().to_numpy(dtype=np.int64)
    return out


def _pooled_fairness(counts: pd.DataFrame) -> pd.DataFrame:
    """The fairness summaries of each grouping, from the summed counts."""
    parts = []
    for group, rows in counts[counts["group"] != OVERALL].groupby(
        "group", sort=False
    ):  # over groupings
        point = fairness(rows[list(CONFUSION)].to_numpy(dtype=np.int64))
        parts.append(
            pd.DataFrame(
                {
                    "group": group,
                    "measure": list(FAIRNESS),
                    "estimate": [float(point[m]) for m in FAIRNESS],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def pool_replicates(results: Sequence[AuditResult]) -> dict[str, pd.DataFrame]:
    """Every audit figure pooled across replicate runs, with its spread.

    Parameters
    ----------
    results : sequence of AuditResult
        One audit per replicate run, all with the same audit configuration.

    Returns
    -------
    dict of str to DataFrame
        ``counts``: the metric table of the summed counts (:func:`pooled_counts`).
        ``metrics``: per ``group``, ``value`` (overall included) and ``metric`` (the
        rates), :data:`POOLED` with the interval across worlds (``ci_low``,
        ``ci_high``, ``widened``: :mod:`audits.pooled`). ``disparities``: per
        ``group``, ``metric`` and ``value``, :data:`POOLED`, :data:`VERSUS` and
        :data:`audits.pooled.INTERVAL_COLUMNS` (the ratio's interval left empty
        where the pooled ratio is undefined). ``fairness``: per ``group`` and
        ``measure``, the measure of the summed counts (``estimate``) and the spread
        of the replicates' own. ``seeds``: each replicate's seeds. With scores,
        ``score_auc``, ``calibration`` and ``threshold_curves``: every world's
        (:func:`score_tables`).

    Raises
    ------
    AuditError
        If ``results`` is empty or the configurations differ.
    """
    _check(results)
    keys = ["group", "value", "metric"]
    rows = _stack(
        results,
        lambda r: rate_rows(
            pd.concat([r.metrics.overall, r.metrics.by_group], ignore_index=True)
        ),
    )
    pooled_metrics = pool_rates(rows, keys)

    table = _stack(results, lambda r: r.disparities.table)
    grouped = rows.merge(
        table[["replicate", *keys, "reference", "ratio_to_ref", "diff_to_ref"]],
        on=["replicate", *keys],
        how="inner",
        sort=False,
    )
    disparities = against_reference(
        grouped,
        pool_rates(grouped, ["group", "metric", "value"]),
        ["group", "metric"],
    )

    intervals = interval_rows(
        [r.disparities.counts for r in results], results[0].config.confidence
    )
    on = ["group", "value", "metric"]
    rate_ci = intervals[[*on, "ci_low", "ci_high", "widened"]]
    pooled_metrics = pooled_metrics.merge(rate_ci, on=on, how="left", sort=False)
    disparities = disparities.merge(intervals, on=on, how="left", sort=False)
    undefined = disparities["ratio_note"].fillna("").ne("").to_numpy()
    for column in ("ratio_ci_low", "ratio_ci_high"):
        disparities.loc[undefined, column] = np.nan

    counts = pooled_counts(results)
    fair = _stack(results, lambda r: r.disparities.fairness)
    spread = fair.groupby(["group", "measure"], sort=False, observed=True)["estimate"]
    spread = spread.agg(["count", "size", "std", "min", "max"]).reset_index()
    spread["undefined"] = spread.pop("size") - spread["count"]
    spread = spread.rename(columns={"count": "replicates", "std": "sd"})
    pooled_fairness = _pooled_fairness(counts).merge(
        spread, on=["group", "measure"], how="left", sort=False
    )

    seeds = pd.DataFrame(
        {
            "replicate": np.arange(len(results), dtype=np.int64),
            "audit_seed": [r.seed for r in results],
            "scenario_seed": [
                (r.scenario or {}).get("seed", r.seeds.get("scenario")) for r in results
            ],
        }
    )
    return {
        "counts": counts,
        "metrics": pooled_metrics,
        "disparities": disparities,
        "fairness": pooled_fairness[["group", "measure", "estimate", *SPREAD]],
        "seeds": seeds,
        **score_tables(results),
    }


def score_tables(results: Sequence[AuditResult]) -> dict[str, pd.DataFrame]:
    """Every world's score diagnostics, stacked with a ``replicate`` column.

    Each world's scores are its own (AUC, calibration bins and thresholds are not
    summed over worlds: the bins and thresholds are each world's quantiles), so
    every world's tables are kept side by side, ``replicate`` first; the audit's
    own files hold replicate 0's. Empty when the worlds have no scores.
    """
    tables = [r.scores.tables() for r in results if r.scores is not None]
    if len(tables) < len(results) or not tables:
        return {}
    out = {}
    for stem in tables[0]:  # three tables
        stacked = pd.concat(
            [t[stem].assign(replicate=i) for i, t in enumerate(tables)],
            ignore_index=True,
        )
        out[stem] = stacked[["replicate", *tables[0][stem].columns]]
    return out
