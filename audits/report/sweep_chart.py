"""The chart of a sweep: a metric by group against the varied parameter.

:func:`sweep_chart` draws from plain data: the pooled summary of one metric
(:func:`simulator.pipeline.sweep.summarise`, one row per point and group value) and a
:class:`SweepChart` saying which columns and values to draw. It reads no run and no
pipeline object, so anything that pools replicates the same way (the sweep, the coming
explorer) can draw it.

The top row has one line per group (and a dashed line for every family): the pooled
rate, with a band (the bootstrap interval with one replicate, the smallest to largest
replicate with more). The bottom row gives the pooled ratio to the reference group
(:mod:`audits.replicates`), with the same kind of band. Points where the ratio is
undefined are left out of the line and named in the panel; a legend label counts
replicates whose own ratio is undefined. With two varied parameters there is one
column of panels per value of the second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audits.report.charts.base import (
    CHART_PT,
    GROUP_COLOURS,
    LABEL_PT,
    QUINTILE_COLOURS,
    QUINTILE_MARKERS,
)
from audits.report.text import SHORT_METRIC_LABELS

METRIC_LABELS = {
    **SHORT_METRIC_LABELS,
    "link_recall": "link recall",
    "link_precision": "link precision",
    "link_f1": "link F1",
}
"""Words for every metric a sweep can plot."""


@dataclass(frozen=True)
class SweepChart:
    """What to draw from a sweep summary.

    Attributes
    ----------
    metric : str
        The metric's name (a key of :data:`METRIC_LABELS`).
    group_column : str
        The household attribute the groups are values of.
    x : str
        The column of the varied parameter on the x axis.
    panel : str or None
        The column of the second varied parameter (one column of panels per value).
    values : sequence of str
        Group values in drawing order (``overall`` included where drawn).
    overall : str
        The ``value`` of the rows for every family (a dashed line).
    ratio_values : sequence of str
        The groups whose ratio to the reference is drawn.
    ratio_label : str
        The y label of the ratio row.
    sequential : bool
        Ordered groups (deprivation): a sequential colour map.
    title : str or None
        The figure's title prefix (e.g. the scenario's name).
    """

    metric: str
    group_column: str
    x: str
    panel: str | None
    values: Sequence[str]
    overall: str
    ratio_values: Sequence[str]
    ratio_label: str
    sequential: bool = False
    title: str | None = None


def _colours(groups: Sequence[str], sequential: bool) -> dict[str, Any]:
    """The report's colour-blind-safe colours (:mod:`audits.report.charts.base`)."""
    if sequential and len(groups) <= len(QUINTILE_COLOURS):
        return dict(zip(groups, QUINTILE_COLOURS, strict=False))
    if sequential:  # more ordered groups than quintiles: the same ramp, finer
        import matplotlib

        ramp = matplotlib.colormaps["inferno"](np.linspace(0.1, 0.75, len(groups)))
        return dict(zip(groups, ramp, strict=True))
    return {g: GROUP_COLOURS[i % len(GROUP_COLOURS)] for i, g in enumerate(groups)}


def _markers(groups: Sequence[str]) -> dict[str, str]:
    """One marker shape per group, so lines differ in shape as well as colour."""
    return {
        g: QUINTILE_MARKERS[i % len(QUINTILE_MARKERS)] for i, g in enumerate(groups)
    }


def _positions(summary: pd.DataFrame, x: str) -> tuple[list[Any], bool]:
    """The x values in order of appearance, and whether they are numbers."""
    return (
        list(dict.fromkeys(summary[x].tolist())),
        pd.api.types.is_numeric_dtype(summary[x]),
    )


def _xs(frame: pd.DataFrame, x: str, order: list[Any], numeric: bool) -> np.ndarray:
    if numeric:
        return frame[x].to_numpy(dtype=float)
    return np.array([order.index(v) for v in frame[x]], dtype=float)


def _banded(
    ax: Any,
    x: np.ndarray,
    line: pd.DataFrame,
    columns: tuple[str, str, str],
    colours: dict,
    group: str,
    label: str,
) -> None:
    """One group's line (its colour and marker) with a band from low to high."""
    middle, low, high = columns
    colour = colours[group]
    marker = _markers(list(colours))[group]
    ax.plot(x, line[middle], marker=marker, color=colour, lw=1.8, ms=5, label=label)
    ax.fill_between(x, line[low], line[high], color=colour, alpha=0.15, lw=0)


def _draw_rates(
    ax: Any, part: pd.DataFrame, spec: SweepChart, colours: dict, at: Any
) -> None:
    """The pooled rate of each group (and everyone, dashed) with its band."""
    for v in spec.values:
        line = part[part["value"] == v]
        if line.empty:
            continue
        x = at(line)
        if v == spec.overall:
            ax.plot(x, line["estimate"], "k--", lw=1.2, label="all families")
            continue
        _banded(ax, x, line, ("estimate", "low", "high"), colours, v, v)


