"""Sweep a scenario over one or two parameters, with replicates, and plot the result.

``linkaudit sweep SCENARIO --vary PATH=V1,V2,... [--vary ...] --replicates N`` runs
the pipeline once per parameter value (or pair of values) and replicate, without the
attribution ladder, and collects every audit rate by group from each run's
disparities table, plus link quality by group. The result is one tidy table: a row per
(parameter values, replicate, group, metric).

Each point's scenario is the base scenario with ``PATH=VALUE`` applied exactly as
``--set`` applies it (:func:`simulator.schema.scenario.apply_overrides`) and validated
with
the same messages, so a point differs from the base by the varied field only.
Replicate ``r`` runs with seed :func:`replicate_seed` (``r = 0`` is the scenario's own
seed, so the first replicate of a point is the run ``linkaudit run --set PATH=VALUE``
gives), and every point shares the replicate's seed: the points differ by the
parameter, not by the draw of the world (common random numbers).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
import yaml

from audits.confusion import RATES
from audits.report.text import SHORT_METRIC_LABELS
from simulator.errors import ScenarioError
from simulator.io import MANIFEST, atomic_directory, write_json, write_parquet
from simulator.rng import draw_seed, stream
from simulator.schema.scenario import Scenario, apply_overrides, scenario_from_dict

if TYPE_CHECKING:
    from simulator.pipeline.run import Run

logger = logging.getLogger(__name__)

MAX_VARIES = 2
"""At most this many parameters are varied together."""
MAX_RUNS = 50
"""At most this many runs (points times replicates) in one sweep."""
MAX_REPLICATES = 20
AUDIT_METRICS = RATES
"""Rates of the audit's disparities table (docs/audit.md)."""
LINK_METRICS = ("link_recall", "link_precision", "link_f1")
"""Link quality by group (recall, precision and F1 of the links, no intervals)."""
METRICS = AUDIT_METRICS + LINK_METRICS
GROUP_COLUMNS = (
    "imd_quintile",
    "imd_decile",
    "ethnicity",
    "tenure",
    "lone_parent",
    "moved_recently",
)
DEPRIVATION = ("imd_quintile", "imd_decile")
MOST_DEPRIVED = "1"
OVERALL = "all"
"""The ``value`` of the rows for every family (the audit's overall rates)."""
CSV, PARQUET, PLOT, JSON = "sweep.csv", "sweep.parquet", "sweep.png", "sweep.json"
ESTIMATE_COLUMNS = (
    "n",
    "denominator",
    "estimate",
    "ci_low",
    "ci_high",
    "reference",
    "is_reference",
    "ratio_to_ref",
    "ratio_ci_low",
    "ratio_ci_high",
    "diff_to_ref",
    "diff_ci_low",
    "diff_ci_high",
    "small_group",
)
"""Columns taken from the audit's disparities table for each row."""
_OPENERS, _CLOSERS = "[{(", "]})"


class Vary(NamedTuple):
    """One varied parameter: a ``--set`` path and the values it takes, in order."""

    path: str
    values: tuple[Any, ...]


