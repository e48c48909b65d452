"""The rates by group chart: shares flagged, false positive rates, ratios."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from audits.report.charts.base import (
    BAR,
    LABEL_PT,
    REFERENCE,
    count_axis,
    hbars,
    new_figure,
    percent_axis,
    render,
)
from audits.report.text import (
    group_label,
    num,
    pct,
    value_label,
)
from audits.report.text import ratio as ratio_text

WORLDS = "#666666"
"""Colour of the marks of the worlds' range."""

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def group_rates_chart(
    table: pd.DataFrame,
    grouping: str,
    confidence: float,
    name: str,
    unit: str = "families",
) -> str:
    """Share flagged, false positive rate, wrongly flagged per 10,000 and FPR ratio.

    Parameters
    ----------
    table : DataFrame
        ``Disparities.table``; pooled over worlds
        (:func:`audits.pooled_tables.pooled_audit`), each group's smallest and
        largest value in a single world is marked too.
    grouping : str
        One of its ``group`` values.
    confidence : float
        The intervals' level (for the axis titles).
    name : str
        The chart's id.
    unit : str
        What a row of the audit is, in the plural (for the titles).

    Returns
    -------
    str
        Inline SVG.
    """
    rows = table[table["group"] == grouping]
    level = f"{confidence:.0%}"

    def metric(m: str) -> pd.DataFrame:
        return rows[rows["metric"] == m]

    base = metric("selection_rate")
    labels = [value_label(grouping, v) for v in base["value"]]
    ref = base["is_reference"].to_numpy(dtype=bool)
    n = len(labels)
    pooled = "estimate_min" in rows  # pooled over worlds: their range is drawn

    def draw() -> Figure:
        fig = new_figure(9.2, 0.34 * n * 2 + 1.9)
        axes = fig.subplots(2, 2, sharey=True)
        panels = (
            ("selection_rate", f"Share of {unit} flagged", pct),
            ("fpr", "False positive rate", pct),
            ("wrongly_flagged_per_10k", f"Wrongly flagged per 10,000 {unit}", num0),
        )
        for ax, (m, title, fmt) in zip(axes.flat, panels, strict=False):
            r = metric(m)
            hbars(
                ax,
                labels,
                r["estimate"].to_numpy(dtype=float),
                r["ci_low"].to_numpy(dtype=float),
                r["ci_high"].to_numpy(dtype=float),
                highlight=ref,
                fmt=fmt,
            )
            if pooled:
                world_marks(ax, r["estimate_min"], r["estimate_max"])
            ax.set_title(title)
            if m == "wrongly_flagged_per_10k":
                count_axis(ax)
            else:
                percent_axis(ax)
        ax = axes.flat[3]
        r = metric("fpr")
        ratio = r["ratio_to_ref"].to_numpy(dtype=float)
        lo = r["ratio_ci_low"].to_numpy(dtype=float)
        hi = r["ratio_ci_high"].to_numpy(dtype=float)
        _ratio_panel(ax, labels, ratio, lo, hi, ref)
        if pooled:
            world_marks(ax, r["ratio_min"].where(~ref), r["ratio_max"].where(~ref))
        ax.set_title("False positive rate ÷ reference group's")
        fig.supxlabel(
            f"Bars: estimate. Whiskers: {level} confidence interval. "
            "Green: the reference group."
            + (
                "\nGrey diamonds: the smallest and largest value in a single world."
                if pooled
                else ""
            ),
            fontsize=LABEL_PT,
            color="#444444",
        )
        return fig

    return render(
        name,
        f"Share flagged, false positive rate, wrongly flagged per 10,000 and ratio "
        f"to the reference, by {group_label(grouping)}, with {level} intervals",
        draw,
    )


def world_marks(ax: Axes, low: pd.Series, high: pd.Series) -> None:
    """Grey diamonds at each group's smallest and largest value in a single world.

    Rows top to bottom as :func:`audits.report.charts.base.hbars` draws them.
    """
    y = np.arange(len(low))[::-1]
    for values in (low, high):  # the two ends of the range
        x = values.to_numpy(dtype=float)
        ok = np.isfinite(x)
        ax.plot(
            x[ok],
            y[ok],
            "D",
            color=WORLDS,
            markersize=4,
            markerfacecolor="white",
            markeredgewidth=1.1,
            zorder=6,
        )
    left, right = ax.get_xlim()
    furthest = np.fmax.reduce(high.to_numpy(dtype=float), initial=-np.inf)
    if furthest > right:  # a world beyond the interval stays in view
        ax.set_xlim(left, furthest * 1.15)


def num0(x: Any) -> str:
    """A count-like rate with no decimals."""
    return num(x, 0)


def _ratio_panel(
    ax: Axes,
    labels: Sequence[str],
    ratio: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    reference: np.ndarray,
) -> None:
    """Dots with interval whiskers on a log axis, a line at 1."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    n = len(labels)
    y = np.arange(n)[::-1]
    ok = np.isfinite(ratio) & (ratio > 0)
    lo = np.where(np.isfinite(low) & (low > 0), low, ratio)
    hi = np.where(np.isfinite(high) & (high > 0), high, ratio)
    ax.axvline(1, color="#555555", linewidth=1, linestyle="--")
    ax.errorbar(
        ratio[ok],
        y[ok],
        xerr=np.vstack([ratio[ok] - lo[ok], hi[ok] - ratio[ok]]),
        fmt="o",
        color=BAR,
        ecolor="#222222",
        elinewidth=1.1,
        capsize=3,
    )
    if (ok & reference).any():
        ax.plot(
            ratio[ok & reference],
            y[ok & reference],
            "o",
            color=REFERENCE,
            markersize=8,
            zorder=5,
        )
    values = np.concatenate([lo[ok], hi[ok], [1.0]])
    left, right = float(values.min()), float(values.max())
    left, right = min(left, 0.5), max(right, 2.0)
    ax.set_xscale("log")
    ax.set_xlim(left / 1.3, right * 2.2)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    for i in range(n):  # value labels, a handful of groups
        if ok[i]:
            text = "reference" if reference[i] else ratio_text(ratio[i])
            ax.text(hi[i] * 1.12, y[i], text, va="center", fontsize=LABEL_PT)
        else:
            text = "0×: none wrongly flagged" if ratio[i] == 0 else "undefined"
            ax.text(1.05, y[i], text, va="center", fontsize=LABEL_PT, color="#777")
    ax.set_yticks(y, labels)
    ax.tick_params(axis="y", length=0)
