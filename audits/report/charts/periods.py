"""The periods chart: the headline rate by group, and families' fates, over time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from audits.report.charts import base
from audits.report.text import group_label, value_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FAMILY_LINES = (
    ("needs_met", "in need, flagged"),
    ("needs_missed", "in need, missed"),
    ("deterred", "deterred by a flag"),
    ("flags_carried_over", "flagged again"),
)
"""The counts of ``periods/families`` drawn on the right, and their legend labels."""
FAMILY_MARKERS = ("o", "s", "^", "D")


def _palette(grouping: str, n: int) -> tuple[Sequence[str], Sequence[str]]:
    """Colours and markers of a grouping's lines (the quintile ramp for quintiles)."""
    if grouping == "imd_quintile" and n <= len(base.QUINTILE_COLOURS):
        return base.QUINTILE_COLOURS, base.QUINTILE_MARKERS
    return base.GROUP_COLOURS, base.QUINTILE_MARKERS


def _period_axis(ax: Axes, periods: np.ndarray) -> None:
    """Whole periods on the x axis, with a little room either side."""
    ax.set_xticks(periods, [str(p) for p in periods])
    ax.set_xlim(periods.min() - 0.3, periods.max() + 0.3)
    ax.set_xlabel("period (year)")
    ax.grid(axis="y")


def periods_chart(
    metrics: pd.DataFrame,
    families: pd.DataFrame,
    metric: str,
    metric_words: str,
    grouping: str,
) -> str:
    """The headline rate by group (left) and families' fates overall (right), by period.

    Parameters
    ----------
    metrics : DataFrame
        ``periods/metrics_by_group``.
    families : DataFrame
        ``periods/families``.
    metric, metric_words : str
        The headline's rate (a column of ``metrics``) and its name in words.
    grouping : str
        The headline's group column: one line per group.

    Returns
    -------
    str
        Inline SVG.
    """
    rows = metrics[metrics["group"] == grouping]
    values = list(dict.fromkeys(rows["value"]))
    colours, markers = _palette(grouping, len(values))
    overall = families[families["group"] == "overall"].sort_values("period")
    periods = np.sort(metrics["period"].unique())

    def draw() -> Figure:
        from matplotlib.ticker import FuncFormatter

        fig = base.new_figure(9.2, 4.6)
        left, right = fig.subplots(1, 2)
        for i, v in enumerate(values):  # a handful of groups
            line = rows[rows["value"] == v].sort_values("period")
            left.plot(
                line["period"],
                line[metric],
                color=colours[i % len(colours)],
                marker=markers[i % len(markers)],
                markersize=6,
                linewidth=2.0,
                label=value_label(grouping, v),
            )
        left.set_title(metric_words[:1].upper() + metric_words[1:])
        left.set_ylim(bottom=0)
        base.percent_axis(left, "y")
        _period_axis(left, periods)
        fig.legend(
            *left.get_legend_handles_labels(),
            title=group_label(grouping),
            fontsize=base.LABEL_PT,
            title_fontsize=base.LABEL_PT,
            loc="outside lower left",
            ncols=2,
        )
        for i, (column, label) in enumerate(FAMILY_LINES):  # four lines
            right.plot(
                overall["period"],
                overall[column],
                color=base.GROUP_COLOURS[i],
                marker=FAMILY_MARKERS[i],
                markersize=6,
                linewidth=2.0,
                label=label,
            )
        right.set_title("Families, every group")
        right.set_ylim(bottom=0)
        right.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:,.0f}"))
        _period_axis(right, periods)
        fig.legend(
            *right.get_legend_handles_labels(),
            title="families",
            fontsize=base.LABEL_PT,
            title_fontsize=base.LABEL_PT,
            loc="outside lower right",
            ncols=2,
        )
        return fig

    return base.render(
        "periods",
        f"The {metric_words} by {group_label(grouping)}, and families in need "
        "flagged, missed, deterred and flagged again, period by period",
        draw,
    )
