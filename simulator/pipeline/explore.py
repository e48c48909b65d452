"""Explore a scenario over a grid of one or two settings, for the explorer page.

``linkaudit explore SCENARIO --vary PATH=V1,V2,... [--vary ...]`` runs the scenario
(without the attribution ladder) at every point of the grid, each point a whole run
with its replicate worlds (the scenario's ``audit.replicates``, or ``--replicates``)
pooled as a run pools them. The grid is a sweep's (:mod:`simulator.pipeline.grid`):
a point's scenario is the base with ``PATH=VALUE`` applied as ``--set`` applies it,
keeping the base's seed, so every point's first world holds the same families and
the page can follow a family from point to point.

Each point is one task of :class:`simulator.pipeline.parallel.Pool` (``--workers``,
``--cluster``) that returns only what the page shows (:class:`PointResult`, a few
kilobytes): the numbers (:func:`audits.report.explore_data.point_numbers`) and every
family's fate and counted records. Results are collected in grid order, so the page
is byte-identical however many workers ran it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.errors import ScenarioError
from simulator.pipeline.grid import (
    Vary,
    check_grid,
    point_scenarios,
    setting_description,
    setting_text,
)
from simulator.pipeline.parallel import SERIAL, Pool, Workers
from simulator.pipeline.timings import (
    MEASURED,
    RUNS_STAGE,
    WRITE_STAGE,
    Timings,
    measure,
    measured_fields,
)
from simulator.schema.loading import scenario_from_dict
from simulator.schema.scenario import Scenario

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PointResult:
    """What the page shows of one point of the grid.

    Attributes
    ----------
    numbers : dict
        :func:`audits.report.explore_data.point_numbers` (JSON-able).
    table : DataFrame
        The pooled disparities table of the shown grouping (for the chart).
    fates, records : DataFrame
        :func:`audits.report.explore_data.family_fates` of the first world.
    """

    numbers: dict[str, Any]
    table: pd.DataFrame
    fates: pd.DataFrame
    records: pd.DataFrame


@dataclass(frozen=True)
class Exploration:
    """Every point of an exploration, in grid order (the first setting slowest).

    Attributes
    ----------
    base : Scenario
        The base scenario (with ``audit.replicates`` as run at every point).
    varies : tuple of Vary
        The varied settings.
    points : list of tuple
        Each point's values.
    grouping : str
        The grouping shown group by group (the headline's).
    results : list of PointResult
    timings : Timings
    """

    base: Scenario
    varies: tuple[Vary, ...]
    points: list[tuple[Any, ...]]
    grouping: str
    results: list[PointResult]
    timings: Timings = field(default_factory=Timings, compare=False)
    """What running the points cost (the manifest's ``measured`` fields)."""


def plan_explore(
    base: Mapping[str, Any],
    varies: Sequence[Vary],
    replicates: int | None = None,
    *,
    origin: str = "<scenario>",
) -> tuple[Scenario, tuple[Vary, ...], list[tuple[Any, ...]], list[Scenario]]:
    """The base scenario, the varied settings, the points and their scenarios.

    Parameters
    ----------
    base : mapping
        The scenario as read from YAML (with any ``--set`` applied).
    varies : sequence of Vary
        One or two varied settings.
    replicates : int, optional
        Worlds per point (``audit.replicates``); default: the scenario's own.
    origin : str
        Named in validation errors.

    Raises
    ------
    ScenarioError
        As :func:`simulator.pipeline.grid.check_grid` (messages start with
        ``explore:``) and :func:`simulator.pipeline.grid.point_scenarios`.
    """
    data = dict(base)
    if replicates is not None:
        data["audit"] = {**(data.get("audit") or {}), "replicates": replicates}
    scenario = scenario_from_dict(data, origin)
    parsed = check_grid(varies, scenario.audit.replicates, command="explore")
    points, scenarios = point_scenarios(data, parsed, origin)
    return scenario, parsed, points, scenarios


def shown_grouping(scenario: Scenario) -> str:
    """The grouping the page shows group by group: the headline's, else the first."""
    headline = scenario.audit.headline
    if headline is not None:
        return headline.grouping
    columns = scenario.audit.group_columns
    if not columns:
        raise ScenarioError(
            ["explore: the scenario's audit.group_columns is empty: give at least one"]
        )
    return columns[0]


def explore_point(
    scenario: Scenario, grouping: str, base_dir: str | Path | None = None
) -> PointResult:
    """Run one point (no attribution) and keep what the page shows.

    The run is :func:`simulator.pipeline.run.run` itself, so the numbers are the
    run's own (``tests/pipeline/test_explore.py`` compares them with a direct run).
    """
    from audits.pooled_tables import pooled_audit
    from audits.report.explore_data import family_fates, point_numbers
    from simulator.pipeline.output import report_inputs
    from simulator.pipeline.run import run

    result = run(scenario, attribution=False, base_dir=base_dir)
    disparities = pooled_audit(result.audit).disparities
    fates, records = family_fates(report_inputs(result))
    return PointResult(
        numbers=point_numbers(result.audit, grouping),
        table=disparities.table[disparities.table["group"] == grouping].reset_index(
            drop=True
        ),
        fates=fates,
        records=records,
    )


def explore(
    base: Mapping[str, Any],
    varies: Sequence[Vary],
    replicates: int | None = None,
    *,
    base_dir: str | Path | None = None,
    origin: str = "<scenario>",
    progress: bool = False,
    workers: Workers = SERIAL,
) -> Exploration:
    """Run every point of the grid; return what the explorer page shows.

    Parameters
    ----------
    base, varies, replicates, origin
        As :func:`plan_explore`.
    base_dir : str or Path, optional
        Directory relative paths of the scenario resolve against.
    progress : bool
        Show a progress bar over points.
    workers : Workers
        Where the points run (default: here, one after another); the result is the
        same.

    Raises
    ------
    ScenarioError
        If the arguments or any point's scenario are not valid (before any run).
    """
    scenario, parsed, points, scenarios = plan_explore(
        base, varies, replicates, origin=origin
    )
    grouping = shown_grouping(scenario)
    households = max(s.population.n_households * s.audit.replicates for s in scenarios)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(points), desc="explore", unit="point")
    results = []
    timings = Timings()
    with (
        timings.stage(RUNS_STAGE),
        Pool(workers, households, len(points), whole_runs=True) as pool,
    ):
        tasks = [pool.submit(explore_point, s, grouping, base_dir) for s in scenarios]
        for point, task in zip(points, tasks, strict=True):
            results.append(task.result(timings, RUNS_STAGE))
            logger.info("explore point %s done", point)
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    return Exploration(scenario, parsed, points, grouping, results, timings)


def explore_page(exploration: Exploration) -> str:
    """The explorer page of an exploration (:mod:`audits.report.explore_page`)."""
    from audits.report.explore_data import choose_families, follow_families
    from audits.report.explore_page import point_labels, render_explore

    e = exploration
    axes = [
        (
            v.path,
            [setting_text(x) for x in v.values],
            setting_description(e.base, v.path),
        )
        for v in e.varies
    ]
    fates = [r.fates for r in e.results]
    chosen = choose_families(fates, e.base.seed, e.grouping)
    families = follow_families(
        chosen,
        fates,
        [r.records for r in e.results],
        point_labels([a[:2] for a in axes]),
    )
    return render_explore(
        e.base.name,
        e.base.description,
        axes,
        [r.numbers for r in e.results],
        [r.table for r in e.results],
        families,
        grouping=e.grouping,
        confidence=float(e.base.audit.confidence),
    )


def write_exploration(
    exploration: Exploration, out_dir: str | Path, *, overwrite: bool = False
) -> Path:
    """Write ``explore.html`` atomically into ``out_dir``, with its manifest.

    Written to a temporary sibling and renamed (:mod:`simulator.output_dirs`); with
    ``overwrite`` only an empty directory or a linkaudit output is replaced.
    """
    from audits.report.explore_page import EXPLORE, write_explore
    from simulator.io import write_manifest
    from simulator.output_dirs import atomic_directory

    out_dir = Path(out_dir)
    with atomic_directory(out_dir, overwrite=overwrite) as tmp:
        with measure() as written:
            write_explore(explore_page(exploration), tmp)
        timings = exploration.timings.plus(WRITE_STAGE, written[0])
        write_manifest(
            tmp,
            {
                "kind": "linkaudit explore",
                "points": len(exploration.points),
                "replicates": exploration.base.audit.replicates,
                "files": [EXPLORE],
                MEASURED: measured_fields(timings),
            },
        )
    return out_dir / EXPLORE
