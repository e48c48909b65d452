"""A sweep's files: the tidy table (CSV, Parquet), the chart and ``sweep.json``.

The chart is drawn by :func:`audits.report.sweep_chart.sweep_chart` from the pooled
summary (:func:`simulator.pipeline.sweep.summarise`) and plain settings
(:func:`chart_spec`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from audits.headline import MOST_DEPRIVED
from audits.report.sweep_chart import SweepChart, sweep_chart
from simulator.io import write_json, write_manifest, write_parquet
from simulator.output_dirs import atomic_directory
from simulator.pipeline.sweep import (
    METRICS,
    check_metric,
    param_columns,
    summarise,
    value_order,
)
from simulator.pipeline.timings import (
    MEASURED,
    WRITE_STAGE,
    Timings,
    measure,
    measured_fields,
)
from simulator.vocabulary import DEPRIVATION, OVERALL

CSV, PARQUET, PLOT, JSON = "sweep.csv", "sweep.parquet", "sweep.png", "sweep.json"
"""The files of a sweep directory."""


def chart_spec(
    table: pd.DataFrame, group_column: str | None = None, title: str | None = None
) -> SweepChart:
    """What :func:`audits.report.sweep_chart.sweep_chart` draws for a sweep table."""
    group_column = group_column or str(table["group"].iloc[0])
    params = param_columns(table)
    values = value_order(table["value"].astype(str).unique().tolist(), group_column)
    groups = [v for v in values if v != OVERALL]
    deprivation = group_column in DEPRIVATION
    if deprivation:
        least = table["reference"].isin(["5", "10"]).any()
        what = "most vs least deprived" if least else "most deprived vs reference"
        ratio_label = f"pooled ratio, {what}"
    else:
        ratio_label = "pooled ratio to the reference group"
    return SweepChart(
        metric="",
        group_column=group_column,
        x=params[0],
        panel=params[1] if len(params) > 1 else None,
        values=values,
        overall=OVERALL,
        ratio_values=[MOST_DEPRIVED] if deprivation else groups,
        ratio_label=ratio_label,
        sequential=deprivation,
        title=title,
    )


def plot_sweep(
    table: pd.DataFrame,
    metric: str,
    group_column: str | None = None,
    path: str | Path | None = None,
    *,
    title: str | None = None,
    summary: pd.DataFrame | None = None,
) -> Any:
    """Plot a metric by group against the varied parameter, pooled over replicates.

    The pooled summary (:func:`summarise`) drawn by
    :func:`audits.report.sweep_chart.sweep_chart`: rates by group with their band
    above, the pooled ratio to the reference group below.

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
    summary : DataFrame, optional
        ``summarise(table, metric)``, if the caller has it already.

    Returns
    -------
    matplotlib.figure.Figure
    """
    spec = replace(chart_spec(table, group_column, title), metric=check_metric(metric))
    if summary is None:
        summary = summarise(table, metric)
    return sweep_chart(summary, spec, path)


def write_sweep(
    table: pd.DataFrame,
    out_dir: str | Path,
    *,
    metric: str = "fpr",
    overwrite: bool = False,
    plot: str = PLOT,
    summary: pd.DataFrame | None = None,
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
    summary : DataFrame, optional
        ``summarise(table, metric)``, if the caller has it already (the command
        line prints it too).

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
        with measure() as written:
            write_parquet(plain, tmp / PARQUET)
            plain.to_csv(tmp / CSV, index=False)
            plot_sweep(
                table,
                metric,
                attrs.get("group_column"),
                tmp / plot,
                title=base.get("name"),
                summary=summary,
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
        timings = attrs.get("timings") or Timings()
        measured = measured_fields(timings.plus(WRITE_STAGE, written[0]))
        manifest = {"kind": "linkaudit sweep", "rows": {PARQUET: len(table)}}
        write_manifest(tmp, manifest | {MEASURED: measured})  # last
    return out_dir
