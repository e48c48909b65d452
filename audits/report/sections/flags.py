"""Who was flagged, and who wrongly.

The headline numbers at a glance, the rates by group with their intervals, and the
joint groups.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pandas as pd

from audits.headline import METRIC_WORDS, MOST_DEPRIVED, question, records_of
from audits.pooled_tables import pooled_audit
from audits.report import charts
from audits.report.inputs import ReportInputs
from audits.report.page import (
    Html,
    figure,
    join,
    note,
    p,
    table,
    tag,
    ul,
)
from audits.report.sections.common import (
    SYNTHETIC_NOTE,
    confidence_level,
    no_audit,
    target_families,
    target_words,
    with_interval,
    with_worlds,
    worlds,
)
from audits.report.text import (
    TARGET_LABELS,
    count,
    group_label,
    interval,
    num,
    pct,
    plural,
    ratio,
    value_label,
)
from audits.tables import headline_block
from simulator.vocabulary import LEAST_DEPRIVED

if TYPE_CHECKING:
    from audits.result import AuditResult

# ---------------------------------------------------------------- at a glance


def glance(inputs: ReportInputs) -> Html:
    """The headline numbers and the synthetic-data warning, above the sections."""
    parts: list[object] = [
        note(
            tag("strong", "Synthetic data. "),
            Html(SYNTHETIC_NOTE),
            kind="synthetic",
        )
    ]
    if inputs.audit is None:
        return join(parts)
    o = inputs.audit.metrics.overall.iloc[0]
    target = TARGET_LABELS.get(
        inputs.scenario.audit.target, inputs.scenario.audit.target
    )
    stats = [
        ("families", count(o["n"]), "families simulated", ""),
        (
            "positive",
            count(o["n_positive"]),
            f"truly {target.split(' (')[0]}",
            "",
        ),
        ("flagged", count(o["n_flagged"]), "families flagged by the council", ""),
        ("fp", count(o["fp"]), "of them wrongly flagged", "bad"),
        ("fn", count(o["fn"]), f"{target_families(inputs)} missed", "bad"),
        (
            "per10k",
            num(o["wrongly_flagged_per_10k"], 0),
            "wrongly flagged per 10,000 families",
            "bad",
        ),
    ]
    parts.append(
        tag(
            "div",
            join(
                tag(
                    "div",
                    join([tag("span", n, class_="n"), tag("span", w, class_="what")]),
                    class_=f"stat {cls}".strip(),
                )
                for _, n, w, cls in stats
            ),
            class_="glance",
        )
    )
    headline = _headline_sentence(inputs)
    if headline:
        parts.append(p(headline))
    return join(parts)


def _headline_sentence(inputs: ReportInputs) -> str:
    """The scenario's question and its figure, in words (never silently dropped).

    The default comparison (the false positive rate of the most deprived group) reads
    as it always has (:func:`_deprivation_sentence`); any other metric, group or
    linkage source reads as :func:`_question_sentence`.
    """
    assert inputs.audit is not None
    block = headline_block(inputs.audit)
    h, spec = block["comparison"], block["spec"]
    if h is None:
        if spec is None:
            return ""  # deprivation not audited, and no question named
        return (
            f"The scenario's question ({question(spec)}) has no figure: "
            f"{block['unavailable']}."
        )
    default = h["grouping"] in LEAST_DEPRIVED and str(h["group"]) == MOST_DEPRIVED
    if spec["metric"] == "fpr" and default:
        return _deprivation_sentence(inputs, h)
    return _question_sentence(h)


def _question_sentence(h: dict) -> str:
    """Any headline comparison in words: both rates, difference and ratio."""
    column = h["grouping"]
    metric = "the " + METRIC_WORDS.get(h["metric"], h["metric"])
    if "source" in h:
        metric += f" of {records_of(h['source'])}"
    conf = f"{h['confidence']:.0%} confidence interval"
    g, r = h["group_rate"], h["reference_rate"]
    worlds = h.get("replicates", 1)
    if h["metric"] == "wrongly_flagged_per_10k":  # a count per 10,000, not a share
        rate, diff, unit = (lambda x: num(x, 1)), (lambda x: num(x, 1)), "per 10,000"
    else:
        rate, diff, unit = pct, points, "percentage points"
    lead = (
        f"Pooled over {worlds} simulated worlds, {metric}"
        if worlds > 1
        else (metric[0].upper() + metric[1:])
    )
    text = (
        f"{lead} was {rate(g['estimate'])} for {group_label(column)} "
        f"{value_label(column, h['group'])} "
        f"({conf} {interval(g['ci_low'], g['ci_high'], rate)}), "
        f"against {rate(r['estimate'])} for {value_label(column, h['reference'])} "
        f"({interval(r['ci_low'], r['ci_high'], rate)}): a difference of "
        f"{diff(h['difference'])} {unit} "
        f"({interval(h['difference_ci_low'], h['difference_ci_high'], diff)})"
    )
    return text + _ratio_words(h) + _between_worlds(h, None if diff is points else diff)


def _ratio_words(h: dict) -> str:
    """The ratio with its interval, or why it is not to be quoted."""
    if h["ratio_stable"]:
        return (
            f", or {ratio(h['ratio'])} as high "
            f"({interval(h['ratio_ci_low'], h['ratio_ci_high'], ratio)})."
        )
    undefined = h["ratio"] is None or not math.isfinite(h["ratio"])
    shown = (
        "There is no ratio"
        if undefined
        else f"The ratio ({ratio(h['ratio'])}) is unstable and not to be quoted"
    )
    return f". {shown}: {h['ratio_note']}."


def _between_worlds(h: dict, fmt: Callable[[float], str] | None = None) -> str:
    """The range of each world's own difference, with several worlds."""
    unit = " points" if fmt is None else ""
    fmt = fmt or points
    diffs = [x for x in h["difference_per_replicate"] if x is not None]
    if h.get("replicates", 1) < 2 or not diffs:
        return ""
    return (
        f" Between the worlds, the difference ranged from {fmt(min(diffs))} "
        f"to {fmt(max(diffs))}{unit}."
    )