def _split_top_level(raw: str) -> list[str]:
    """Split at commas outside brackets, braces and quotes (YAML flow values)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(raw):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(raw[start:i])
            start = i + 1
    parts.append(raw[start:])
    return parts


def parse_vary(text: str) -> Vary:
    """Parse ``path.to.field=V1,V2,...`` into a path and YAML-parsed values.

    Values are split at commas outside brackets and quotes, so a value may be a YAML
    list or mapping: ``model.flag={budget: 500},{top_percent: 5}``.

    Parameters
    ----------
    text : str
        The argument of ``--vary``.

    Returns
    -------
    Vary
        ``(path, values)``.

    Raises
    ------
    ScenarioError
        Naming the argument: no ``=``, an empty field name, an empty or repeated
        value, a value that is not YAML, fewer than two values, or ``seed`` (use
        replicates).

    Examples
    --------
    >>> parse_vary("agencies.police.errors.name_typo=0,0.02,0.05")
    Vary(path='agencies.police.errors.name_typo', values=(0, 0.02, 0.05))
    """
    where = f"--vary {text}"
    if "=" not in text:
        raise ScenarioError(
            [f"{where}: expected path.to.field=V1,V2,..., found no '='"]
        )
    path, raw = (s.strip() for s in text.split("=", 1))
    keys = path.split(".")
    if not all(keys):
        raise ScenarioError([f"{where}: empty field name in {path!r}"])
    if path == "seed":
        raise ScenarioError(
            [f"{where}: the seed is varied by --replicates, not by --vary"]
        )
    pieces = [p.strip() for p in _split_top_level(raw)]
    if any(not p for p in pieces):
        raise ScenarioError(
            [f"{where}: empty value (values are separated by commas, e.g. 0,0.1,0.2)"]
        )
    values = []
    for piece in pieces:
        try:
            values.append(yaml.safe_load(piece))
        except yaml.YAMLError as e:
            raise ScenarioError(
                [f"{where}: value {piece!r} is not valid YAML ({e})"]
            ) from e
    if len(values) < 2:
        raise ScenarioError(
            [f"{where}: give at least two values to compare, e.g. {path}=0,0.1"]
        )
    repeated = [p for i, p in enumerate(pieces) if values.index(values[i]) != i]
    if repeated:
        raise ScenarioError([f"{where}: value {repeated[0]!r} is given twice"])
    return Vary(path, tuple(values))


def replicate_seed(seed: int, replicate: int) -> int:
    """The scenario seed of replicate ``replicate``: the seed itself for 0.

    Parameters
    ----------
    seed : int
        The base scenario's seed.
    replicate : int
        0, 1, 2, ...

    Returns
    -------
    int
        A stable derivation from ``seed`` and ``replicate``
        (:func:`simulator.rng.stream`), the same on every machine.
    """
    if replicate == 0:
        return int(seed)
    return draw_seed(stream(int(seed), "sweep", "replicate", int(replicate)))


def _override(path: str, value: Any) -> str:
    """A ``--set`` string whose value YAML parses back to ``value``."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return f"{path}={text.removesuffix('...').strip()}"


@dataclass(frozen=True)
class SweepPlan:
    """Every run of a sweep, validated before any is made.

    Attributes
    ----------
    base : Scenario
        The base scenario.
    varies : tuple of Vary
        The varied parameters.
    points : list of tuple
        One tuple of values per point (the first parameter varies slowest).
    scenarios : list of Scenario
        One scenario per (point, replicate), point-major.
    seeds : tuple of int
        The scenario seed of each replicate.
    """

    base: Scenario
    varies: tuple[Vary, ...]
    points: list[tuple[Any, ...]]
    scenarios: list[Scenario]
    seeds: tuple[int, ...]


def _audit_section(data: dict[str, Any], group_column: str) -> dict[str, Any]:
    """Audit only ``group_column`` (faster), keeping its chosen reference."""
    audit = dict(data.get("audit") or {})
    reference = audit.get("reference") or {}
    audit["group_columns"] = [group_column]
    audit["intersections"] = []
    audit["reference"] = (
        {group_column: reference[group_column]} if group_column in reference else {}
    )
    audit["replicates"] = 1
    return {**data, "audit": audit}


