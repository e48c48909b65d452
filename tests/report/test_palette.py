"""The charts' colours stay apart for colour-blind readers, and their text is large.

Colour-vision deficiency is simulated with colorspacious (Machado, Oliveira and
Fernandes 2009, "A physiologically-based model for simulation of color vision
deficiency", at full severity: deuteranopia and protanopia), and distances are
measured in CAM02-UCS, where a distance of about 1 is just noticeable. The old
quintile ramp (three pinks) fails the check, so the check can fail.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import colorspacious
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb

import audits.report.charts as charts
from audits.report.charts.base import (
    BAR,
    CAUSE_COLOURS,
    CHART_PT,
    GROUP_COLOURS,
    LABEL_PT,
    QUINTILE_COLOURS,
    REFERENCE,
)

MIN_DISTANCE = 11.0
"""Least CAM02-UCS distance between any two colours of a palette, in every vision."""
MIN_CONTRAST = 2.2
"""Least WCAG contrast ratio of a line or bar colour against the white page."""
OLD_QUINTILES = ("#7a0177", "#c51b8a", "#f768a1", "#41b6c4", "#225ea8")
VISIONS = ("normal", "deuteranomaly", "protanomaly")
PALETTES = {
    "quintiles": QUINTILE_COLOURS,
    "groups": GROUP_COLOURS,
    "causes": tuple(CAUSE_COLOURS.values()),
    "bars": (BAR, REFERENCE),
}


def seen(colours: tuple[str, ...], vision: str) -> np.ndarray:
    """The colours in CAM02-UCS as someone with ``vision`` sees them."""
    rgb = np.array([to_rgb(c) for c in colours])
    if vision != "normal":
        cvd = {"name": "sRGB1+CVD", "cvd_type": vision, "severity": 100}
        rgb = np.clip(colorspacious.cspace_convert(rgb, cvd, "sRGB1"), 0, 1)
    return colorspacious.cspace_convert(rgb, "sRGB1", "CAM02-UCS")


def least_distance(colours: tuple[str, ...], vision: str) -> float:
    points = seen(colours, vision)
    return min(
        float(np.linalg.norm(a - b)) for a, b in itertools.combinations(points, 2)
    )


def contrast_with_white(colour: str) -> float:
    c = np.array(to_rgb(colour))
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    luminance = float(linear @ [0.2126, 0.7152, 0.0722])
    return 1.05 / (luminance + 0.05)


@pytest.mark.parametrize("vision", VISIONS)
@pytest.mark.parametrize("name", sorted(PALETTES))
def test_every_palette_stays_distinct(name, vision):
    assert least_distance(PALETTES[name], vision) >= MIN_DISTANCE


@pytest.mark.parametrize("vision", ("deuteranomaly", "protanomaly"))
def test_the_old_quintile_ramp_fails_the_check(vision):
    # Its three pinks merge for colour-blind readers: the check is not toothless.
    assert least_distance(OLD_QUINTILES, vision) < MIN_DISTANCE


@pytest.mark.parametrize("vision", VISIONS)
def test_quintiles_read_in_order_from_dark_to_light(vision):
    lightness = seen(QUINTILE_COLOURS, vision)[:, 0]
    assert np.all(np.diff(lightness) > 5)


@pytest.mark.parametrize(
    "colour", sorted({c for p in PALETTES.values() for c in p}, key=str)
)
def test_colours_show_on_white(colour):
    assert contrast_with_white(colour) >= MIN_CONTRAST


def test_chart_text_is_large_enough_for_a_projector():
    # Points to CSS pixels at a chart's natural size (1 pt = 4/3 px).
    assert CHART_PT * 4 / 3 >= 16
    assert LABEL_PT * 4 / 3 >= 14.5
    source = Path(charts.__file__).parent
    literal = re.compile(r"fontsize=\s*(\d+(?:\.\d+)?)")
    for path in source.glob("*.py"):
        sizes = [float(s) for s in literal.findall(path.read_text())]
        assert all(s >= LABEL_PT for s in sizes), path.name


def test_charts_are_not_shrunk_at_1024_pixels(report_html):
    # A chart wider than the page's column at 1024 x 768 would be scaled down,
    # and its text with it: main is 1040 px at most, less 2 x 2 rem padding and a
    # scroll bar.
    widths = [int(w) for w in re.findall(r'style="max-width: (\d+)px"', report_html)]
    assert widths and max(widths) <= 1024 - 64 - 20


@pytest.mark.parametrize("sequential", [True, False])
def test_the_sweep_chart_draws_in_the_reports_palette(sequential):
    from matplotlib.colors import to_hex

    from audits.report.sweep_chart import SweepChart, sweep_chart

    groups = ["1", "2", "3", "4", "5"]
    rows = [
        {
            "rate": x,
            "value": g,
            "replicates": 2,
            "estimate": 0.1 * i,
            "low": 0.05 * i,
            "high": 0.15 * i,
            "reference": "5",
            "ratio": 1.0 + i,
            "ratio_note": "",
            "ratio_low": 0.5 + i,
            "ratio_high": 1.5 + i,
            "ratio_undefined": 0,
        }
        for x in (0.1, 0.2)
        for i, g in enumerate(groups, start=1)
    ]
    spec = SweepChart(
        metric="fpr",
        group_column="imd_quintile",
        x="rate",
        panel=None,
        values=groups,
        overall="overall",
        ratio_values=groups,
        ratio_label="ratio",
        sequential=sequential,
    )
    fig = sweep_chart(pd.DataFrame(rows), spec)
    top = fig.axes[0]
    drawn = tuple(to_hex(line.get_color()) for line in top.get_lines())
    palette = QUINTILE_COLOURS if sequential else GROUP_COLOURS[: len(groups)]
    assert drawn == tuple(c.lower() for c in palette)
    assert len({line.get_marker() for line in top.get_lines()}) == len(groups)
    texts = [t for ax in fig.axes for t in ax.texts + [ax.xaxis.label, ax.yaxis.label]]
    assert min(t.get_fontsize() for t in texts if t.get_text()) >= LABEL_PT
