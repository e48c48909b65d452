"""Sweep a scenario over one or two parameters, with replicates, and plot the result.

``linkaudit sweep SCENARIO --vary PATH=V1,V2,... [--vary ...] --replicates N`` runs
the pipeline once per parameter value (or pair of values) and replicate, without the
attribution ladder, and collects every audit rate by group from each run's
disparities table, plus link quality by group. The result is one tidy table: a row per
(parameter values, replicate, group, metric).

Each point's scenario is the base scenario with ``PATH=VALUE`` applied exactly as
``--set`` applies it (:func:`simulator.schema.scenario.apply_overrides`) and validated
with the same messages, so a point differs from the base by the varied field only.
Replicate ``r`` of a point is :func:`simulator.pipeline.run.replicate_scenario`, the
world replicate ``r`` of ``linkaudit run --set PATH=VALUE`` with ``audit.replicates``
simulates (``r = 0`` is the scenario's own seed), scored by the point's model fitted
once (as the run's replicates are); every point shares the replicate's seed, so the
points differ by the parameter, not by the draw of the world (common random numbers).
Replicates pool by the audit's one rule (:mod:`audits.replicates`): rates of the counts
summed across replicates, and ratios of those pooled rates. The runs are independent:
with ``workers`` (``--workers``, ``--cluster``) each point's model is fitted first
(learned models' history cohorts as tasks too), then every run is a task of
:class:`simulator.pipeline.parallel.Pool`; the table is the same.
"""

from __future__ import annotations

import logging
import signal
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audits.confusion import RATES
from audits.replicates import against_reference, pool_rates, rate_rows
from simulator.council.models.base import RiskModel
from simulator.errors import ScenarioError
from simulator.failures import HANDLED_SIGNALS
from simulator.pipeline.grid import (
    Vary,
    check_grid,
    point_scenarios,
    setting_text,
)
from simulator.pipeline.parallel import SERIAL, Pool, Workers
from simulator.pipeline.run import (
    Run,
    fit_model,
    needs_history,
    replicate_scenario,
    replicate_seed,
    run,
)
from simulator.pipeline.timings import RUNS_STAGE, Timings
from simulator.schema.loading import scenario_from_dict
from simulator.schema.scenario import Scenario
from simulator.vocabulary import GROUP_COLUMNS, GROUP_VALUES, OVERALL

logger = logging.getLogger(__name__)