def plan_sweep(
    base: Scenario | Mapping[str, Any],
    varies: Sequence[Vary | tuple[str, Sequence[Any]] | str],
    replicates: int = 1,
    group_column: str = "imd_quintile",
    *,
    origin: str = "<scenario>",
) -> SweepPlan:
    """Check the arguments and build (and validate) the scenario of every run.

    Parameters
    ----------
    base : Scenario or mapping
        The base scenario, or its unvalidated mapping (as read from YAML with any
        ``--set`` applied); a mapping lets ``--vary`` change what a Scenario's
        defaults would fix (e.g. ``model.kind``).
    varies : sequence
        One or two :class:`Vary` (or ``(path, values)`` pairs, or ``--vary``
        strings).
    replicates : int
        Runs per point, each with its own seed (:func:`replicate_seed`).
    group_column : str
        The household attribute rates are reported by.
    origin : str
        Named in validation errors (the scenario file).

    Returns
    -------
    SweepPlan

    Raises
    ------
    ScenarioError
        For too many or too few parameters, a parameter given twice, too many runs,
        an unknown group column, or a point whose scenario is not valid (the
        messages of ``--set``, naming the ``--vary`` argument).
    """
    parsed = [
        parse_vary(v) if isinstance(v, str) else Vary(v[0], tuple(v[1])) for v in varies
    ]
    problems = []
    if not parsed:
        problems.append("sweep: give at least one --vary PATH=V1,V2,...")
    if len(parsed) > MAX_VARIES:
        problems.append(
            f"sweep: at most {MAX_VARIES} --vary parameters, got {len(parsed)}"
        )
    paths = [v.path for v in parsed]
    if len(set(paths)) != len(paths):
        problems.append(f"sweep: a parameter is varied twice: {paths}")
    if not 1 <= replicates <= MAX_REPLICATES:
        problems.append(
            f"sweep: --replicates must be between 1 and {MAX_REPLICATES}, "
            f"got {replicates}"
        )
    if group_column not in GROUP_COLUMNS:
        problems.append(
            f"sweep: --group must be one of {', '.join(GROUP_COLUMNS)}, "
            f"got {group_column!r}"
        )
    n_points = math.prod(len(v.values) for v in parsed) if parsed else 0
    if n_points * replicates > MAX_RUNS:
        problems.append(
            f"sweep: {n_points} points x {replicates} replicate(s) = "
            f"{n_points * replicates} runs; at most {MAX_RUNS} are allowed: use "
            "fewer values or replicates"
        )
    if problems:
        raise ScenarioError(problems)

    data = (
        base.model_dump(mode="json", exclude_unset=True)
        if isinstance(base, Scenario)
        else dict(base)
    )
    base_scenario = scenario_from_dict(data, origin)
    data = _audit_section(data, group_column)
    seeds = tuple(replicate_seed(base_scenario.seed, r) for r in range(replicates))
    points = list(product(*(v.values for v in parsed)))
    scenarios, problems = [], []
    for point in points:
        overrides = [_override(v.path, x) for v, x in zip(parsed, point, strict=True)]
        try:
            point_data = apply_overrides(data, overrides)
            first = scenario_from_dict(point_data, origin)
        except ScenarioError as e:
            where = " ".join(
                f"--vary {v.path}={x!r}" for v, x in zip(parsed, point, strict=True)
            )
            problems += [f"{where}: {p}" for p in e.problems]
            continue
        scenarios += [
            first if s == first.seed else first.model_copy(update={"seed": s})
            for s in seeds
        ]
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return SweepPlan(base_scenario, tuple(parsed), points, scenarios, seeds)


def run_rows(result: Run, group_column: str) -> pd.DataFrame:
    """Every rate by group (and overall) of one run, as tidy rows.

    Parameters
    ----------
    result : Run
        A pipeline run with an audit.
    group_column : str
        The grouping whose rows are kept.

    Returns
    -------
    DataFrame
        ``group``, ``value``, ``metric`` and :data:`ESTIMATE_COLUMNS`.
    """
    assert result.audit is not None
    d = result.audit.disparities
    table = d.table[d.table["group"] == group_column]
    audit = table[["group", "value", "metric", *ESTIMATE_COLUMNS]]
    overall = d.overall.assign(group=group_column, value=OVERALL)
    quality = result.link_quality
    link = pd.concat(
        [
            quality.by_group[quality.by_group["group"] == group_column],
            quality.overall.assign(group=group_column, value=OVERALL),
        ],
        ignore_index=True,
    )
    link_rows = [
        pd.DataFrame(
            {
                "group": group_column,
                "value": link["value"].astype(str).to_numpy(),
                "metric": f"link_{m}",
                "n": link["n_linkable"].to_numpy(),
                "denominator": link[
                    "n_linkable" if m == "recall" else "n_linked"
                ].to_numpy(),
                "estimate": link[m].to_numpy(dtype=float),
            }
        )
        for m in ("recall", "precision", "f1")
    ]
    link_table = pd.concat(link_rows, ignore_index=True)
    if len(audit):
        link_table = _with_reference(link_table, str(audit["reference"].iloc[0]))
    out = pd.concat([audit, overall, link_table], ignore_index=True)
    return out.reindex(columns=["group", "value", "metric", *ESTIMATE_COLUMNS])