def _deprivation_sentence(inputs: ReportInputs, h: dict) -> str:
    """The FPR of the most deprived group against the reference, in words.

    Both rates, their difference and their ratio, each with its interval (pooled
    over the replicate worlds, with the range between them). An unstable ratio
    (:func:`audits.headline.ratio_stability`) comes last with the plain reason it
    should not be quoted; the sentence is never dropped for it.
    """
    column = h["grouping"]
    part = "fifth" if column == "imd_quintile" else "tenth"
    top = {"imd_quintile": "5", "imd_decile": "10"}.get(column)
    reference = (
        f"the least deprived {part}"
        if str(h["reference"]) == top
        else f"{group_label(column)} {value_label(column, h['reference'])}"
    )
    conf = f"{h['confidence']:.0%} confidence interval"
    g, r = h["group_rate"], h["reference_rate"]
    worlds = h.get("replicates", 1)
    pooled = f"Pooled over {worlds} simulated worlds: a" if worlds > 1 else "A"
    rates = (
        f"{pooled}mong families not {target_words(inputs)}, "
        f"{pct(g['estimate'])} of those in the most deprived {part} of areas were "
        f"flagged ({conf} {interval(g['ci_low'], g['ci_high'])}), against "
        f"{pct(r['estimate'])} in {reference} "
        f"({interval(r['ci_low'], r['ci_high'])}): a difference of "
        f"{points(h['difference'])} percentage points "
        f"({interval(h['difference_ci_low'], h['difference_ci_high'], points)})"
    )
    if h["ratio_stable"]:
        text = (
            f"{rates}, or {ratio(h['ratio'])} as likely "
            f"({interval(h['ratio_ci_low'], h['ratio_ci_high'], ratio)})."
        )
    else:
        text = rates + _ratio_words(h)
    return text + _between_worlds(h)