AUDIT_METRICS = RATES
"""Rates of the audit's disparities table (docs/audit.md)."""
LINK_METRICS = ("link_recall", "link_precision", "link_f1")
"""Link quality by group (recall, precision and F1 of the links, no intervals)."""
METRICS = AUDIT_METRICS + LINK_METRICS
ESTIMATE_COLUMNS = (
    "n",
    "numerator",
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
    """Audit only ``group_column`` (faster), keeping its chosen reference.

    A headline question about another grouping is dropped (the sweep reports the
    chosen metric by ``group_column``, not the headline).
    """
    audit = dict(data.get("audit") or {})
    reference = audit.get("reference") or {}
    headline = audit.get("headline")
    if headline is not None and dict(headline).get("grouping") != group_column:
        audit.pop("headline")
    audit["group_columns"] = [group_column]
    audit["intersections"] = []
    audit["reference"] = (
        {group_column: reference[group_column]} if group_column in reference else {}
    )
    audit["replicates"] = 1
    return {**data, "audit": audit}


def plan_sweep(
    base: Scenario | Mapping[str, Any],
    varies: Sequence[Vary | tuple[str, Sequence[Any]]],
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
    parsed = check_grid(varies, replicates, command="sweep")
    if group_column not in GROUP_COLUMNS:
        raise ScenarioError(
            [
                f"sweep: --group must be one of {', '.join(GROUP_COLUMNS)}, "
                f"got {group_column!r}"
            ]
        )
    data = (
        base.model_dump(mode="json", exclude_unset=True)
        if isinstance(base, Scenario)
        else dict(base)
    )
    base_scenario = scenario_from_dict(data, origin)
    seeds = tuple(replicate_seed(base_scenario.seed, r) for r in range(replicates))
    points, firsts = point_scenarios(_audit_section(data, group_column), parsed, origin)
    scenarios = [replicate_scenario(s, r) for s in firsts for r in range(replicates)]
    return SweepPlan(base_scenario, tuple(parsed), points, scenarios, seeds)


def run_rows(result: Run, group_column: str) -> pd.DataFrame:
    """Every rate by group (and overall) of one run, as tidy rows.

    Parameters
    ----------
    result : Run
        A pipeline run.
    group_column : str
        The grouping whose rows are kept.

    Returns
    -------
    DataFrame
        ``group``, ``value``, ``metric`` and :data:`ESTIMATE_COLUMNS`; each rate's
        ``numerator`` and ``denominator`` are counts, so replicates pool by summing
        them (:mod:`audits.replicates`).
    """
    d, m = result.audit.disparities, result.audit.metrics
    fractions = rate_rows(
        pd.concat(
            [m.by_group[m.by_group["group"] == group_column], m.overall],
            ignore_index=True,
        ).assign(group=group_column)
    )[["value", "metric", "numerator"]]
    table = d.table[d.table["group"] == group_column]
    taken = [c for c in ESTIMATE_COLUMNS if c != "numerator"]
    audit = table[["group", "value", "metric", *taken]]
    overall = d.overall.assign(group=group_column, value=OVERALL)
    audit = pd.concat([audit, overall], ignore_index=True).merge(
        fractions, on=["value", "metric"], how="left", sort=False
    )
    link_table = _link_rows(result, group_column)
    if len(table):
        link_table = _with_reference(link_table, str(table["reference"].iloc[0]))
    out = pd.concat([audit, link_table], ignore_index=True)
    return out.reindex(columns=["group", "value", "metric", *ESTIMATE_COLUMNS])


def _link_rows(result: Run, group_column: str) -> pd.DataFrame:
    """Link recall, precision and F1 by group and overall, as counts and rates.

    F1 is ``2 correct / (linkable + linked)``, so it pools like the others.
    """
    quality = result.link_quality
    link = pd.concat(
        [
            quality.by_group[quality.by_group["group"] == group_column],
            quality.overall.assign(group=group_column, value=OVERALL),
        ],
        ignore_index=True,
    )
    correct = link["n_correct"].to_numpy(dtype=np.int64)
    linkable = link["n_linkable"].to_numpy(dtype=np.int64)
    linked = link["n_linked"].to_numpy(dtype=np.int64)
    fractions = {
        "recall": (correct, linkable),
        "precision": (correct, linked),
        "f1": (2 * correct, linkable + linked),
    }
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "group": group_column,
                    "value": link["value"].astype(str).to_numpy(),
                    "metric": f"link_{m}",
                    "n": linkable,
                    "numerator": num,
                    "denominator": den,
                    "estimate": link[m].to_numpy(dtype=float),
                }
            )
            for m, (num, den) in fractions.items()
        ],
        ignore_index=True,
    )


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
    varies: Sequence[Vary | tuple[str, Sequence[Any]]],
    replicates: int = 1,
    group_column: str = "imd_quintile",
    *,
    base_dir: str | Path | None = None,
    origin: str = "<scenario>",
    progress: bool = False,
    workers: Workers = SERIAL,
    meanwhile: Callable[[], object] | None = None,
    plan: SweepPlan | None = None,
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
    workers : Workers
        Where the runs (and the history cohorts of learned models) run (default:
        here, one after another); the table is the same.
    meanwhile : callable, optional
        The caller's own work that needs no run (the command line imports the
        chart's libraries), done before any result is taken. Serially it is called
        once every run is submitted; with workers, in a thread while the runs are
        submitted, since the first submission waits for the workers' fork server to
        finish its imports (:func:`_alongside`): the work fills that wait rather
        than taking CPU from the workers later.
    plan : SweepPlan, optional
        ``plan_sweep`` of the same arguments, if the caller has made it (the
        command line estimates the sweep from it first): not made again.

    Returns
    -------
    DataFrame
        One row per (point, replicate, group value, metric): a column per varied
        parameter (named by its path), ``point``, ``replicate``, ``seed``,
        ``group``, ``value`` (``"overall"`` for every family), ``metric`` (one of
        :data:`METRICS`) and :data:`ESTIMATE_COLUMNS`. Link-quality rows have no
        interval or reference. ``table.attrs`` holds the plan: ``varies``,
        ``seeds``, ``group_column`` and the ``base`` scenario, and the
        ``timings`` of the runs.

    Raises
    ------
    ScenarioError
        If the arguments or any point's scenario are not valid (before any run).
    """
    if plan is None:
        plan = plan_sweep(base, varies, replicates, group_column, origin=origin)
    n_rep = len(plan.seeds)
    jobs = [
        (p, r, point, plan.scenarios[p * n_rep + r])
        for p, point in enumerate(plan.points)
        for r in range(n_rep)
    ]
    households = max(s.population.n_households for s in plan.scenarios)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc="sweep", unit="run")
    parts: list[pd.DataFrame] = []
    caught: dict[tuple[type[Warning], str], int] = {}
    timings = Timings()
    with (
        timings.stage(RUNS_STAGE),
        Pool(workers, households, len(jobs), whole_runs=True) as pool,
    ):
        models = _point_models(pool, plan, base_dir, caught)
        with _alongside(meanwhile if pool.elsewhere else None):
            sent = {
                i: pool.submit(point_rows, jobs[i][3], models[jobs[i][0]], group_column)
                for i in largest_first([job[3].population.n_households for job in jobs])
            }
        tasks = [sent[i] for i in range(len(jobs))]
        if meanwhile is not None and not pool.elsewhere:
            meanwhile()
        for (p, r, point, scenario), task in zip(jobs, tasks, strict=True):
            with _counting(caught):
                rows = task.result(timings, RUNS_STAGE)
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
        timings=timings,  # for the manifest's measured fields, not sweep.json
    )
    return table


@contextmanager
def _alongside(work: Callable[[], object] | None) -> Iterator[None]:
    """Do ``work`` in a thread while the block runs; it has ended when the block has.

    A parallel sweep's first submission waits until the workers' fork server has
    imported linkaudit (0.1 to 0.4 s after the command has, on a quiet machine);
    the command's own work fills that wait (docs/performance.md, "Parallel runs and
    sweeps"). The thread holds back SIGINT, SIGTERM and SIGHUP, so that they reach
    the main thread, which handles them. An error in ``work`` is raised here once
    the block ends; if the block raises, the thread is left to finish on its own.
    """
    if work is None:
        yield
        return
    failed: list[BaseException] = []

    def target() -> None:
        try:
            work()
        except BaseException as e:  # raised again in the caller's thread
            failed.append(e)

    thread = threading.Thread(target=target, name="linkaudit-meanwhile", daemon=True)
    before = signal.pthread_sigmask(signal.SIG_BLOCK, set(HANDLED_SIGNALS))
    try:
        thread.start()  # it inherits the blocked signals
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
    yield
    thread.join()
    if failed:
        raise failed[0]


def largest_first(sizes: Sequence[int]) -> list[int]:
    """Indices of ``sizes``, largest first (ties in order): the order to send runs in.

    Workers take runs in the order they are sent; the largest last would leave
    one worker running it while the others wait (a sweep over
    ``population.n_households``). Results are still taken in the plan's order.

    Examples
    --------
    >>> largest_first([1000, 20000, 5000, 20000])
    [1, 3, 2, 0]
    """
    return sorted(range(len(sizes)), key=lambda i: -sizes[i])


def point_rows(scenario: Scenario, model: RiskModel, group_column: str) -> pd.DataFrame:
    """One run of a sweep (no attribution), as the rows it adds (:func:`run_rows`)."""
    return run_rows(run(scenario, attribution=False, model=model), group_column)


def _point_models(
    pool: Pool,
    plan: SweepPlan,
    base_dir: str | Path | None,
    caught: dict[tuple[type[Warning], str], int],
) -> list[RiskModel]:
    """Each point's council model, fitted once on its replicate 0 and shared.

    Models that learn fit on a history cohort, a task of ``pool``; the others
    (rules, score files) are built here.
    """
    n_rep = len(plan.seeds)
    firsts = plan.scenarios[::n_rep]
    fits = [
        pool.submit(partial(fit_model, s, base_dir=base_dir))
        if needs_history(s)
        else None
        for s in firsts
    ]
    models = []
    for scenario, task in zip(firsts, fits, strict=True):
        with _counting(caught):
            models.append(
                task.result() if task else fit_model(scenario, base_dir=base_dir)
            )
    return models


@contextmanager
def _counting(caught: dict[tuple[type[Warning], str], int]) -> Iterator[None]:
    """Count the warnings raised inside by (category, message), not issuing them."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        yield
    for w in seen:
        key = (w.category, str(w.message))
        caught[key] = caught.get(key, 0) + 1