def _with_reference(rows: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Ratios and differences to the reference group's estimate, per metric."""
    groups = rows[rows["value"] != OVERALL]
    ref = groups[groups["value"] == reference].set_index("metric")["estimate"]
    ref_est = rows["metric"].map(ref).to_numpy(dtype=float)
    est = rows["estimate"].to_numpy(dtype=float)
    is_group = (rows["value"] != OVERALL).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ref_est > 0, est / ref_est, np.nan)
    return rows.assign(
        reference=np.where(is_group, reference, None),
        is_reference=np.where(is_group, rows["value"] == reference, None),
        ratio_to_ref=np.where(is_group, ratio, np.nan),
        diff_to_ref=np.where(is_group, est - ref_est, np.nan),
    )


def sweep(
    base: Scenario | Mapping[str, Any],
    varies: Sequence[Vary | tuple[str, Sequence[Any]] | str],
    replicates: int = 1,
    group_column: str = "imd_quintile",
    *,
    base_dir: str | Path | None = None,
    origin: str = "<scenario>",
    progress: bool = False,
) -> pd.DataFrame:
    """Run the pipeline at every point and replicate; return the tidy table.

    Parameters
    ----------
    base, varies, replicates, group_column, origin
        As :func:`plan_sweep`.
    base_dir : str or Path, optional
        Directory relative paths of the scenario resolve against.
    progress : bool
        Show a progress bar over runs.

    Returns
    -------
    DataFrame
        One row per (point, replicate, group value, metric): a column per varied
        parameter (named by its path), ``point``, ``replicate``, ``seed``,
        ``group``, ``value`` (``"all"`` for every family), ``metric`` (one of
        :data:`METRICS`) and :data:`ESTIMATE_COLUMNS`. Link-quality rows have no
        interval or reference. ``table.attrs`` holds the plan: ``varies``,
        ``seeds``, ``group_column`` and the ``base`` scenario.

    Raises
    ------
    ScenarioError
        If the arguments or any point's scenario are not valid (before any run).
    """
    from simulator.pipeline.run import run

    plan = plan_sweep(base, varies, replicates, group_column, origin=origin)
    n_rep = len(plan.seeds)
    jobs = [
        (p, r, point, plan.scenarios[p * n_rep + r])
        for p, point in enumerate(plan.points)
        for r in range(n_rep)
    ]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc="sweep", unit="run")
    parts, caught = [], {}
    for p, r, point, scenario in jobs:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            result = run(scenario, attribution=False, base_dir=base_dir)
        for w in seen:
            caught.setdefault((w.category, str(w.message)), 0)
            caught[(w.category, str(w.message))] += 1
        rows = run_rows(result, group_column)
        params = {
            v.path: [x] * len(rows) for v, x in zip(plan.varies, point, strict=True)
        }
        parts.append(
            pd.DataFrame(params)
            .assign(point=p, replicate=r, seed=scenario.seed)
            .join(rows)
        )
        logger.info(
            "sweep point %d replicate %d: %s",
            p,
            r,
            dict(zip([v.path for v in plan.varies], point, strict=True)),
        )
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    for (category, message), count in caught.items():
        warnings.warn(
            f"{message} (in {count} of {len(jobs)} runs)", category, stacklevel=2
        )
    table = pd.concat(parts, ignore_index=True)
    table = _tidy_types(table, plan.varies)
    table.attrs.update(
        varies=[{"path": v.path, "values": list(v.values)} for v in plan.varies],
        seeds=list(plan.seeds),
        group_column=group_column,
        base=plan.base.model_dump(mode="json"),
    )
    return table


