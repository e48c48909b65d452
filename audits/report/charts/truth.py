"""Charts of the truth and of linkage: true problems, and link errors, by group."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from audits.report.charts.base import (
    BAR,
    GROUP_COLOURS,
    LABEL_PT,
    hbars,
    new_figure,
    percent_axis,
    render,
)
from audits.report.text import (
    NEED_LABELS,
    group_label,
    value_label,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def population_chart(shares: pd.DataFrame) -> str:
    """Prevalence of each true need, and of eligibility and harm, by quintile.

    Parameters
    ----------
    shares : DataFrame
        By deprivation quintile (the index), the share of families with each
        ``need_*`` and of those ``eligible`` and come to ``harm``
        (:attr:`audits.report.population.Population.by_quintile`).

    Returns
    -------
    str
        Inline SVG.
    """
    needs = [n for n in NEED_LABELS if f"need_{n}" in shares]
    outcomes = [c for c in ("eligible", "harm") if c in shares]

    def draw() -> Figure:
        fig = new_figure(9.2, 3.9)
        left, right = fig.subplots(1, 2, width_ratios=[1.5, 1])
        markers = "osD^vP"
        for i, n in enumerate(needs):  # six needs
            left.plot(
                shares.index,
                shares[f"need_{n}"],
                marker=markers[i],
                color=GROUP_COLOURS[i % len(GROUP_COLOURS)],
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
            (right, "Eligible, and harmed"),
        ):
            ax.set_title(title)
            ax.set_xticks(
                [1, 2, 3, 4, 5],
                ["1\nmost\ndeprived", "2", "3", "4", "5\nleast\ndeprived"],
            )
            ax.set_xlabel("deprivation quintile of the area")
            ax.set_ylim(bottom=0)
            ax.grid(axis="y")
            percent_axis(ax, "y")
        handles, names = left.get_legend_handles_labels()
        more, more_names = right.get_legend_handles_labels()
        fig.legend(
            handles + more,
            names + more_names,
            loc="outside lower center",
            ncols=4,
            fontsize=LABEL_PT,
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
        fig = new_figure(9.2, 0.3 * sum(sizes) + 0.55 * len(parts) + 0.6)
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
                hbars(ax, labels, values, None, None, colour=colour)
                ax.set_xlim(0, (missed_max, false_max)[col] * 1.3)
                percent_axis(ax)
                ax.set_title(group_label(grouping), fontsize=LABEL_PT, loc="left")
                if col == 1:
                    ax.set_yticks(ax.get_yticks(), [""] * len(labels))
        axes[0, 0].set_title(
            "Missed links: % of records that could be linked\n"
            + group_label(groupings[0]),
            fontsize=LABEL_PT,
            loc="left",
        )
        axes[0, 1].set_title(
            "False links: % of records linked\n" + group_label(groupings[0]),
            fontsize=LABEL_PT,
            loc="left",
        )
        return fig

    return render(
        "linkage",
        "Missed and false links by deprivation, ethnicity, tenure and recent moves",
        draw,
    )
