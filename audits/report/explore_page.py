"""The explorer page (``explore.html``): one scenario over a grid of settings.

One self-contained HTML file, built with Jinja2 (``templates/explore.html``,
autoescaping on, with the lesson page's stylesheet): a slider per varied setting and,
for every point of the grid, a panel with its numbers (flagged, wrongly flagged and
missed, overall and by group, with intervals, pooled over the point's worlds), the
report's chart of rates by group (:func:`audits.report.charts.group_rates_chart`,
inline SVG) and the followed families' fate there. Every panel is in the page; a
few lines of script show the one the sliders point at, so moving a slider updates
the page at once, offline. Without script the first point shows. The numbers are
also embedded as JSON (``<script type="application/json" id="explore-data">``), the
values the panels show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from audits.headline import METRIC_WORDS
from audits.report.charts import group_rates_chart
from audits.report.explore_data import FATES, Family
from audits.report.sections.common import SYNTHETIC_NOTE
from audits.report.text import (
    count,
    group_label,
    interval,
    num,
    pct,
    ratio,
    value_label,
)

EXPLORE = "explore.html"
"""The explorer page's file name."""
RATE_WORDS = {
    "selection_rate": "flagged",
    "fpr": "wrongly flagged, of families not in need",
    "fnr": "missed, of families in need",
}
"""What each shown rate says, in words (the column headings)."""


def _format(metric: str) -> Callable[[Any], str]:
    return (lambda x: num(x, 0)) if metric == "wrongly_flagged_per_10k" else pct


def estimate_text(metric: str, figure: dict[str, Any] | None) -> str:
    """A rate's estimate: "12.3%" (a count per 10,000: "417").

    Examples
    --------
    >>> estimate_text("fpr", {"estimate": 0.1}), estimate_text("fnr", None)
    ('10.0%', 'n/a')
    """
    return "n/a" if figure is None else _format(metric)(figure["estimate"])


def band_text(metric: str, figure: dict[str, Any] | None) -> str:
    """A rate's interval: "9.8% to 15.1%".

    Examples
    --------
    >>> band_text("wrongly_flagged_per_10k", {"low": 3, "high": 30})
    '3 to 30'
    """
    if figure is None:
        return "n/a"
    return interval(figure["low"], figure["high"], _format(metric))


def headline_text(block: dict[str, Any]) -> str:
    """The headline comparison in one sentence: rates, difference, ratio or why not.

    Examples
    --------
    >>> headline_text({"comparison": None, "unavailable": "no links"})
    'no links'
    """
    c = block.get("comparison")
    if not c:
        return block.get("unavailable") or "no headline comparison"
    g, r = c["group_rate"], c["reference_rate"]
    grouping = c["grouping"]
    what = RATE_WORDS.get(c["metric"]) or METRIC_WORDS.get(c["metric"], c["metric"])
    text = (
        f"The headline: {what}, {group_label(grouping)} "
        f"{value_label(grouping, c['group'])} {pct(g['estimate'])} "
        f"({interval(g['ci_low'], g['ci_high'])}) against "
        f"{value_label(grouping, c['reference'])} {pct(r['estimate'])} "
        f"({interval(r['ci_low'], r['ci_high'])}): a difference of "
        f"{num(100 * (c['difference'] or 0))} percentage points "
        f"({interval(c['difference_ci_low'], c['difference_ci_high'])})"
    )
    if c.get("ratio_stable"):
        return (
            f"{text}, {ratio(c['ratio'])} as often "
            f"({interval(c['ratio_ci_low'], c['ratio_ci_high'], ratio)})."
        )
    return f"{text}. No ratio is quoted: {c.get('ratio_note') or 'it is undefined'}."


@cache
def environment() -> Environment:
    """The templates (this page's, then the lesson's stylesheet); autoescaping on."""
    env = Environment(
        loader=ChoiceLoader(
            [
                PackageLoader("audits.report", "templates"),
                PackageLoader("audits.report.lesson", "templates"),
            ]
        ),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(count=count, estimate=estimate_text, band=band_text)
    env.globals.update(fates=FATES, rate_words=RATE_WORDS, headline=headline_text)
    return env


def render_explore(
    title: str,
    description: str,
    axes: Sequence[tuple[str, Sequence[str], str | None]],
    numbers: Sequence[dict[str, Any]],
    tables: Sequence[pd.DataFrame],
    families: Sequence[Family],
    *,
    grouping: str,
    confidence: float,
) -> str:
    """The explorer page, as a complete HTML document.

    Parameters
    ----------
    title, description : str
        The scenario's name and description.
    axes : sequence of (str, sequence of str, str or None)
        Each varied setting's path, its values in words, in grid order (the
        first varies slowest), and what the setting is (the schema's description).
    numbers : sequence of dict
        :func:`audits.report.explore_data.point_numbers` at each point.
    tables : sequence of DataFrame
        Each point's pooled disparities rows of ``grouping`` (for its chart).
    families : sequence of Family
        :func:`audits.report.explore_data.follow_families`.
    grouping : str
        The grouping shown group by group.
    confidence : float
        The intervals' level.

    Returns
    -------
    str
        One self-contained HTML document; the same inputs give the same string.
    """
    labels = point_labels([(p, v) for p, v, _ in axes])
    charts = [
        # Markup: the chart module builds the SVG and escapes its own labels.
        Markup(group_rates_chart(t, grouping, confidence, f"explore-{i}"))
        for i, t in enumerate(tables)
    ]
    data = {
        "axes": [{"path": p, "values": list(v), "about": a} for p, v, a in axes],
        "points": [
            {"label": label, "numbers": n}
            for label, n in zip(labels, numbers, strict=True)
        ],
    }
    return (
        environment()
        .get_template("explore.html")
        .render(
            title=f"Explore “{title}”: change a setting, see who is flagged",
            description=description.strip(),
            synthetic=SYNTHETIC_NOTE,
            axes=[(p, list(v), a) for p, v, a in axes],
            points=list(zip(labels, numbers, charts, strict=True)),
            families=families,
            grouping=group_label(grouping),
            confidence=f"{confidence:.0%}",
            data=data,
        )
    )


def point_labels(axes: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """Each point's settings in words, in grid order.

    Examples
    --------
    >>> point_labels([("a.b", ["1", "2"]), ("c", ["x"])])
    ['b = 1, c = x', 'b = 2, c = x']
    """
    from itertools import product

    names = [p.rsplit(".", 1)[-1] for p, _ in axes]
    return [
        ", ".join(f"{n} = {v}" for n, v in zip(names, point, strict=True))
        for point in product(*(v for _, v in axes))
    ]


def write_explore(html: str, directory: str | Path) -> Path:
    """Write the page as ``explore.html`` in ``directory``; its path."""
    path = Path(directory) / EXPLORE
    path.write_text(html, encoding="utf-8", newline="\n")
    return path