def _worlds_words(inputs: ReportInputs) -> str:
    """The words captions add for pooled worlds; empty with one world."""
    return worlds_words(worlds(inputs))


def worlds_words(n: int) -> str:
    """The words captions add for ``n`` pooled worlds; empty with one world."""
    if n <= 1:
        return ""
    return (
        f", pooled over the {n} simulated worlds, with the smallest and largest "
        'value in a single world (grey diamonds in the chart, "worlds" in the table)'
    )


def points(x: float | None) -> str:
    """A difference of two rates in percentage points, e.g. "2.3"."""
    return num(None if x is None else 100 * x, 1)


def _reference_reason(inputs: ReportInputs, column: str) -> str:
    return reference_reason(inputs.scenario.audit.reference, column, "the scenario")


def reference_reason(chosen: Mapping[str, object], column: str, where: str) -> str:
    """Why a grouping's reference group is the reference, in words.

    Parameters
    ----------
    chosen : mapping
        The reference values chosen, by column.
    column : str
        The grouping's column.
    where : str
        Where a choice was made ("the scenario", "this audit").
    """
    if column in chosen:
        return f"chosen in {where}"
    if column in LEAST_DEPRIVED:
        return "the least deprived group, the usual point of comparison"
    return "the largest group"


def _overall(inputs: ReportInputs) -> list[object]:
    """The flags overall: counts, the four rates with intervals, what they mean.

    With replicate worlds, the counts summed over them, the pooled rates with
    intervals across worlds and the range of the worlds.
    """
    assert inputs.audit is not None
    audit = pooled_audit(inputs.audit)
    n_worlds = worlds(inputs)
    o = audit.metrics.overall.iloc[0]
    rates = audit.disparities.overall.set_index("metric")
    level = confidence_level(inputs)
    target = TARGET_LABELS.get(audit.config.target, audit.config.target)

    def rate(metric: str, fmt: Callable[[object], str] = pct) -> str:
        r = rates.loc[metric]
        spread = (
            f"; worlds {interval(r['estimate_min'], r['estimate_max'], fmt)}"
            if n_worlds > 1
            else ""
        )
        return (
            f"{fmt(r['estimate'])} ({level} interval "
            f"{interval(r['ci_low'], r['ci_high'], fmt)}{spread})"
        )

    flagged = plural(int(o["n_flagged"]), "family", "families")
    pooled = (
        f"Over the {n_worlds} simulated worlds pooled "
        f"({plural(int(o['n']), 'family', 'families')} in all), the"
        if n_worlds > 1
        else "The"
    )
    return [
        p(
            f"The audit judges every flag against the truth: is the family "
            f"{target}? {pooled} council flagged {flagged}"
            f" ({rate('selection_rate')} of all families). "
            f"{count(o['tp'])} of them are {target_words(inputs)} and "
            f"{count(o['fp'])} are not: they were wrongly flagged. "
            f"{count(o['fn'])} {target_families(inputs)} were not flagged "
            "(missed)."
        ),
        ul(
            [
                f"Precision (flagged families who are {target_words(inputs)}): "
                f"{rate('precision')}.",
                f"False positive rate (families not {target_words(inputs)} who were "
                f"flagged anyway): {rate('fpr')}.",
                f"True positive rate (families {target_words(inputs)} who were "
                f"found): {rate('tpr')}.",
                f"Wrongly flagged per 10,000 families: "
                f"{rate('wrongly_flagged_per_10k', lambda x: num(x, 0))}.",
            ]
        ),
        p(
            "A flag reaches every true family with a member at the flagged address on "
            f"the council's register. Intervals are {level} bootstrap confidence "
            "intervals: the range the figure would plausibly take if the same kind "
            "of families were sampled again"
            + (
                f", widened where the {n_worlds} worlds differ more than that "
                'explains; "worlds" gives the smallest and largest value the '
                "figure took in a single world."
                if n_worlds > 1
                else "."
            )
        ),
    ]


