"""The page of ``linkaudit compare``: runs side by side, in the report's look.

:func:`render_comparison` turns an :class:`audits.compare.Comparison` into one
self-contained HTML document, built with the report's page helpers and CSS
(:mod:`audits.report.page`): no scripts, no external URLs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from audits.changes import GAP
from audits.report.page import Html, join, note, p, page, section, table, tag, top
from audits.report.text import (
    METRIC_LABELS,
    NA,
    SHORT_METRIC_LABELS,
    TARGET_LABELS,
    count,
    group_label,
    interval,
    num,
    pct,
    value_label,
)
from simulator.schema.settings import show_value
from simulator.vocabulary import DEPRIVATION

if TYPE_CHECKING:
    from audits.compare import Comparison

GROUP_METRICS = (
    "fpr",
    f"fpr{GAP}",
    "tpr",
    f"tpr{GAP}",
    "precision",
    "wrongly_flagged_per_10k",
)
"""Rates shown per group on the page (every rate is in ``compare.csv``)."""
LINKAGE_SHOWN = ("precision", "recall")
CAUSE_WORDS = {
    "model": "the model itself",
    "spine": "missing from the council's index",
    "visibility": "visibility bias",
    "data_error": "data errors",
    "linkage": "linkage errors",
    "total": "total",
}
ERROR_WORDS = {"false_positive": "wrongly flagged", "false_negative": "missed"}
SYNTHETIC = (
    "Every family in these runs is synthetic: made up by a simulation, so the truth "
    "about each one is known. No real person is described."
)


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and np.isnan(x))


def signed(x: Any, per_10k: bool = False, digits: int = 1) -> str:
    """A change: percentage points for rates, families for per-10,000 figures.

    Examples
    --------
    >>> signed(0.0123), signed(-4.0, per_10k=True), signed(float("nan"))
    ('+1.2 pp', '-4.0', 'n/a')
    >>> signed(-0.0001), signed(0.0001, digits=2)
    ('+0.0 pp', '+0.01 pp')
    """
    if _missing(x):
        return NA
    shown = round(float(x) if per_10k else 100 * float(x), digits) + 0.0  # no "-0"
    return f"{shown:+,.{digits}f}" if per_10k else f"{shown:+.{digits}f} pp"


def _rate_format(metric: str) -> Callable[[Any], str]:
    """Rates as percentages, per-10,000 figures as numbers; gaps signed."""
    per_10k = metric.startswith("wrongly_flagged_per_10k")
    if metric.endswith(GAP):
        return lambda x: signed(x, per_10k)
    return (lambda x: num(x, 1)) if per_10k else pct


def metric_label(metric: str, grouping: str, reference: str | None) -> str:
    """A figure's short name; a gap names the reference group.

    Examples
    --------
    >>> metric_label("fpr_diff_to_ref", "imd_quintile", "5")
    'false positive rate: gap to 5 (least deprived)'
    """
    if metric.endswith(GAP):
        rate = SHORT_METRIC_LABELS.get(metric.removesuffix(GAP), metric)
        return f"{rate}: gap to {value_label(grouping, reference)}"
    return SHORT_METRIC_LABELS.get(metric, metric)


def _with_interval(value: str, low: Any, high: Any, fmt: Callable) -> Html:
    """A figure with its interval below it (the report's ``ci`` style)."""
    return join([value, tag("span", interval(low, high, fmt), class_="ci")], "")


def _estimate_cell(row: pd.Series, metric: str) -> Html:
    fmt = _rate_format(metric)
    return _with_interval(fmt(row["estimate"]), row["ci_low"], row["ci_high"], fmt)


def _change_cell(row: pd.Series, metric: str) -> Html:
    per_10k = metric.startswith("wrongly_flagged_per_10k")

    def fmt(x: Any) -> str:
        return signed(x, per_10k)

    cell = _with_interval(
        fmt(row["change"]), row["change_ci_low"], row["change_ci_high"], fmt
    )
    undefined = int(row["change_boot_undefined"])
    if undefined:
        cell = join(
            [cell, tag("span", f"{undefined} resamples undefined", class_="ci")], ""
        )
    return cell


def _rate_rows(
    rows: pd.DataFrame, labels: Sequence[str], keys: Sequence[str]
) -> tuple[list[str], list[list[object]]]:
    """One table row per key combination: each run's estimate, then each change."""
    headers = [
        *[f"{label}" for label in labels],
        *[f"{b} − {labels[0]}" for b in labels[1:]],
    ]
    out = []
    for key, part in rows.groupby(list(keys), sort=False):  # a row of the page each
        by_run = part.set_index("run")
        metric = part["metric"].iloc[0]
        cells: list[object] = [
            _estimate_cell(by_run.loc[r], metric) if r in by_run.index else NA
            for r in labels
        ]
        cells += [
            _change_cell(by_run.loc[r], metric) if r in by_run.index else NA
            for r in labels[1:]
        ]
        out.append([*(key if isinstance(key, tuple) else (key,)), *cells])
    return headers, out


def runs_section(c: Comparison) -> Html:
    """Which runs, where they are, their seeds, and how they were resampled."""
    kinds = (
        c.table[c.table["section"] == "audit"]
        .drop_duplicates("run")
        .set_index("run")["resampling"]
    )
    words = {
        "base": "the base",
        "paired": "same families as the base: resampled together",
        "independent": "other families: resampled independently",
    }
    rows = [
        [
            r.label,
            str(r.path),
            r.scenario.get("name", ""),
            str(r.scenario.get("seed", "")),
            count(len(r.outcomes)),
            words.get(kinds.get(r.label, ""), ""),
        ]
        for r in c.runs
    ]
    target = c.runs[0].scenario["audit"]["target"]
    parts: list[object] = [
        table(
            ["run", "directory", "scenario", "seed", "families", "resampled"],
            rows,
            numeric=[4],
        ),
        p(
            f"The first run, {c.labels[0]}, is the base: every change is a run's "
            "figure minus the base's. A flag is judged against whether the family is "
            f"{TARGET_LABELS.get(target, target)}. Intervals are "
            f"{c.confidence:.0%} percentile intervals from {count(c.n_boot)} "
            "bootstrap resamples of the families."
        ),
    ]
    kind = "warning" if c.seed_only else "note"
    parts += [note(p(n), kind=kind) for n in c.notes]
    return section("runs", "The runs", *parts)


def settings_section(c: Comparison) -> Html:
    """Every scenario field whose value differs between the runs."""
    if not c.settings:
        return section(
            "settings", "What differs", p("No setting differs between the runs.")
        )
    rows = [[field, *[show_value(v) for v in values]] for field, values in c.settings]
    return section(
        "settings",
        "What differs",
        p("The scenario fields whose values are not the same in every run."),
        table(["setting", *c.labels], rows),
    )


def headline_section(c: Comparison) -> Html:
    """Every audit rate over all families, in each run, and its change."""
    rows = c.table[(c.table["section"] == "audit") & (c.table["grouping"] == "overall")]
    headers, body = _rate_rows(rows, c.labels, ["metric"])
    body = [[METRIC_LABELS.get(r[0], r[0]), *r[1:]] for r in body]
    return section(
        "headline",
        "Every family",
        p(
            "Each rate over all families in each run, with its interval, and its "
            "change from the base with the interval of the change."
        ),
        table(["figure", *headers], body, numeric=range(1, len(headers) + 1)),
        *deprivation_gap(c),
    )


def deprivation_gap(c: Comparison) -> list[Html]:
    """The gap in the false positive rate between the most and least deprived.

    Empty when neither IMD quintile nor decile is audited.
    """
    audit = c.table[c.table["section"] == "audit"]
    for grouping in DEPRIVATION:
        rows = audit[
            (audit["grouping"] == grouping)
            & (audit["group"] == "1")
            & (audit["metric"] == f"fpr{GAP}")
        ]
        if rows.empty:
            continue
        reference = value_label(grouping, c.references.get(grouping))
        headers, body = _rate_rows(rows, c.labels, ["metric"])
        return [
            tag("h3", "The gap between the most and least deprived"),
            p(
                f"The false positive rate in the most deprived "
                f"{'fifth' if grouping == 'imd_quintile' else 'tenth'} of areas minus "
                f"that in the reference group ({reference}), in percentage points: how "
                "much more often families not in need are flagged in the most "
                "deprived areas."
            ),
            table(
                ["figure", *headers],
                [[f"gap, 1 vs {reference}", *r[1:]] for r in body],
                numeric=range(1, len(headers) + 1),
            ),
        ]
    return []


def groups_section(c: Comparison) -> Html:
    """The main rates per group of each audited column, with their changes."""
    audit = c.table[c.table["section"] == "audit"]
    parts: list[object] = [
        p(
            "The same figures for each group of families. A gap is a group's rate "
            "minus the reference group's (the least deprived, or the largest group), "
            "so the change of a gap says whether groups drew apart or together. "
            "Intersections of groups are in compare.csv, with every rate."
        )
    ]
    for grouping in c.runs[0].scenario["audit"]["group_columns"]:
        rows = audit[
            (audit["grouping"] == grouping) & audit["metric"].isin(GROUP_METRICS)
        ]
        rows = rows.sort_values(
            "metric", key=lambda m: m.map(GROUP_METRICS.index), kind="stable"
        )
        headers, body = _rate_rows(rows, c.labels, ["metric", "group"])
        body = [
            [
                metric_label(r[0], grouping, c.references.get(grouping))
                if i == 0 or r[0] != body[i - 1][0]
                else "",
                value_label(grouping, r[1]),
                *r[2:],
            ]
            for i, r in enumerate(body)
        ]
        parts += [
            tag("h3", group_label(grouping)),
            table(
                ["figure", "group", *headers], body, numeric=range(2, len(headers) + 2)
            ),
        ]
    return section("groups", "By group", *parts)


def _count_table(
    rows: pd.DataFrame, labels: Sequence[str], keys: Sequence[str], fmt: Callable
) -> tuple[list[str], list[list[object]]]:
    headers = [*labels, *[f"{b} − {labels[0]}" for b in labels[1:]]]
    out = []
    for key, part in rows.groupby(list(keys), sort=False):  # a row of the page each
        by_run = part.set_index("run")
        cells = [
            fmt(by_run.at[r, "estimate"]) if r in by_run.index else NA for r in labels
        ]
        cells += [
            fmt(by_run.at[r, "change"], True) if r in by_run.index else NA
            for r in labels[1:]
        ]
        out.append([*(key if isinstance(key, tuple) else (key,)), *cells])
    return headers, out


def linkage_section(c: Comparison) -> Html:
    """Link precision and recall by source, in each run."""
    rows = c.table[
        (c.table["section"] == "linkage") & c.table["metric"].isin(LINKAGE_SHOWN)
    ]
    if rows.empty:
        return section("linkage", "Linkage quality", p("No run has link quality."))

    def fmt(x: Any, change: bool = False) -> str:
        return signed(x, digits=2) if change else pct(x, 2)

    headers, body = _count_table(rows, c.labels, ["metric", "source"], fmt)
    by_group = c.table[
        (c.table["section"] == "linkage_by_group")
        & (c.table["metric"] == "recall")
        & (c.table["source"] == "overall")
    ]
    _, recall = _count_table(by_group, c.labels, ["grouping", "group"], fmt)
    return section(
        "linkage",
        "Linkage quality",
        p(
            "Link precision (the share of links that are right) and recall (the share "
            "of linkable records linked correctly) by source, then recall by group of "
            "the families the records are about; every figure is in compare.csv."
        ),
        table(["figure", "source", *headers], body, numeric=range(2, len(headers) + 2)),
        table(
            ["grouping", "group", *headers],
            [[group_label(r[0]), value_label(r[0], r[1]), *r[2:]] for r in recall],
            numeric=range(2, len(headers) + 2),
            caption="Link recall by group",
        )
        if recall
        else Html(""),
    )


def attribution_section(c: Comparison) -> Html:
    """Wrong flags and missed families by cause, over every family, in each run."""
    rows = c.table[
        (c.table["section"] == "attribution") & (c.table["grouping"] == "overall")
    ]
    if rows.empty:
        return section("why", "Why", p("No run has attribution counts."))

    def fmt(x: Any, change: bool = False) -> str:
        if _missing(x):
            return NA
        if float(x).is_integer():  # one world's counts
            return f"{int(x):+,}" if change else count(x)
        return f"{float(x):+,.1f}" if change else num(x)  # a mean per world

    rows = rows.sort_values(  # wrongly flagged first, then missed
        "metric", key=lambda m: ~m.str.startswith("false_positive"), kind="stable"
    )
    headers, body = _count_table(rows, c.labels, ["metric"], fmt)
    named = []
    for r in body:
        error, _, cause = str(r[0]).partition(".")
        named.append(
            [ERROR_WORDS.get(error, error), CAUSE_WORDS.get(cause, cause), *r[1:]]
        )
    return section(
        "why",
        "Why",
        p(
            "Each wrongly flagged or missed family is put down to the first rung of "
            "the attribution ladder where the error appears; by group in compare.csv. "
            "A run with several worlds gives the mean per world."
        ),
        table(
            ["families", "cause", *headers], named, numeric=range(2, len(headers) + 2)
        ),
    )


def render_comparison(c: Comparison) -> str:
    """The comparison as one self-contained HTML document.

    The same comparison gives the same text.

    Parameters
    ----------
    c : Comparison

    Returns
    -------
    str
    """
    title = f"linkaudit comparison: {' vs '.join(c.labels)}"
    header = top(
        title,
        "Runs side by side: what differs between them, and how each figure changes "
        "from the first run's.",
    )
    body = join(
        [
            header,
            note(tag("strong", "Synthetic data. "), SYNTHETIC, kind="synthetic"),
            runs_section(c),
            settings_section(c),
            headline_section(c),
            groups_section(c),
            linkage_section(c),
            attribution_section(c),
            tag("footer", "Made by linkaudit compare. Every family here is synthetic."),
        ]
    )
    return str(page(title, body))
