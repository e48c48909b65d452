"""The report's charts: matplotlib figures rendered to inline SVG.

Figures are drawn with the Agg-independent SVG backend in an ``rc_context`` that fixes
everything that would otherwise vary between runs: the hash salt of the SVG ids (one
per chart, so ids never collide on the page), no date or creator metadata, and glyphs
drawn as paths from matplotlib's bundled DejaVu Sans (no font is fetched or needed by
the browser). The same data give byte-identical SVG.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from audits.attribution import CAUSE_LABELS, RUNGS
from audits.report.text import (
    NEED_LABELS,
    count,
    esc,
    group_label,
    num,
    pct,
    value_label,
)
from audits.report.text import ratio as ratio_text

if TYPE_CHECKING:
    from collections.abc import Iterator

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CAUSE_COLOURS = {
    "model": "#7f7f7f",
    "visibility": "#E69F00",
    "data_error": "#56B4E9",
    "linkage": "#CC79A7",
}
"""Colour-blind-safe (Okabe-Ito) colours of the attribution's causes."""
BAR = "#0072B2"
REFERENCE = "#009E73"
QUINTILE_COLOURS = ("#7a0177", "#c51b8a", "#f768a1", "#41b6c4", "#225ea8")
"""Quintile 1 (most deprived) to 5 (least deprived)."""
RC = {
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "x",
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "path.simplify": True,
}


@contextmanager
def _style(name: str) -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context({**RC, "svg.hashsalt": f"linkaudit-report-{name}"}):
        yield


def _figure(width: float, height: float) -> Figure:
    """An empty figure (inches) with constrained layout."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'((?:xlink:)?href="#|url\(#)([^")]+)')
_SIZE = re.compile(r'<svg([^>]*?) width="([\d.]+)pt" height="([\d.]+)pt"')


def to_svg(fig: Figure, name: str, label: str) -> str:
    """A figure as an ``<svg>`` element to inline in HTML.

    The XML prologue, DOCTYPE, metadata and namespace declarations are dropped (the
    HTML parser puts ``<svg>`` in the SVG namespace), every id is prefixed with
    ``name`` so several charts can share a page, and the size becomes responsive.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    name : str
        A unique, id-safe name for the chart (``[a-z0-9-]``).
    label : str
        Accessible description (``aria-label``); escaped here.

    Returns
    -------
    str
    """
    buffer = io.StringIO()
    with _style(name):
        fig.savefig(
            buffer,
            format="svg",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", svg)
    uid = f"fig-{name}"
    svg = _ID.sub(lambda m: f'id="{uid}-{m.group(1)}"', svg)
    svg = _REF.sub(lambda m: f"{m.group(1)}{uid}-{m.group(2)}", svg)
    svg = svg.replace('<style type="text/css">*{', f"<style>#{uid} *{{", 1)

    def size(m: re.Match[str]) -> str:
        width = float(m.group(2)) * 4 / 3
        return (
            f'<svg id="{uid}" class="chart" role="img" aria-label="{esc(label)}"'
            f'{m.group(1)} style="max-width: {width:.0f}px"'
        )

    svg = _SIZE.sub(size, svg, count=1)
    return svg.strip() + "\n"


def render(name: str, label: str, draw: Callable[[], Figure]) -> str:
    """Draw a figure in the report's style and return its inline SVG."""
    with _style(name):
        fig = draw()
    return to_svg(fig, name, label)


# --------------------------------------------------------------------- helpers


