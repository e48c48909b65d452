"""Charts drawn once (audits.report.charts.base): the SVG savefig writes."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.report.charts.base import (
    SVG_METADATA,
    _print_svg,
    _style,
    hbars,
    new_figure,
    percent_axis,
)

words = st.text(alphabet="abcdefghij klmnopqrstuvwxyzABC0123456789-()%", max_size=30)
labels = st.lists(words, min_size=1, max_size=6)


def _figure(names: list[str], rows: int, width: float, title: str):
    """A figure like the report's: constrained layout, titled bars, a legend."""
    fig = new_figure(width, 1.0 + 0.5 * len(names) * rows)
    axes = fig.subplots(rows, 1, squeeze=False)[:, 0]
    values = np.linspace(0.05, 0.6, len(names))
    for i, ax in enumerate(axes):
        hbars(ax, names, values * (i + 1) / rows, values * 0.8, values * 1.1)
        percent_axis(ax)
        ax.set_title(f"{title} {i}")
        ax.plot([], [], label=title or "series")
        ax.legend(loc="lower right")
    fig.supxlabel("rate")
    return fig


def _savefig(fig) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata=SVG_METADATA)
    return out.getvalue()


def _drawn_once(fig) -> str:
    out = io.StringIO()
    _print_svg(fig, out)
    return out.getvalue()


@settings(max_examples=6, deadline=None)
@given(labels, st.integers(1, 3), st.floats(3.0, 9.2), words)
def test_a_chart_drawn_once_is_byte_for_byte_what_savefig_writes(
    names, rows, width, title
):
    with _style("test"):
        expected = _savefig(_figure(names, rows, width, title))
        got = _drawn_once(_figure(names, rows, width, title))
    assert got == expected


def test_a_figure_without_axes_is_written_too():
    with _style("empty"):
        fig = new_figure(4, 2)
        fig.text(0.5, 0.5, "nothing to show")
        expected = _savefig(fig)
        fig = new_figure(4, 2)
        fig.text(0.5, 0.5, "nothing to show")
        assert _drawn_once(fig) == expected


@settings(max_examples=30, deadline=None)
@given(st.floats(1e-4, 0.9), st.floats(0.001, 5.0))
def test_percent_ticks_formatted_together_read_as_one_at_a_time(low, span):
    fig = new_figure(4, 2)
    ax = fig.subplots()
    percent_axis(ax)
    ax.set_xlim(low, low + span)
    formatter = ax.xaxis.get_major_formatter()
    locs = ax.xaxis.get_majorticklocs()
    assert formatter.format_ticks(locs) == [formatter(x) for x in locs]