FIGURE_COLUMNS = {
    "estimate": ("estimate", "ci_low", "ci_high", "estimate_min", "estimate_max"),
    "ratio": (
        "ratio_to_ref",
        "ratio_ci_low",
        "ratio_ci_high",
        "ratio_min",
        "ratio_max",
    ),
}
"""A figure's columns in a disparity table: estimate, interval, range of worlds."""


def _cell(
    rows: pd.DataFrame,
    i: int,
    fmt: Callable[[object], str] = pct,
    figure_: str = "estimate",
) -> Html:
    """Row ``i``'s figure (``estimate`` or ``ratio``) with its interval.

    With the range of the worlds underneath when the table pools several (it has
    ``estimate_min``: :func:`audits.pooled_tables.pooled_audit`).
    """
    est, low, high, world_low, world_high = FIGURE_COLUMNS[figure_]
    if "estimate_min" not in rows:
        return with_interval(rows[est][i], rows[low][i], rows[high][i], fmt)
    return with_worlds(
        rows[est][i],
        rows[low][i],
        rows[high][i],
        rows[world_low][i],
        rows[world_high][i],
        fmt,
    )


def _rate_rows(rows: pd.DataFrame, column: str) -> tuple[list, list, pd.DataFrame]:
    """One grouping's table: its rows, their classes, and its selection rates."""
    sel = rows[rows["metric"] == "selection_rate"].reset_index(drop=True)
    fpr = rows[rows["metric"] == "fpr"].reset_index(drop=True)
    w10k = rows[rows["metric"] == "wrongly_flagged_per_10k"].reset_index(drop=True)
    body = [
        [
            value_label(column, sel["value"][i]),
            count(sel["n"][i]),
            _cell(sel, i),
            _cell(fpr, i),
            _cell(w10k, i, lambda x: num(x, 0)),
            "reference" if sel["is_reference"][i] else _cell(fpr, i, ratio, "ratio"),
        ]
        for i in range(len(sel))  # a handful of groups
    ]
    classes = [
        "reference"
        if sel["is_reference"][i]
        else "small"
        if sel["small_group"][i]
        else None
        for i in range(len(sel))
    ]
    return body, classes, sel


def _grouping(inputs: ReportInputs, column: str) -> list[object]:
    """One grouping's rates: a chart and a table, against its reference group."""
    assert inputs.audit is not None
    reason = _reference_reason(inputs, column)
    return grouping_rates(
        pooled_audit(inputs.audit), column, reason, n_worlds=worlds(inputs)
    )


def grouping_rates(
    audit: AuditResult,
    column: str,
    reason: str,
    unit: str = "families",
    n_worlds: int = 1,
) -> list[object]:
    """One grouping's rates: a chart and a table, against its reference group.

    Parameters
    ----------
    audit : AuditResult
        A run's audit (pooled over its worlds) or a table's
        (:func:`audits.table.audit_table`).
    column : str
        The grouping's label.
    reason : str
        Why the reference group is the reference, in words.
    unit : str
        What a row of the audit is, in the plural ("families", "rows").
    n_worlds : int
        Replicate worlds the audit pools.
    """
    level = f"{audit.config.confidence:.0%}"
    table_ = audit.disparities.table
    rows = table_[table_["group"] == column]
    if rows.empty:
        return []
    anchor = f"rates-{column.replace('_', '-')}"
    body, classes, sel = _rate_rows(rows, column)
    reference = value_label(column, sel["reference"].iloc[0])
    parts: list[object] = [
        tag("h3", f"By {group_label(column)}", id=anchor),
        p(f"Reference group: {reference} ({reason}). Each group is compared with it."),
        figure(
            charts.group_rates_chart(
                table_, column, audit.config.confidence, anchor, unit
            ),
            f"for each {group_label(column)} group, the share of {unit} "
            "flagged, the false positive rate, the number wrongly flagged per "
            f"10,000 {unit}, and the false positive rate divided by the "
            f"reference group's, each with its {level} confidence interval"
            + worlds_words(n_worlds)
            + ".",
            "whiskers that do not overlap, or a ratio whose whiskers do not "
            "cross the dashed line at 1, point to a difference the sample "
            "cannot explain away. A higher share flagged can reflect real need; "
            f"a higher false positive rate means more {unit} without need are "
            "flagged.",
        ),
        table(
            [
                group_label(column),
                unit,
                "share flagged",
                "false positive rate",
                "wrongly flagged per 10,000",
                "false positive rate ÷ reference",
            ],
            body,
            numeric=range(1, 6),
            row_classes=classes,
            caption=f"Estimates with their {level} confidence intervals underneath"
            + worlds_words(n_worlds),
        ),
    ]
    if any(sel["small_group"]):
        over = f" over the {n_worlds} worlds" if n_worlds > 1 else ""
        parts.append(
            p(
                f"Groups in grey italics have fewer than "
                f"{count(audit.config.min_group_size)} "
                f"{unit}{over}: read their figures with care.",
                class_="small",
            )
        )
    return parts


