"""The report's charts: matplotlib figures rendered to inline SVG, one module per kind.

:mod:`~audits.report.charts.base` holds what every chart shares (colours, a style
that makes the SVG byte-identical for the same data, bars with intervals, axes);
:mod:`~.truth` (true problems, linkage errors), :mod:`~.rates` (rates by group),
:mod:`~.causes` (the attribution) and :mod:`~.thresholds` (threshold curves) draw.
"""

from __future__ import annotations

from audits.report.charts.base import (
    BAR,
    CAUSE_COLOURS,
    QUINTILE_COLOURS,
    REFERENCE,
    render,
    to_svg,
)
from audits.report.charts.causes import attribution_chart
from audits.report.charts.rates import group_rates_chart
from audits.report.charts.thresholds import threshold_chart
from audits.report.charts.truth import linkage_chart, population_chart

__all__ = [
    "BAR",
    "CAUSE_COLOURS",
    "QUINTILE_COLOURS",
    "REFERENCE",
    "attribution_chart",
    "group_rates_chart",
    "linkage_chart",
    "population_chart",
    "render",
    "threshold_chart",
    "to_svg",
]