def _tidy_types(table: pd.DataFrame, varies: Sequence[Vary]) -> pd.DataFrame:
    """Parameter columns as numbers when every value is one, else as text."""
    for v in varies:
        values = v.values
        if all(isinstance(x, int | float) and not isinstance(x, bool) for x in values):
            table[v.path] = table[v.path].astype(
                float if any(isinstance(x, float) for x in values) else "int64"
            )
        else:
            table[v.path] = table[v.path].map(_label).astype("string")
    for col in ("group", "value", "metric", "reference"):
        table[col] = table[col].astype("string")
    table["is_reference"] = table["is_reference"].astype("boolean")
    table["small_group"] = table["small_group"].astype("boolean")
    for col in ("n", "denominator"):
        table[col] = table[col].astype("Int64")
    return table


def _label(x: Any) -> str:
    """A short text for a parameter value (YAML flow style)."""
    if isinstance(x, str):
        return x
    return (
        yaml.safe_dump(x, default_flow_style=True, width=10_000)
        .strip()
        .removesuffix("...")
        .strip()
    )


# ----------------------------------------------------------------- summary and plot

LABELS = {
    **SHORT_METRIC_LABELS,
    "link_recall": "link recall",
    "link_precision": "link precision",
    "link_f1": "link F1",
}


def check_metric(metric: str) -> str:
    """Return ``metric`` if it is one of :data:`METRICS`.

    Raises
    ------
    ScenarioError
        Listing the choices.
    """
    if metric not in METRICS:
        raise ScenarioError(
            [f"sweep: --metric must be one of {', '.join(METRICS)}, got {metric!r}"]
        )
    return metric


RATIO_UNDEFINED = "undefined: reference mean is 0"
"""Note of a ratio of means whose reference group's mean rate is 0."""
RATIO_MIXED = "undefined: the reference differs between replicates"
"""Note of a ratio of means whose replicates do not share one reference group."""