def _draw_ratios(
    ax: Any, part: pd.DataFrame, spec: SweepChart, colours: dict, at: Any
) -> list[str]:
    """Each drawn group's pooled ratio with its band; returns the undefined points."""
    missing = []
    for v in spec.ratio_values:
        line = part[part["value"] == v]
        if line.empty or (line["reference"] == v).all():
            continue
        ref = line["reference"].dropna()
        label = f"{v} vs {ref.iloc[0]}" if len(ref) else v
        gaps = line.loc[line["ratio_note"] != "", [spec.x, "ratio_note"]]
        missing += [
            f"{label} at {spec.x} = {g}: {note}"
            for g, note in gaps.itertuples(index=False)
        ]
        if line["ratio"].isna().all():
            continue
        undefined = int(line["ratio_undefined"].sum())
        if undefined:
            label += f" ({undefined} replicate ratio(s) undefined)"
        columns = ("ratio", "ratio_low", "ratio_high")
        _banded(ax, at(line), line, columns, colours, v, label)
    ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
    if missing:
        ax.text(
            0.02,
            0.98,
            "\n".join(missing),
            transform=ax.transAxes,
            va="top",
            fontsize=LABEL_PT,
            color="0.3",
        )
    return missing


def _finish(fig: Any, axes: Any, summary: pd.DataFrame, spec: SweepChart) -> None:
    """Axis labels, legends and the title."""
    label = METRIC_LABELS[spec.metric]
    axes[0, 0].set_ylabel(f"{label} by {spec.group_column}", fontsize=CHART_PT)
    axes[1, 0].set_ylabel(spec.ratio_label, fontsize=CHART_PT)
    axes[0, -1].legend(
        title=spec.group_column,
        fontsize=LABEL_PT,
        title_fontsize=LABEL_PT,
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
    )
    if axes[1, -1].get_legend_handles_labels()[0]:
        axes[1, -1].legend(
            fontsize=LABEL_PT, loc="center left", bbox_to_anchor=(1.02, 0.5)
        )
    reps = int(summary["replicates"].max()) if len(summary) else 0
    band = "bootstrap interval" if reps <= 1 else f"range of {reps} replicates"
    fig.suptitle(
        f"{spec.title + ': ' if spec.title else ''}{label} by {spec.group_column}\n"
        f"pooled over replicates; band: {band}",
        fontsize=CHART_PT,
    )


def load_matplotlib() -> None:
    """Import what :func:`sweep_chart` draws and saves with (about 0.3 s of CPU).

    A parallel sweep's own process calls this while its workers run, when it
    would only wait (:func:`simulator.pipeline.sweep.sweep`'s ``meanwhile``); the
    chart is the same whenever matplotlib was imported.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401


def sweep_chart(
    summary: pd.DataFrame, spec: SweepChart, path: str | Path | None = None
) -> Any:
    """Plot a pooled metric by group against the varied parameter.

    Parameters
    ----------
    summary : DataFrame
        One row per point and group value: the parameter columns, ``value``,
        ``replicates``, ``estimate``, ``low``, ``high``, ``reference``, ``ratio``,
        ``ratio_note``, ``ratio_low``, ``ratio_high`` and ``ratio_undefined``.
    spec : SweepChart
        What to draw.
    path : str or Path, optional
        Where to save the figure (``.png`` or ``.svg``); not saved if None.

    Returns
    -------
    matplotlib.figure.Figure
    """
    load_matplotlib()
    from matplotlib.figure import Figure

    order, numeric = _positions(summary, spec.x)
    panels = list(dict.fromkeys(summary[spec.panel].tolist())) if spec.panel else [None]
    colours = _colours([v for v in spec.values if v != spec.overall], spec.sequential)
    fig = Figure(figsize=(5.0 * len(panels) + 2.6, 8.0), layout="constrained")
    axes = fig.subplots(2, len(panels), sharex=True, sharey="row", squeeze=False)
    for j, panel in enumerate(panels):  # over values of the second parameter
        part = summary if panel is None else summary[summary[spec.panel] == panel]
        top, bottom = axes[0, j], axes[1, j]

        def at(frame: pd.DataFrame) -> np.ndarray:
            return _xs(frame, spec.x, order, numeric)

        _draw_rates(top, part, spec, colours, at)
        _draw_ratios(bottom, part, spec, colours, at)
        if panel is not None:
            top.set_title(f"{spec.panel} = {panel}", fontsize=CHART_PT)
        bottom.set_xlabel(spec.x, fontsize=CHART_PT)
        if not numeric:
            bottom.set_xticks(range(len(order)), [str(v) for v in order])
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=LABEL_PT)
    _finish(fig, axes, summary, spec)
    if path is not None:
        path = Path(path)
        fig.savefig(
            path,
            dpi=120,
            metadata={"Software": None} if path.suffix == ".png" else None,
        )
    return fig