def flags_section(inputs: ReportInputs) -> Html:
    """How many families were flagged, how many wrongly, and who they are."""
    if inputs.audit is None:
        return no_audit()
    parts = _overall(inputs)
    n_worlds = worlds(inputs)
    if n_worlds > 1:
        parts.insert(
            0,
            note(
                f"Pooled over {n_worlds} simulated worlds (the whole scenario drawn "
                f"{n_worlds} times with different seeds). Every count in this "
                "section is summed over the worlds and every rate, ratio and "
                "difference is that of the summed counts; intervals cover both the "
                "resampling of families and the variation between worlds, and "
                '"worlds" gives the smallest and largest value in a single '
                "world. Each world's own figures are in audit/replicates/."
            ),
        )
    for column in inputs.audit.config.group_columns:  # a handful of groupings
        parts += _grouping(inputs, column)
    parts.append(_intersections(inputs))
    return join(parts)


def _intersections(inputs: ReportInputs) -> Html:
    """A collapsed table of the joint groups (e.g. deprivation × ethnicity)."""
    assert inputs.audit is not None
    return joint_groups(pooled_audit(inputs.audit))


def joint_groups(audit: AuditResult, unit: str = "families") -> Html:
    """A collapsed table of the joint groups of each intersection audited.

    Parameters
    ----------
    audit : AuditResult
        A run's audit (pooled over its worlds) or a table's.
    unit : str
        What a row of the audit is, in the plural ("families", "rows").
    """
    table_ = audit.disparities.table
    level = f"{audit.config.confidence:.0%}"
    joint = [g for g in dict.fromkeys(table_["group"]) if " × " in str(g)]
    out = []
    for grouping in joint:  # a handful of intersections
        rows = table_[table_["group"] == grouping]
        fpr = rows[rows["metric"] == "fpr"].reset_index(drop=True)
        w10k = rows[rows["metric"] == "wrongly_flagged_per_10k"].reset_index(drop=True)
        body = [
            [
                value_label(grouping, fpr["value"][i]),
                count(fpr["n"][i]),
                _cell(fpr, i),
                num(w10k["estimate"][i], 0),
            ]
            for i in range(len(fpr))  # groups of one grouping
        ]
        classes = ["small" if fpr["small_group"][i] else None for i in range(len(fpr))]
        out.append(
            tag(
                "details",
                join(
                    [
                        tag(
                            "summary",
                            f"Joint groups: {group_label(str(grouping))} "
                            f"({plural(len(fpr), 'group')}; click to open)",
                        ),
                        table(
                            [
                                "group",
                                unit,
                                f"false positive rate ({level} interval)",
                                "wrongly flagged per 10,000",
                            ],
                            body,
                            numeric=[1, 2, 3],
                            row_classes=classes,
                        ),
                    ]
                ),
            )
        )
    return join(out)