def _hbars(
    ax: Axes,
    labels: Sequence[str],
    estimate: np.ndarray,
    low: np.ndarray | None,
    high: np.ndarray | None,
    *,
    highlight: np.ndarray | None = None,
    fmt: Callable[[Any], str] = pct,
    colour: str = BAR,
) -> None:
    """Horizontal bars (top to bottom in ``labels`` order) with interval whiskers."""
    n = len(labels)
    y = np.arange(n)[::-1]
    est = np.nan_to_num(np.asarray(estimate, dtype=float), nan=0.0)
    colours = [
        REFERENCE if highlight is not None and highlight[i] else colour
        for i in range(n)  # a handful of groups
    ]
    ax.barh(y, est, color=colours, height=0.62)
    right = est.copy()
    if low is not None and high is not None:
        lo = np.asarray(low, dtype=float)
        hi = np.asarray(high, dtype=float)
        ok = np.isfinite(lo) & np.isfinite(hi)
        err = np.vstack([np.clip(est - lo, 0, None), np.clip(hi - est, 0, None)])
        ax.errorbar(
            est[ok],
            y[ok],
            xerr=err[:, ok],
            fmt="none",
            ecolor="#222222",
            elinewidth=1.1,
            capsize=3,
        )
        right = np.where(ok, np.fmax(hi, est), est)
    top = float(np.nanmax(right)) if n and np.isfinite(right).any() else 1.0
    top = top if top > 0 else 1.0
    for i in range(n):  # value labels, a handful of groups
        text = fmt(estimate[i]) if np.isfinite(estimate[i]) else "no data"
        ax.text(right[i] + top * 0.02, y[i], text, va="center", fontsize=8.5)
    ax.set_xlim(0, top * 1.28)
    ax.set_yticks(y, labels)
    ax.tick_params(axis="y", length=0)


def _percent_axis(ax: Axes, axis: str = "x") -> None:
    """Tick labels as percentages, with a decimal only on narrow axes."""
    from matplotlib.ticker import Formatter, MaxNLocator

    class Percent(Formatter):
        def __call__(self, x: float, pos: int | None = None) -> str:
            ticks = 100 * np.asarray(self.axis.get_majorticklocs(), dtype=float)
            digits = next(
                (d for d in (0, 1, 2) if np.allclose(ticks, ticks.round(d))), 2
            )
            return f"{100 * x:.{digits}f}%"

    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))
    target.set_major_formatter(Percent())