def _tidy_types(table: pd.DataFrame, varies: Sequence[Vary]) -> pd.DataFrame:
    """Parameter columns as numbers when every value is one, else as text."""
    for v in varies:
        values = v.values
        if all(isinstance(x, int | float) and not isinstance(x, bool) for x in values):
            table[v.path] = table[v.path].astype(
                float if any(isinstance(x, float) for x in values) else "int64"
            )
        else:
            table[v.path] = table[v.path].map(setting_text).astype("string")
    for col in ("group", "value", "metric", "reference"):
        table[col] = table[col].astype("string")
    table["is_reference"] = table["is_reference"].astype("boolean")
    table["small_group"] = table["small_group"].astype("boolean")
    for col in ("n", "denominator"):
        table[col] = table[col].astype("Int64")
    return table


# ----------------------------------------------------------------- summary and plot


def check_metric(metric: str) -> str:
    """Return ``metric`` if the sweep table has it (:data:`METRICS`).

    Raises
    ------
    ValueError
        Naming the metrics a sweep has.
    """
    if metric not in METRICS:
        raise ValueError(
            f"a sweep has the metrics {', '.join(METRICS)}; not {metric!r}"
        )
    return metric


def summarise(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One metric pooled over replicates, per point and group value.

    Pooled by the audit's one rule (:mod:`audits.replicates`, docs/audit.md): the
    rate of the counts summed across replicates, and its ratio to the reference
    group's pooled rate. A replicate whose own ratio is undefined (its reference
    rate is 0) still counts in the pooled rates; such replicates are counted in
    ``ratio_undefined``. The per-replicate figures stay in the sweep table.

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
        ``replicates`` defining the rate, the pooled ``estimate``, ``low`` and
        ``high``; the ``reference`` group (``"4/5"`` if replicates differ),
        ``ratio`` (pooled, NaN where undefined), ``ratio_note`` (why it is
        undefined: :data:`audits.replicates.RATIO_UNDEFINED` or
        :data:`audits.replicates.RATIO_MIXED`, else empty), ``ratio_low`` and
        ``ratio_high``, and ``ratio_undefined``. ``low``/``high`` and
        ``ratio_low``/``ratio_high`` are the bootstrap interval with one replicate,
        the smallest and largest replicate (where defined) with more.
    """
    check_metric(metric)
    keys = [*param_columns(table), "point"]
    rows = _without_attrs(table)
    rows = rows[rows["metric"] == metric]
    pooled = against_reference(rows, pool_rates(rows, [*keys, "value"]), keys)
    bounds = rows.groupby([*keys, "value"], sort=False, dropna=False)[
        ["ci_low", "ci_high", "ratio_ci_low", "ratio_ci_high"]
    ].first()
    out = pooled.merge(bounds.reset_index(), on=[*keys, "value"], how="left")
    single = (out["replicates"] <= 1).to_numpy()
    out["low"] = np.where(single, out["ci_low"], out["min"])
    out["high"] = np.where(single, out["ci_high"], out["max"])
    out["ratio"] = out["ratio_to_ref"]
    out["ratio_low"] = np.where(single, out["ratio_ci_low"], out["ratio_min"])
    out["ratio_high"] = np.where(single, out["ratio_ci_high"], out["ratio_max"])
    return out[
        [
            *keys,
            "value",
            "replicates",
            "estimate",
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


def _without_attrs(table: pd.DataFrame) -> pd.DataFrame:
    """``table``'s columns (not copied) without its ``attrs``.

    pandas deep-copies a frame's ``attrs`` (a sweep's: its plan, base scenario and
    timings) into every frame or column derived from it: about 3 ms each time, 60%
    of a summary's cost (docs/performance.md, "Parallel runs and sweeps").
    """
    plain = table.copy(deep=False)
    plain.attrs = {}
    return plain


def param_columns(table: pd.DataFrame) -> list[str]:
    """The varied parameters' columns of a sweep table (those before ``point``)."""
    return list(table.columns[: list(table.columns).index("point")])


def value_order(values: Sequence[str], group_column: str) -> list[str]:
    """Group values in the column's natural order, then any others, overall last."""
    present = [v for v in dict.fromkeys(values) if v != OVERALL]
    natural = [str(v) for v in GROUP_VALUES[group_column]]
    ordered = [v for v in natural if v in present]
    ordered += [v for v in present if v not in natural]
    return ordered + ([OVERALL] if OVERALL in values else [])
