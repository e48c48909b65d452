"""The threshold chart: what every cut of the score would do, by group."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from audits.report.charts.base import (
    GROUP_COLOURS,
    LABEL_PT,
    QUINTILE_COLOURS,
    QUINTILE_MARKERS,
    new_figure,
    percent_axis,
    render,
)
from audits.report.text import (
    group_label,
    value_label,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def threshold_chart(
    curves: pd.DataFrame,
    cut: float,
    grouping: str,
    *,
    in_target: str = "in need",
    right: float | None = None,
) -> str:
    """False and true positive rates against the score threshold, one line a group.

    Parameters
    ----------
    curves : DataFrame
        :func:`audits.report.curves.threshold_curves`, or
        :func:`~audits.report.curves.pooled_threshold_curves`: with several worlds
        a band around each line spans the smallest to largest world's rate.
    cut : float
        The scenario's actual cut (a dashed line; NaN: none).
    grouping : str
        The group column the curves are by (for the legend).
    in_target : str
        What being in the audit's target is called ("in need", "harmed").
    right : float, optional
        The right end of the threshold axis (to leave out a long empty tail).

    Returns
    -------
    str
        Inline SVG.
    """
    values = list(dict.fromkeys(curves["value"]))
    quintiles = grouping == "imd_quintile" and len(values) <= 5
    palette = QUINTILE_COLOURS if quintiles else GROUP_COLOURS
    markers = QUINTILE_MARKERS if quintiles else ("o",)
    bands = "fpr_low" in curves and bool((curves.get("worlds", 1) > 1).any())

    def draw() -> Figure:
        fig = new_figure(9.2, 3.9)
        axes = fig.subplots(1, 2, sharex=True)
        for ax, metric, title in (
            (axes[0], "fpr", f"False positive rate: not {in_target}, flagged"),
            (axes[1], "tpr", f"True positive rate: {in_target}, found"),
        ):
            for i, v in enumerate(values):  # a handful of groups
                c = curves[curves["value"] == v]
                step = max(len(c) // 6, 1)  # a few markers a line, staggered
                steps = len(c) < 60
                if bands:
                    ax.fill_between(
                        c["threshold"],
                        c[f"{metric}_low"],
                        c[f"{metric}_high"],
                        step="pre" if steps else None,
                        color=palette[i % len(palette)],
                        alpha=0.15,
                        linewidth=0,
                    )
                ax.plot(
                    c["threshold"],
                    c[metric],
                    drawstyle="steps-pre" if steps else "default",
                    color=palette[i % len(palette)],
                    linewidth=2.0,
                    marker=markers[i % len(markers)],
                    markersize=6,
                    markevery=(i * step // max(len(values), 1), step),
                    label=value_label(grouping, v),
                )
            if np.isfinite(cut):
                ax.axvline(cut, color="#222222", linestyle="--", linewidth=1.1)
                ax.annotate(
                    "the scenario's cut",
                    xy=(cut, 1.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(4, -10),
                    textcoords="offset points",
                    fontsize=LABEL_PT,
                )
            ax.set_title(title)
            ax.set_xlabel("flag families scoring at least ...")
            if right is not None and np.isfinite(right):
                ax.set_xlim(right=right)
            ax.set_ylim(0, 1.02)
            ax.grid(axis="y")
            percent_axis(ax, "y")
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(
            handles,
            names,
            title=group_label(grouping),
            loc="outside lower center",
            ncols=len(values),
            fontsize=LABEL_PT,
            title_fontsize=LABEL_PT,
        )
        return fig

    return render(
        "thresholds",
        f"False and true positive rates at every score threshold, by "
        f"{group_label(grouping)}",
        draw,
    )