def _count_axis(ax: Axes) -> None:
    """Tick labels as whole numbers with thousands separators."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))


# ---------------------------------------------------------------------- charts


def population_chart(households: pd.DataFrame) -> str:
    """Prevalence of each true need, and of eligibility and harm, by quintile.

    Parameters
    ----------
    households : DataFrame
        The truth: ``imd_quintile`` (or ``imd_decile``), ``need_*``, ``eligible``,
        ``harm``.

    Returns
    -------
    str
        Inline SVG.
    """
    quintile = (
        households["imd_quintile"]
        if "imd_quintile" in households
        else (households["imd_decile"].astype(int) + 1) // 2
    ).to_numpy()
    needs = [n for n in NEED_LABELS if f"need_{n}" in households]
    outcomes = [c for c in ("eligible", "harm") if c in households]
    frame = households[[f"need_{n}" for n in needs] + outcomes].astype(float)
    shares = frame.groupby(quintile).mean()

    def draw() -> Figure:
        fig = _figure(9.2, 3.9)
        left, right = fig.subplots(1, 2, width_ratios=[1.5, 1])
        markers = "osD^vP"
        for i, n in enumerate(needs):  # six needs
            left.plot(
                shares.index,
                shares[f"need_{n}"],
                marker=markers[i],
                label=NEED_LABELS[n],
                linewidth=1.6,
            )
        for c, colour in zip(outcomes, ("#D55E00", "#0072B2"), strict=False):
            right.plot(
                shares.index,
                shares[c],
                marker="o",
                color=colour,
                linewidth=2,
                label={"eligible": "eligible", "harm": "harm"}[c],
            )
        for ax, title in (
            (left, "Families with each true problem"),
            (right, "Eligible families and families harmed"),
        ):
            ax.set_title(title)
            ax.set_xticks(
                [1, 2, 3, 4, 5],
                ["1\nmost\ndeprived", "2", "3", "4", "5\nleast\ndeprived"],
            )
            ax.set_xlabel("deprivation quintile of the area")
            ax.set_ylim(bottom=0)
            ax.grid(axis="y")
            _percent_axis(ax, "y")
        handles, names = left.get_legend_handles_labels()
        more, more_names = right.get_legend_handles_labels()
        fig.legend(
            handles + more,
            names + more_names,
            loc="outside lower center",
            ncols=4,
            fontsize=8.5,
        )
        return fig

    return render(
        "population",
        "Share of families with each true problem, and eligible or harmed, by "
        "deprivation quintile",
        draw,
    )


LINK_GROUPS = ("imd_quintile", "ethnicity", "tenure", "moved_recently")


def linkage_chart(by_group: pd.DataFrame) -> str:
    """Missed and false links per 100 records, one row of panels per grouping.

    Parameters
    ----------
    by_group : DataFrame
        ``LinkQuality.by_group``: ``group``, ``value``, ``recall``, ``precision``.

    Returns
    -------
    str
        Inline SVG.
    """
    groupings = [g for g in LINK_GROUPS if (by_group["group"] == g).any()]
    parts = [by_group[by_group["group"] == g] for g in groupings]
    sizes = [max(len(part), 1) for part in parts]
    missed_max = max(float(np.nanmax(1 - by_group["recall"].to_numpy(float))), 0.01)
    false_max = max(float(np.nanmax(1 - by_group["precision"].to_numpy(float))), 0.01)

    def draw() -> Figure:
        fig = _figure(9.2, 0.3 * sum(sizes) + 0.55 * len(parts) + 0.6)
        axes = fig.subplots(
            len(parts), 2, sharex="col", height_ratios=sizes, squeeze=False
        )
        for row, (grouping, part) in enumerate(zip(groupings, parts, strict=True)):
            labels = [value_label(grouping, v) for v in part["value"]]
            for col, values, colour in (
                (0, 1 - part["recall"].to_numpy(float), BAR),
                (1, 1 - part["precision"].to_numpy(float), "#D55E00"),
            ):
                ax = axes[row, col]
                _hbars(ax, labels, values, None, None, colour=colour)
                ax.set_xlim(0, (missed_max, false_max)[col] * 1.3)
                _percent_axis(ax)
                ax.set_title(group_label(grouping), fontsize=9, loc="left")
                if col == 1:
                    ax.set_yticks(ax.get_yticks(), [""] * len(labels))
        axes[0, 0].set_title(
            "Missed links: % of records that could be linked\n"
            + group_label(groupings[0]),
            fontsize=9,
            loc="left",
        )
        axes[0, 1].set_title(
            "False links: % of records linked\n" + group_label(groupings[0]),
            fontsize=9,
            loc="left",
        )
        return fig

    return render(
        "linkage",
        "Missed and false links by deprivation, ethnicity, tenure and recent moves",
        draw,
    )


def group_rates_chart(
    table: pd.DataFrame, grouping: str, confidence: float, name: str
) -> str:
    """Share flagged, false positive rate, wrongly flagged per 10,000 and FPR ratio.

    Parameters
    ----------
    table : DataFrame
        ``Disparities.table``.
    grouping : str
        One of its ``group`` values.
    confidence : float
        The intervals' level (for the axis titles).
    name : str
        The chart's id.

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

    def draw() -> Figure:
        fig = _figure(9.2, 0.34 * n * 2 + 1.9)
        axes = fig.subplots(2, 2, sharey=True)
        panels = (
            ("selection_rate", "Share of families flagged", pct),
            ("fpr", "False positive rate", pct),
            ("wrongly_flagged_per_10k", "Wrongly flagged per 10,000 families", num0),
        )
        for ax, (m, title, fmt) in zip(axes.flat, panels, strict=False):
            r = metric(m)
            _hbars(
                ax,
                labels,
                r["estimate"].to_numpy(dtype=float),
                r["ci_low"].to_numpy(dtype=float),
                r["ci_high"].to_numpy(dtype=float),
                highlight=ref,
                fmt=fmt,
            )
            ax.set_title(title)
            if m == "wrongly_flagged_per_10k":
                _count_axis(ax)
            else:
                _percent_axis(ax)
        ax = axes.flat[3]
        r = metric("fpr")
        ratio = r["ratio_to_ref"].to_numpy(dtype=float)
        lo = r["ratio_ci_low"].to_numpy(dtype=float)
        hi = r["ratio_ci_high"].to_numpy(dtype=float)
        _ratio_panel(ax, labels, ratio, lo, hi, ref)
        ax.set_title("False positive rate ÷ reference group's")
        fig.supxlabel(
            f"Bars: estimate. Whiskers: {level} confidence interval. "
            "Green: the reference group.",
            fontsize=8.5,
            color="#444444",
        )
        return fig

    return render(
        name,
        f"Share flagged, false positive rate, wrongly flagged per 10,000 and ratio "
        f"to the reference, by {group_label(grouping)}, with {level} intervals",
        draw,
    )


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
            ax.text(hi[i] * 1.12, y[i], text, va="center", fontsize=8.5)
        else:
            text = "0×: none wrongly flagged" if ratio[i] == 0 else "undefined"
            ax.text(1.05, y[i], text, va="center", fontsize=8.5, color="#777")
    ax.set_yticks(y, labels)
    ax.tick_params(axis="y", length=0)


