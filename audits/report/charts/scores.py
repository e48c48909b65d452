"""The score's charts by group: calibration, and rates at every threshold."""

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
from audits.report.charts.rates import world_marks
from audits.report.text import group_label, num, value_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CURVE_PANELS = (
    ("selection_rate", "Share flagged"),
    ("fpr", "False positive rate"),
    ("fnr", "False negative rate (missed)"),
    ("precision", "Precision (flags that were right)"),
)
"""The threshold chart's panels: a column of ``threshold_curves`` and its title."""


def _palette(grouping: str, n: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Colours and markers: deprivation's ordered scale, else Okabe-Ito."""
    if grouping == "imd_quintile" and n <= 5:
        return QUINTILE_COLOURS, QUINTILE_MARKERS
    return GROUP_COLOURS, ("o", "s", "^", "D", "v", "P")


def _lines(
    ax: Axes, table: pd.DataFrame, x: str, y: str, grouping: str, band: bool = False
) -> None:
    """One line per group of ``table`` (``value``), ``y`` against ``x``.

    With ``band``, a shaded band around each line from ``y_low`` to ``y_high``.
    """
    values = list(dict.fromkeys(table["value"]))
    colours, markers = _palette(grouping, len(values))
    for i, v in enumerate(values):  # a handful of groups
        part = table[table["value"] == v]
        step = max(len(part) // 6, 1)
        if band:
            ax.fill_between(
                part[x],
                part[f"{y}_low"],
                part[f"{y}_high"],
                color=colours[i % len(colours)],
                alpha=0.15,
                linewidth=0,
            )
        ax.plot(
            part[x],
            part[y],
            color=colours[i % len(colours)],
            marker=markers[i % len(markers)],
            markersize=5,
            markevery=(i * step // max(len(values), 1), step),
            linewidth=1.8,
            label=value_label(grouping, v),
        )


def _legend(fig: Figure, ax: Axes, grouping: str) -> None:
    handles, names = ax.get_legend_handles_labels()
    fig.legend(
        handles,
        names,
        title=group_label(grouping),
        loc="outside lower center",
        ncols=min(len(names), 6),
        fontsize=LABEL_PT,
        title_fontsize=LABEL_PT,
    )


def calibration_chart(calibration: pd.DataFrame, grouping: str, name: str) -> str:
    """Observed outcome rate against the bin's mean score, one line a group.

    Parameters
    ----------
    calibration : DataFrame
        The ``calibration`` rows of one grouping (bins with scores only); pooled
        over several worlds (:mod:`audits.pooled_scores`), a band around each line
        spans the smallest to largest world's rate in the bin.
    grouping : str
        The grouping's name, for the legend.
    name : str
        A unique, id-safe chart name.

    Returns
    -------
    str
        Inline SVG.
    """
    band = "observed_rate_low" in calibration and bool(
        (calibration["worlds"] > 1).any()
    )

    def draw() -> Figure:
        fig = new_figure(7.0, 4.4)
        ax = fig.subplots()
        _lines(ax, calibration, "mean_score", "observed_rate", grouping, band)
        ax.set_title("Observed rate by score bin")
        ax.set_xlabel("mean score in the bin")
        ax.set_ylim(0, 1.02)
        ax.grid(axis="y")
        percent_axis(ax, "y")
        _legend(fig, ax, grouping)
        return fig

    return render(name, f"Calibration by {group_label(grouping)}", draw)


def auc_chart(auc: pd.DataFrame, grouping: str, name: str) -> str:
    """Each group's AUC pooled over the worlds, with each world's lowest and highest.

    Parameters
    ----------
    auc : DataFrame
        The pooled ``score_auc`` rows of one grouping
        (:func:`audits.pooled_scores.pooled_score_diagnostics`: ``auc``,
        ``auc_low``, ``auc_high``).
    grouping, name : str
        The grouping's name (for the labels) and a unique, id-safe chart name.

    Returns
    -------
    str
        Inline SVG: a dot a group at its pooled AUC (none where it is undefined),
        grey diamonds at the lowest and highest world's.
    """
    labels = [value_label(grouping, v) for v in auc["value"]]
    values = auc["auc"].to_numpy(dtype=float)
    colours, markers = _palette(grouping, len(labels))

    def draw() -> Figure:
        fig = new_figure(7.0, 0.42 * len(labels) + 1.6)
        ax = fig.subplots()
        y = np.arange(len(labels))[::-1]
        lows = auc["auc_low"].to_numpy(dtype=float)
        highs = auc["auc_high"].to_numpy(dtype=float)
        lowest = np.nanmin(np.r_[lows, values, 1.0])
        # from a little below the lowest AUC, so the spread between worlds shows
        ax.set_xlim(max(np.floor((lowest - 0.02) * 20) / 20, 0.0), 1.0)
        ok = np.isfinite(lows) & np.isfinite(highs)
        ax.hlines(y[ok], lows[ok], highs[ok], color="#999999", linewidth=1.2)
        for i, value in enumerate(values):  # a handful of groups
            if not np.isfinite(value):
                ax.text(0.5, y[i], " no AUC", va="center", fontsize=LABEL_PT)
                continue
            ax.plot(
                value,
                y[i],
                markers[i % len(markers)],
                color=colours[i % len(colours)],
                markersize=7,
                zorder=7,
            )
            ax.annotate(
                num(value, 3),
                (value, y[i]),
                xytext=(0, 8),
                textcoords="offset points",
                ha="center",
                fontsize=LABEL_PT,
            )
        world_marks(ax, auc["auc_low"], auc["auc_high"])
        ax.set_yticks(y, labels)
        ax.set_ylim(-0.7, len(labels) - 0.3)
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x")
        ax.set_xlabel(
            "AUC of every world's families together\n"
            "grey diamonds: the lowest and highest world's own",
            fontsize=LABEL_PT,
        )
        return fig

    return render(name, f"Area under the ROC curve by {group_label(grouping)}", draw)


def score_curves_chart(
    curves: pd.DataFrame, grouping: str, name: str, cut: float = np.nan
) -> str:
    """Share flagged, FPR, FNR and precision at every threshold, one line a group.

    Parameters
    ----------
    curves : DataFrame
        The ``threshold_curves`` rows of one grouping.
    grouping : str
        The grouping's name, for the legend.
    name : str
        A unique, id-safe chart name.
    cut : float
        The cut actually used (a dashed line; NaN: none).

    Returns
    -------
    str
        Inline SVG.
    """

    def draw() -> Figure:
        fig = new_figure(9.2, 6.4)
        axes = fig.subplots(2, 2, sharex=True).ravel()
        for ax, (metric, title) in zip(axes, CURVE_PANELS, strict=True):
            _lines(ax, curves, "threshold", metric, grouping)
            if np.isfinite(cut):
                ax.axvline(cut, color="#222222", linestyle="--", linewidth=1.1)
            ax.set_title(title)
            ax.set_ylim(0, 1.02)
            ax.grid(axis="y")
            percent_axis(ax, "y")
        for ax in axes[2:]:
            ax.set_xlabel("flag rows scoring at least ...")
        _legend(fig, axes[0], grouping)
        return fig

    return render(
        name, f"Rates at every score threshold by {group_label(grouping)}", draw
    )
