"""The attribution chart: wrong flags and misses by their first cause."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from audits.attribution import CAUSE_LABELS, RUNGS
from audits.report.charts.base import (
    CAUSE_COLOURS,
    LABEL_PT,
    count_axis,
    new_figure,
    render,
)
from audits.report.text import (
    pooled_count,
    value_label,
)
from simulator.vocabulary import OVERALL

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def attribution_chart(counts: pd.DataFrame, grouping: str | None) -> str:
    """Stacked bars of the causes of wrong flags and missed families.

    Parameters
    ----------
    counts : DataFrame
        ``PooledAttribution.counts``: the bars are the mean per world; with several
        worlds a whisker spans the smallest to largest world's total.
    grouping : str or None
        A group column to break down by (e.g. ``imd_quintile``), under the total.

    Returns
    -------
    str
        Inline SVG.
    """
    keep = counts["group"].eq(OVERALL)
    if grouping is not None:
        keep |= counts["group"].eq(grouping)
    rows = counts[keep]
    kinds = (
        ("false_positive", "Wrongly flagged families, by cause"),
        ("false_negative", "Missed families, by cause"),
    )
    first = rows[rows["error"] == kinds[0][0]]
    labels = [
        "all families" if g == OVERALL else value_label(g, v)
        for g, v in zip(first["group"], first["value"], strict=True)
    ]
    n = len(labels)
    spread = bool((rows.get("total_low", rows["total"]) != rows["total"]).any())

    def draw() -> Figure:
        fig = new_figure(9.2, 0.34 * n + 1.6)
        axes = fig.subplots(1, 2, sharey=True)
        y = np.arange(n)[::-1]
        for ax, (kind, title) in zip(axes, kinds, strict=True):
            part = rows[rows["error"] == kind]
            left = np.zeros(n)
            for rung in RUNGS:  # five causes
                width = part[rung].to_numpy(dtype=float)
                ax.barh(
                    y,
                    width,
                    left=left,
                    color=CAUSE_COLOURS[rung],
                    height=0.62,
                    label=CAUSE_LABELS[rung],
                )
                left += width
            high = _world_totals(ax, y, part, left) if spread else left
            for i, (_, row) in enumerate(part.iterrows()):  # a handful of rows
                ax.text(
                    high[i] + max(high.max(), 1) * 0.015,
                    y[i],
                    pooled_count(row, "total"),
                    va="center",
                    fontsize=LABEL_PT,
                )
            ax.set_xlim(0, max(high.max(), 1) * (1.6 if spread else 1.15))
            ax.set_title(title)
            ax.set_yticks(y, labels)
            ax.tick_params(axis="y", length=0)
            ax.set_xlabel("families")
            count_axis(ax)
            if n > 1:
                ax.axhline(n - 1.5, color="#999999", linewidth=0.8)
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(
            handles, names, loc="outside lower center", ncols=4, fontsize=LABEL_PT
        )
        return fig

    return render(
        "attribution",
        "Wrongly flagged and missed families by cause: the model itself, visibility "
        "bias, data errors and linkage errors",
        draw,
    )


def _world_totals(
    ax: Axes, y: np.ndarray, part: pd.DataFrame, left: np.ndarray
) -> np.ndarray:
    """Whiskers from the smallest to the largest world's total; their right ends.

    The bar ends at the sum of the causes' means, which can differ from the mean
    total by a rounding residue: the whisker's arms are clipped at 0 so that a
    world range touching the mean (every world alike) is not a negative arm.
    """
    low = part["total_low"].to_numpy(dtype=float)
    high = part["total_high"].to_numpy(dtype=float)
    ax.errorbar(
        left,
        y,
        xerr=[np.clip(left - low, 0, None), np.clip(high - left, 0, None)],
        fmt="none",
        ecolor="#333333",
        elinewidth=1.0,
        capsize=3,
    )
    return np.maximum(high, left)