def summarise(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean and spread over replicates of one metric, per point and group value.

    The ratio to the reference group is the ratio of the means: the group's mean
    rate over the replicates divided by the reference group's mean rate over the
    replicates (the ``mean`` of the two rows), not the mean of per-replicate ratios,
    so a replicate whose own ratio is undefined (its reference rate is 0) still
    counts. The per-replicate ratios stay in the sweep table (``ratio_to_ref``).

    Parameters
    ----------
    table : DataFrame
        A sweep table (:func:`sweep`).
    metric : str
        One of :data:`METRICS`.

    Returns
    -------
    DataFrame
        Per point (the parameter columns, ``point``) and ``value``: the
        ``replicates``, ``mean``, ``low`` and ``high`` of the estimate; the
        ``reference`` group (``"4/5"`` if replicates differ), ``ratio`` (ratio of
        means, NaN where undefined), ``ratio_note`` (why it is undefined:
        :data:`RATIO_UNDEFINED` or :data:`RATIO_MIXED`, else empty),
        ``ratio_low`` and ``ratio_high``, and ``ratio_undefined`` (replicates whose
        own ratio is undefined). ``low``/``high`` and ``ratio_low``/``ratio_high``
        are the bootstrap interval with one replicate, the smallest and largest
        replicate (where defined) with more.
    """
    check_metric(metric)
    params = _param_columns(table)
    rows = table[table["metric"] == metric]
    keys = [*params, "point", "value"]
    has_ref = rows["reference"].notna().to_numpy()
    rows = rows.assign(
        _ratio_undefined=has_ref & rows["ratio_to_ref"].isna().to_numpy()
    )
    grouped = rows.groupby(keys, sort=False, dropna=False)
    out = grouped.agg(
        replicates=("replicate", "nunique"),
        mean=("estimate", "mean"),
        rep_low=("estimate", "min"),
        rep_high=("estimate", "max"),
        ci_low=("ci_low", "mean"),
        ci_high=("ci_high", "mean"),
        ratio_rep_low=("ratio_to_ref", "min"),
        ratio_rep_high=("ratio_to_ref", "max"),
        ratio_ci_low=("ratio_ci_low", "mean"),
        ratio_ci_high=("ratio_ci_high", "mean"),
        ratio_undefined=("_ratio_undefined", "sum"),
        has_reference=("reference", "count"),
    ).reset_index()

    # one reference per point (the replicates' references, joined if they differ)
    named = rows.loc[has_ref, ["point", "reference"]].drop_duplicates()
    by_point = named.groupby("point", sort=False)["reference"]
    point_ref = by_point.agg(lambda r: "/".join(sorted(map(str, r))))  # per point
    mixed = by_point.nunique().gt(1)
    reference = out["point"].map(point_ref).where(out["has_reference"].gt(0))
    is_ref = (out["value"] == reference).fillna(False).to_numpy(dtype=bool)
    ref_mean = (
        out["point"]
        .map(out.loc[is_ref].set_index("point")["mean"])
        .to_numpy(dtype=float)
    )
    mean = out["mean"].to_numpy(dtype=float)
    named_ref = reference.notna().to_numpy()
    mixed_ref = out["point"].map(mixed).fillna(False).to_numpy(dtype=bool) & named_ref
    zero_ref = named_ref & ~mixed_ref & ~(ref_mean > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(
            named_ref & ~mixed_ref & (ref_mean > 0), mean / ref_mean, np.nan
        )
    out["reference"] = reference.astype("string")
    out["ratio"] = ratio
    out["ratio_note"] = np.select(
        [mixed_ref, zero_ref], [RATIO_MIXED, RATIO_UNDEFINED], ""
    )
    single = (out["replicates"] <= 1).to_numpy()
    out["low"] = np.where(single, out["ci_low"], out["rep_low"])
    out["high"] = np.where(single, out["ci_high"], out["rep_high"])
    out["ratio_low"] = np.where(single, out["ratio_ci_low"], out["ratio_rep_low"])
    out["ratio_high"] = np.where(single, out["ratio_ci_high"], out["ratio_rep_high"])
    out["ratio_undefined"] = out["ratio_undefined"].astype(np.int64)
    return out[
        [
            *keys,
            "replicates",
            "mean",
            "low",
            "high",
            "reference",
            "ratio",
            "ratio_note",
            "ratio_low",
            "ratio_high",
            "ratio_undefined",
        ]
    ]


def _param_columns(table: pd.DataFrame) -> list[str]:
    return list(table.columns[: list(table.columns).index("point")])


def _value_order(values: Sequence[str], group_column: str) -> list[str]:
    """Group values in the column's natural order, then any others, ``all`` last."""
    from simulator.schema.audit import column_values

    present = [v for v in dict.fromkeys(values) if v != OVERALL]
    natural = [str(v) for v in column_values(group_column)]
    ordered = [v for v in natural if v in present]
    ordered += [v for v in present if v not in natural]
    return ordered + ([OVERALL] if OVERALL in values else [])


def text_table(table: pd.DataFrame, metric: str) -> str:
    """A small text table: the metric's mean by point (rows) and group (columns).

    With a deprivation group column, a last column gives the ratio of the most
    deprived group's mean to the reference group's mean (the ratio of the two
    columns beside it, :func:`summarise`), or says why it is undefined; a note
    under the table says so, and counts replicates whose own ratio is undefined.
    """
    summary = summarise(table, metric)
    params = _param_columns(table)
    wide = summary.pivot_table(
        index=params, columns="value", values="mean", sort=False, dropna=False
    )
    group = str(table["group"].iloc[0])
    wide.columns = [str(c) for c in wide.columns]
    wide = wide[_value_order(list(wide.columns), group)]
    digits = 1 if metric == "wrongly_flagged_per_10k" else 4
    wide = wide.round(digits)
    notes = []
    if group in DEPRIVATION:
        most = summary[summary["value"] == MOST_DEPRIVED].set_index(params)
        most = most.reindex(wide.index)
        ref = most["reference"].dropna().unique()
        name = f"{MOST_DEPRIVED} vs {'/'.join(ref)}" if len(ref) == 1 else "ratio"
        ratio = most["ratio"].round(digits)
        wide[name] = (
            ratio.astype(object)
            .where(ratio.notna(), most["ratio_note"].replace("", "undefined"))
            .to_numpy()
        )
        notes.append(
            f"{name}: the ratio of the mean rates over replicates "
            f"({MOST_DEPRIVED} / reference)"
        )
        undefined = int(most["ratio_undefined"].fillna(0).sum())
        if undefined:
            notes.append(
                f"{undefined} replicate(s) had no defined ratio of their own "
                "(reference rate 0); they are included in the means"
            )
    return "\n".join([wide.to_string(), *notes])


def plot_sweep(
    table: pd.DataFrame,
    metric: str,
    group_column: str | None = None,
    path: str | Path | None = None,
    *,
    title: str | None = None,
) -> Any:
    """Plot a metric by group against the varied parameter.

    The top row has one line per group (and a dashed line for every family): the
    mean over replicates, with a band (the bootstrap interval with one replicate,
    the smallest to largest replicate with more). The bottom row gives the ratio of
    the mean rates over replicates to the reference group's mean rate
    (:func:`summarise`): for a deprivation column, of the most deprived group (1)
    to the least deprived (or the chosen reference); otherwise of each group. Its
    band is the bootstrap interval with one replicate, the smallest to largest
    defined per-replicate ratio with more. Points where the ratio is undefined
    (reference mean 0) are left out of the line and named in the panel; a legend
    label counts replicates whose own ratio is undefined. With two varied
    parameters there is one column of panels per value of the second.

    Parameters
    ----------
    table : DataFrame
        A sweep table (:func:`sweep`).
    metric : str
        One of :data:`METRICS`.
    group_column : str, optional
        The table's group column (read from the table when not given).
    path : str or Path, optional
        Where to save the figure (``.png`` or ``.svg``); not saved if None.
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    check_metric(metric)
    group_column = group_column or str(table["group"].iloc[0])
    params = _param_columns(table)
    summary = summarise(table, metric)
    x_name = params[0]
    x_values = list(dict.fromkeys(summary[x_name].tolist()))
    numeric_x = pd.api.types.is_numeric_dtype(table[x_name])
    panels = (
        list(dict.fromkeys(summary[params[1]].tolist())) if len(params) > 1 else [None]
    )
    values = _value_order(summary["value"].astype(str).tolist(), group_column)
    groups = [v for v in values if v != OVERALL]
    deprivation = group_column in DEPRIVATION
    if deprivation:
        import matplotlib.cm as cm

        colours = dict(
            zip(groups, cm.viridis(np.linspace(0, 0.9, len(groups))), strict=True)
        )
    else:
        import matplotlib.cm as cm

        colours = {g: cm.tab10(i % 10) for i, g in enumerate(groups)}

    fig = Figure(figsize=(4.2 * len(panels) + 1.8, 7.0), layout="constrained")
    axes = fig.subplots(2, len(panels), sharex=True, sharey="row", squeeze=False)

    def xs(frame: pd.DataFrame) -> np.ndarray:
        if numeric_x:
            return frame[x_name].to_numpy(dtype=float)
        return np.array([x_values.index(v) for v in frame[x_name]], dtype=float)

    for j, panel in enumerate(panels):
        part = summary if panel is None else summary[summary[params[1]] == panel]
        top, bottom = axes[0, j], axes[1, j]
        for v in values:
            line = part[part["value"] == v]
            if line.empty:
                continue
            x = xs(line)
            if v == OVERALL:
                top.plot(x, line["mean"], "k--", lw=1.2, label="all families")
                continue
            top.plot(x, line["mean"], "o-", color=colours[v], lw=1.6, ms=3.5, label=v)
            top.fill_between(
                x, line["low"], line["high"], color=colours[v], alpha=0.15, lw=0
            )
        ratio_groups = [MOST_DEPRIVED] if deprivation else groups
        missing = []
        for v in ratio_groups:
            line = part[(part["value"] == v)]
            if line.empty or (line["reference"] == v).all():
                continue
            ref = line["reference"].dropna()
            label = f"{v} vs {ref.iloc[0]}" if len(ref) else v
            gaps = line.loc[line["ratio_note"] != "", [x_name, "ratio_note"]]
            missing += [
                f"{label} at {x_name} = {_label(g)}: {note}"
                for g, note in gaps.itertuples(index=False)
            ]
            if line["ratio"].isna().all():
                continue
            undefined = int(line["ratio_undefined"].sum())
            if undefined:
                label += f" ({undefined} replicate ratio(s) undefined)"
            x = xs(line)
            bottom.plot(
                x, line["ratio"], "o-", color=colours[v], lw=1.6, ms=3.5, label=label
            )
            bottom.fill_between(
                x,
                line["ratio_low"],
                line["ratio_high"],
                color=colours[v],
                alpha=0.15,
                lw=0,
            )
        bottom.axhline(1.0, color="0.5", lw=0.8, ls=":")
        if missing:
            bottom.text(
                0.02,
                0.98,
                "\n".join(missing),
                transform=bottom.transAxes,
                va="top",
                fontsize=7,
                color="0.3",
            )
        if panel is not None:
            top.set_title(f"{params[1]} = {_label(panel)}", fontsize=9)
        bottom.set_xlabel(x_name, fontsize=9)
        if not numeric_x:
            bottom.set_xticks(range(len(x_values)), [_label(v) for v in x_values])
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=8)
    axes[0, 0].set_ylabel(f"{LABELS[metric]} by {group_column}", fontsize=9)
    if deprivation:
        what = (
            "most vs least deprived"
            if summary["reference"].isin(["5", "10"]).any()
            else "most deprived vs reference"
        )
        axes[1, 0].set_ylabel(f"ratio of means, {what}", fontsize=9)
    else:
        axes[1, 0].set_ylabel("ratio of means to the reference group", fontsize=9)
    axes[0, -1].legend(
        title=group_column,
        fontsize=7,
        title_fontsize=8,
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
    )
    if axes[1, -1].get_legend_handles_labels()[0]:
        axes[1, -1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    reps = int(summary["replicates"].max()) if len(summary) else 0
    band = "bootstrap interval" if reps <= 1 else f"range of {reps} replicates"
    fig.suptitle(
        f"{title + ': ' if title else ''}{LABELS[metric]} by {group_column} "
        f"(mean; band: {band})",
        fontsize=10,
    )
    if path is not None:
        path = Path(path)
        fig.savefig(
            path,
            dpi=120,
            metadata={"Software": None} if path.suffix == ".png" else None,
        )
    return fig


# ------------------------------------------------------------------------- writing


def write_sweep(
    table: pd.DataFrame,
    out_dir: str | Path,
    *,
    metric: str = "fpr",
    overwrite: bool = False,
    plot: str = PLOT,
) -> Path:
    """Write a sweep atomically: table (CSV, Parquet), plot and ``sweep.json``.

    Parameters
    ----------
    table : DataFrame
        A sweep table (:func:`sweep`); its ``attrs`` (the plan) go into
        ``sweep.json`` with package versions.
    out_dir : str or Path
        The output directory (written to a temporary sibling, then renamed).
    metric : str
        The metric plotted.
    overwrite : bool
        Replace an existing directory.
    plot : str
        The plot's file name (``.png`` or ``.svg``).

    Returns
    -------
    Path
        ``out_dir``.
    """
    from simulator.world.generate import package_versions

    check_metric(metric)
    out_dir = Path(out_dir)
    attrs = dict(table.attrs)
    plain = table.copy()
    plain.attrs = {}
    base = attrs.get("base") or {}
    with atomic_directory(out_dir, overwrite=overwrite) as tmp:
        write_parquet(plain, tmp / PARQUET)
        plain.to_csv(tmp / CSV, index=False)
        plot_sweep(
            table, metric, attrs.get("group_column"), tmp / plot, title=base.get("name")
        )
        write_json(
            {
                "kind": "linkaudit sweep (synthetic people only)",
                "scenario": base,
                "varies": attrs.get("varies"),
                "replicates": len(attrs.get("seeds") or []),
                "seeds": attrs.get("seeds"),
                "group_column": attrs.get("group_column"),
                "metric_plotted": metric,
                "metrics": list(METRICS),
                "rows": len(table),
                "files": [CSV, PARQUET, plot],
                "versions": package_versions(),
            },
            tmp / JSON,
        )
        write_json(
            {"kind": "linkaudit sweep", "rows": {PARQUET: len(table)}}, tmp / MANIFEST
        )
    return out_dir