def attribution_chart(counts: pd.DataFrame, grouping: str | None) -> str:
    """Stacked bars of the causes of wrong flags and missed families.

    Parameters
    ----------
    counts : DataFrame
        ``Attribution.counts``.
    grouping : str or None
        A group column to break down by (e.g. ``imd_quintile``), under the total.

    Returns
    -------
    str
        Inline SVG.
    """
    keep = counts["group"].eq("all")
    if grouping is not None:
        keep |= counts["group"].eq(grouping)
    rows = counts[keep]
    kinds = (
        ("false_positive", "Wrongly flagged families, by cause"),
        ("false_negative", "Missed families, by cause"),
    )
    first = rows[rows["error"] == kinds[0][0]]
    labels = [
        "all families" if g == "all" else value_label(g, v)
        for g, v in zip(first["group"], first["value"], strict=True)
    ]
    n = len(labels)

    def draw() -> Figure:
        fig = _figure(9.2, 0.34 * n + 1.6)
        axes = fig.subplots(1, 2, sharey=True)
        y = np.arange(n)[::-1]
        for ax, (kind, title) in zip(axes, kinds, strict=True):
            part = rows[rows["error"] == kind]
            left = np.zeros(n)
            for rung in RUNGS:  # four causes
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
            for i in range(n):  # totals, a handful of rows
                ax.text(
                    left[i] + max(left.max(), 1) * 0.015,
                    y[i],
                    count(left[i]),
                    va="center",
                    fontsize=8.5,
                )
            ax.set_xlim(0, max(left.max(), 1) * 1.15)
            ax.set_title(title)
            ax.set_yticks(y, labels)
            ax.tick_params(axis="y", length=0)
            ax.set_xlabel("families")
            _count_axis(ax)
            if n > 1:
                ax.axhline(n - 1.5, color="#999999", linewidth=0.8)
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside lower center", ncols=4, fontsize=8.5)
        return fig

    return render(
        "attribution",
        "Wrongly flagged and missed families by cause: the model itself, visibility "
        "bias, data errors and linkage errors",
        draw,
    )


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
        :func:`audits.report.curves.threshold_curves`.
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
    palette = (
        QUINTILE_COLOURS
        if grouping == "imd_quintile" and len(values) <= 5
        else ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
    )

    def draw() -> Figure:
        fig = _figure(9.2, 3.9)
        axes = fig.subplots(1, 2, sharex=True)
        for ax, metric, title in (
            (axes[0], "fpr", f"False positive rate: not {in_target}, flagged"),
            (axes[1], "tpr", f"True positive rate: {in_target}, found"),
        ):
            for i, v in enumerate(values):  # a handful of groups
                c = curves[curves["value"] == v]
                ax.plot(
                    c["threshold"],
                    c[metric],
                    drawstyle="steps-pre" if len(c) < 60 else "default",
                    color=palette[i % len(palette)],
                    linewidth=1.7,
                    label=value_label(grouping, v),
                )
                if len(c) < 60:
                    ax.plot(
                        c["threshold"],
                        c[metric],
                        "o",
                        color=palette[i % len(palette)],
                        markersize=3.5,
                    )
            if np.isfinite(cut):
                ax.axvline(cut, color="#222222", linestyle="--", linewidth=1.1)
                ax.annotate(
                    "the scenario's cut",
                    xy=(cut, 1.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(4, -10),
                    textcoords="offset points",
                    fontsize=8,
                )
            ax.set_title(title)
            ax.set_xlabel("flag families scoring at least ...")
            if right is not None and np.isfinite(right):
                ax.set_xlim(right=right)
            ax.set_ylim(0, 1.02)
            ax.grid(axis="y")
            _percent_axis(ax, "y")
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(
            handles,
            names,
            title=group_label(grouping),
            loc="outside lower center",
            ncols=len(values),
            fontsize=8.5,
            title_fontsize=8.5,
        )
        return fig

    return render(
        "thresholds",
        f"False and true positive rates at every score threshold, by "
        f"{group_label(grouping)}",
        draw,
    )
