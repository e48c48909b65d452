"""What every chart shares: colours, style, SVG rendering, bars and axes.

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

from audits.report.text import (
    esc,
    pct,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


CAUSE_COLOURS = {
    "model": "#7f7f7f",
    "spine": "#D55E00",
    "visibility": "#E69F00",
    "data_error": "#56B4E9",
    "linkage": "#CC79A7",
}
"""Colour-blind-safe (Okabe-Ito) colours of the attribution's causes."""
BAR = "#0072B2"
REFERENCE = "#009E73"
QUINTILE_COLOURS = ("#160b39", "#5c126e", "#9d2964", "#d94d3d", "#f98e09")
"""Quintile 1 (most deprived, darkest) to 5 (least deprived): matplotlib's inferno
ramp at 0.1, 0.26, 0.42, 0.59 and 0.75, an ordered ramp that stays distinct under
simulated deuteranopia and protanopia (tests/report/test_palette.py) and dark enough
to read on white; the lines also carry one marker shape each
(:data:`QUINTILE_MARKERS`)."""
QUINTILE_MARKERS = ("o", "s", "^", "D", "v")
"""One marker shape per quintile, so the lines differ in shape as well as colour."""
GROUP_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
"""Okabe-Ito colours of unordered groups (ethnicity, tenure...), in order."""
CHART_PT = 12.0
"""Chart text in points: 16 px where a chart is shown at its natural width, as on a
1024 x 768 projector (charts are at most 9.2 inches, 883 px, wide)."""
LABEL_PT = 11.0
"""Value labels, legends and notes inside charts (about 15 px)."""
RC = {
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": CHART_PT,
    "axes.titlesize": CHART_PT,
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


def new_figure(width: float, height: float) -> Figure:
    """An empty figure (inches) with constrained layout."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
"""No date, creator, format or type in the SVG: the same data give the same bytes."""


def _print_svg(fig: Figure, out: io.StringIO) -> None:
    """Lay ``fig`` out once and write it as SVG: what ``savefig`` writes, drawn once.

    ``Figure.savefig`` with a layout engine draws the whole figure twice: once with
    drawing switched off, only to run the layout, then for real with the layout
    off. This runs the layout exactly as that first pass does (the engine measures
    text with its own renderer at the SVG backend's 72 dpi) and then prints with the
    layout off, so the figure is drawn once and the SVG is byte for byte the same
    (``tests/report/test_charts.py``).
    """
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    canvas = FigureCanvasSVG(fig)
    dpi = fig.dpi
    engine = fig.get_layout_engine()
    if engine is not None and fig.axes:
        fig.dpi = canvas.fixed_dpi  # as savefig's first pass leaves it
        engine.execute(fig)
        fig.dpi = dpi
    fig.set_layout_engine("none")
    canvas.print_svg(out, metadata=SVG_METADATA)


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
        _print_svg(fig, buffer)
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


def hbars(
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
        ax.text(right[i] + top * 0.02, y[i], text, va="center", fontsize=LABEL_PT)
    ax.set_xlim(0, top * 1.28)
    ax.set_yticks(y, labels)
    ax.tick_params(axis="y", length=0)


def percent_axis(ax: Axes, axis: str = "x") -> None:
    """Tick labels as percentages, with a decimal only on narrow axes."""
    from matplotlib.ticker import Formatter, MaxNLocator

    def decimals(locs: Sequence[float]) -> int:
        ticks = 100 * np.asarray(locs, dtype=float)
        return next((d for d in (0, 1, 2) if np.allclose(ticks, ticks.round(d))), 2)

    class Percent(Formatter):
        def __call__(self, x: float, pos: int | None = None) -> str:
            return f"{100 * x:.{decimals(self.axis.get_majorticklocs())}f}%"

        def format_ticks(self, values: Sequence[float]) -> list[str]:
            # The axis's own tick locations: their decimals once, not once a tick.
            self.set_locs(values)
            digits = decimals(values)
            return [f"{100 * x:.{digits}f}%" for x in values]

    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))
    target.set_major_formatter(Percent())


def count_axis(ax: Axes) -> None:
    """Tick labels as whole numbers with thousands separators."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
