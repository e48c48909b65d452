"""The report's sections, one function each, from a run's results.

Each function returns escaped markup (:class:`~audits.report.page.Html`). Sections
whose input is missing (no audit, no attribution) say so instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audits.attribution import CAUSE_LABELS
from audits.report import charts
from audits.report.cases import CATEGORIES, CaseFile, case_files
from audits.report.cases.explain import (
    ABOUT_WORDS,
    LINKED_TO_WORDS,
    date_text,
    drivers_text,
    errors_text,
    event_text,
    explanation,
    member_summary,
    name_text,
)
from audits.report.cases.kinds import HOUSEHOLD, OTHER_FAMILY
from audits.report.curves import actual_cut, ordered_values, threshold_curves
from audits.report.describe import changed_settings, flag_rule_text, scenario_paragraphs
from audits.report.inputs import ReportInputs
from audits.report.page import (
    Html,
    figure,
    join,
    note,
    p,
    section,
    table,
    tag,
    ul,
)
from audits.report.text import (
    NEED_LABELS,
    RUNG_DESCRIPTIONS,
    SEX_LABELS,
    SIDE_LABELS,
    SOURCE_LABELS,
    TARGET_LABELS,
    count,
    error_label,
    group_label,
    interval,
    num,
    pct,
    plural,
    ratio,
    value_label,
)
from audits.tables import VERSIONED, deprivation_headline
from simulator.schema.audit import LEAST_DEPRIVED
from simulator.world.generate import package_versions

SYNTHETIC_NOTE = (
    "Every person, family, address, name and identifier in this report is synthetic: "
    "made up by a simulation. No real person is described. Names are shown only to "
    "make the case files readable; they were drawn at random from lists of common "
    "names."
)


@dataclass(frozen=True)
class Section:
    """One section of the report: its anchor, heading and builder."""

    anchor: str
    title: str
    build: Callable[[ReportInputs], Html]


def _target_words(inputs: ReportInputs) -> str:
    return "in need" if inputs.scenario.audit.target == "eligible" else "harmed"


def _target_families(inputs: ReportInputs) -> str:
    return (
        "families in need"
        if inputs.scenario.audit.target == "eligible"
        else "harmed families"
    )


def _level(inputs: ReportInputs) -> str:
    return f"{inputs.scenario.audit.confidence:.0%}"


def _no_audit() -> Html:
    return note("This run was not audited, so this section is empty.", kind="warning")


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
        ("fn", count(o["fn"]), f"{_target_families(inputs)} missed", "bad"),
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
    headline = _deprivation_sentence(inputs)
    if headline:
        parts.append(p(headline))
    return join(parts)


def _deprivation_sentence(inputs: ReportInputs) -> str:
    """The FPR of the most deprived group against the reference, in words."""
    assert inputs.audit is not None
    h = deprivation_headline(inputs.audit)
    if h is None or h["ratio"] is None or not np.isfinite(h["ratio"]):
        return ""  # no such grouping, or a reference with no wrong flags
    column = h["grouping"]
    part = "fifth" if column == "imd_quintile" else "tenth"
    top = {"imd_quintile": "5", "imd_decile": "10"}.get(column)
    reference = (
        f"the least deprived {part}"
        if str(h["reference"]) == top
        else f"{group_label(column)} {value_label(column, h['reference'])}"
    )
    return (
        f"Among families not {_target_words(inputs)}, those in the most deprived "
        f"{part} of areas were {ratio(h['ratio'])} as likely to be flagged as those "
        f"in {reference} ({h['confidence']:.0%} confidence interval "
        f"{interval(h['ratio_ci_low'], h['ratio_ci_high'], ratio)})."
    )


# ------------------------------------------------------------------- scenario


def scenario_section(inputs: ReportInputs) -> Html:
    """The scenario in words, and what differs from the defaults."""
    s = inputs.scenario
    parts: list[object] = [
        tag("p", join([tag("strong", "Scenario: "), s.name])),
    ]
    if s.description.strip():
        parts.append(tag("blockquote", s.description.strip(), class_="box note"))
    parts += [p(text) for text in scenario_paragraphs(s, len(inputs.areas))]
    changes = changed_settings(s)
    if changes:
        parts.append(tag("h3", "What this scenario changes from the defaults"))
        parts.append(
            p(
                "Every setting not listed has its default value, taken from public "
                "statistics (see the methodology)."
            )
        )
        parts.append(table(["setting", "this scenario", "default"], changes))
    else:
        parts.append(p("Every setting has its default value."))
    return join(parts)


# ----------------------------------------------------------------- population


def _shares(frame: pd.DataFrame, column: str) -> list[list[object]]:
    counts = frame[column].astype(str).value_counts(sort=False)
    order = ordered_values(frame[column])
    total = int(counts.sum())
    return [
        [value_label(column, v), count(counts.get(v, 0)), pct(counts.get(v, 0) / total)]
        for v in order
    ]


def population_section(inputs: ReportInputs) -> Html:
    """Who lives in the simulated area, and their true needs by deprivation."""
    h = inputs.households
    n = len(h)
    eligible = int(h["eligible"].sum()) if "eligible" in h else 0
    harmed = int(h["harm"].sum()) if "harm" in h else 0
    tables = []
    for column in ("imd_quintile", "ethnicity", "tenure", "lone_parent"):
        if column in h:
            tables.append(
                table(
                    [group_label(column), "families", "share"],
                    _shares(h, column),
                    numeric=[1, 2],
                )
            )
    needs = [n_ for n_ in NEED_LABELS if f"need_{n_}" in h]
    prevalence = [
        [NEED_LABELS[k], count(h[f"need_{k}"].sum()), pct(h[f"need_{k}"].mean())]
        for k in needs
    ]
    return join(
        [
            p(
                f"The simulated area has {plural(n, 'family', 'families')} with "
                f"{count(len(inputs.people))} people. Areas are ranked by the "
                "Index of Multiple Deprivation (IMD): quintile 1 is the most deprived "
                "fifth of areas, quintile 5 the least deprived. In truth "
                f"{count(eligible)} families ({pct(eligible / max(n, 1))}) are "
                f"eligible for the programme and {count(harmed)} "
                f"({pct(harmed / max(n, 1))}) come to harm in the follow-up period."
            ),
            tag("div", join(tables), class_="card"),
            tag("h3", "True problems"),
            table(["problem", "families", "share"], prevalence, numeric=[1, 2]),
            figure(
                charts.population_chart(h),
                "the share of families who truly have each of the six headline "
                "problems (left), and who are eligible or come to harm (right), in "
                "each fifth of areas from the most to the least deprived.",
                "lines falling from left to right mean a problem is more common in "
                "deprived areas. This is the truth, before any agency records "
                "anything: some of the differences the audit finds later are real "
                "differences in need, not errors.",
            ),
        ]
    )


# -------------------------------------------------------------------- linkage


def linkage_section(inputs: ReportInputs) -> Html:
    """Linkage quality overall, per source and by group, and its main causes."""
    q = inputs.link_quality
    o = q.overall.iloc[0]
    per_source = [
        [
            SOURCE_LABELS.get(str(src), str(src)),
            count(r["n_records"]),
            count(r["n_linkable"]),
            count(r["n_false"]),
            count(r["n_missed"]),
            pct(r["precision"], 2),
            pct(r["recall"], 2),
        ]
        for src, r in q.by_source.iterrows()  # a handful of sources
    ]
    per_source.append(
        [
            "all sources",
            count(o["n_records"]),
            count(o["n_linkable"]),
            count(o["n_false"]),
            count(o["n_missed"]),
            pct(o["precision"], 2),
            pct(o["recall"], 2),
        ]
    )
    causes = q.causes.assign(total=q.causes["n_false"] + q.causes["n_missed"])
    causes = causes.sort_values(
        ["total", "cause", "side"], ascending=[False, True, True], kind="stable"
    ).head(10)
    cause_rows = [
        [
            error_label(str(r["cause"])),
            SIDE_LABELS.get(str(r["side"]), str(r["side"])),
            count(r["n_false"]),
            count(r["n_missed"]),
        ]
        for _, r in causes.iterrows()  # ten rows
    ]
    return join(
        [
            p(
                "Before any model runs, the council links every agency's records to "
                "its own register of families (the spine). A record linked to the "
                "wrong person adds someone else's events to a family (a false link); "
                "a record not linked to its person hides them (a missed link)."
            ),
            p(
                f"Of {count(o['n_linkable'])} records whose person is on the register, "
                f"{count(o['n_correct'])} were linked to the right person "
                f"(recall {pct(o['recall'], 2)}); {count(o['n_false'])} records were "
                f"linked to the wrong person and {count(o['n_missed'])} were missed. "
                f"{pct(o['precision'], 2)} of all links made were right (precision)."
            ),
            table(
                [
                    "source",
                    "records",
                    "linkable",
                    "false links",
                    "missed links",
                    "precision",
                    "recall",
                ],
                per_source,
                numeric=range(1, 7),
                row_classes=[None] * (len(per_source) - 1) + ["reference"],
            ),
            figure(
                charts.linkage_chart(q.by_group),
                "for families in each group, the share of their records that "
                "could have been linked but were not (left) and the share of links "
                "that went to the wrong person (right).",
                "longer bars mean the council's linked picture of those families is "
                "less complete (left) or more polluted by other people's records "
                "(right). These are counts over every record, with no interval.",
            ),
            tag("h3", "What caused the false and missed links"),
            p(
                "Each wrong or missed link is traced to the data errors on the "
                "record and on the register entries involved; one link can involve "
                "several errors."
            ),
            table(
                ["error", "where", "false links", "missed links"],
                cause_rows,
                numeric=[2, 3],
            )
            if cause_rows
            else p("No link was wrong or missed."),
        ]
    )


# ---------------------------------------------------------------------- flags


def with_interval(
    estimate: object, low: object, high: object, fmt: Callable[[object], str] = pct
) -> Html:
    """An estimate with its interval underneath, in smaller type."""
    return join([fmt(estimate), tag("span", interval(low, high, fmt), class_="ci")], "")


def _reference_reason(inputs: ReportInputs, column: str) -> str:
    config = inputs.scenario.audit
    if column in config.reference:
        return "chosen in the scenario"
    if column in LEAST_DEPRIVED:
        return "the least deprived group, the usual point of comparison"
    return "the largest group"


def flags_section(inputs: ReportInputs) -> Html:
    """How many families were flagged, how many wrongly, and who they are."""
    if inputs.audit is None:
        return _no_audit()
    audit = inputs.audit
    o = audit.metrics.overall.iloc[0]
    rates = audit.disparities.overall.set_index("metric")
    level = _level(inputs)
    target = TARGET_LABELS.get(audit.config.target, audit.config.target)

    def rate(metric: str, fmt: Callable[[object], str] = pct) -> str:
        r = rates.loc[metric]
        return (
            f"{fmt(r['estimate'])} ({level} interval "
            f"{interval(r['ci_low'], r['ci_high'], fmt)})"
        )

    parts: list[object] = [
        p(
            f"The audit judges every flag against the truth: is the family "
            f"{target}? The council flagged {plural(int(o['n_flagged']), 'family', 'families')}"  # noqa: E501
            f" ({rate('selection_rate')} of all families). "
            f"{count(o['tp'])} of them are {_target_words(inputs)} and "
            f"{count(o['fp'])} are not: they were wrongly flagged. "
            f"{count(o['fn'])} {_target_families(inputs)} were not flagged "
            "(missed)."
        ),
        ul(
            [
                f"Precision (flagged families who are {_target_words(inputs)}): "
                f"{rate('precision')}.",
                f"False positive rate (families not {_target_words(inputs)} who were "
                f"flagged anyway): {rate('fpr')}.",
                f"True positive rate (families {_target_words(inputs)} who were "
                f"found): {rate('tpr')}.",
                f"Wrongly flagged per 10,000 families: "
                f"{rate('wrongly_flagged_per_10k', lambda x: num(x, 0))}.",
            ]
        ),
        p(
            "A flag reaches every true family with a member at the flagged address on "
            f"the council's register. Intervals are {level} bootstrap confidence "
            "intervals: the range the figure would plausibly take if the same kind "
            "of families were sampled again."
        ),
    ]
    table_ = audit.disparities.table
    small = audit.config.min_group_size
    for column in audit.config.group_columns:  # a handful of groupings
        rows = table_[table_["group"] == column]
        if rows.empty:
            continue
        anchor = f"rates-{column.replace('_', '-')}"
        sel = rows[rows["metric"] == "selection_rate"].reset_index(drop=True)
        fpr = rows[rows["metric"] == "fpr"].reset_index(drop=True)
        w10k = rows[rows["metric"] == "wrongly_flagged_per_10k"].reset_index(drop=True)
        reference = value_label(column, sel["reference"].iloc[0])
        body = [
            [
                value_label(column, sel["value"][i]),
                count(sel["n"][i]),
                with_interval(sel["estimate"][i], sel["ci_low"][i], sel["ci_high"][i]),
                with_interval(fpr["estimate"][i], fpr["ci_low"][i], fpr["ci_high"][i]),
                with_interval(
                    w10k["estimate"][i],
                    w10k["ci_low"][i],
                    w10k["ci_high"][i],
                    lambda x: num(x, 0),
                ),
                "reference"
                if sel["is_reference"][i]
                else with_interval(
                    fpr["ratio_to_ref"][i],
                    fpr["ratio_ci_low"][i],
                    fpr["ratio_ci_high"][i],
                    ratio,
                ),
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
        parts += [
            tag("h3", f"By {group_label(column)}", id=anchor),
            p(
                f"Reference group: {reference} ({_reference_reason(inputs, column)}). "
                "Each group is compared with it."
            ),
            figure(
                charts.group_rates_chart(
                    table_, column, audit.config.confidence, anchor
                ),
                f"for each {group_label(column)} group, the share of families "
                "flagged, the false positive rate, the number wrongly flagged per "
                "10,000 families, and the false positive rate divided by the "
                f"reference group's, each with its {level} confidence interval.",
                "whiskers that do not overlap, or a ratio whose whiskers do not "
                "cross the dashed line at 1, point to a difference the sample "
                "cannot explain away. A higher share flagged can reflect real need; "
                "a higher false positive rate means more families without need are "
                "flagged.",
            ),
            table(
                [
                    group_label(column),
                    "families",
                    "share flagged",
                    "false positive rate",
                    "wrongly flagged per 10,000",
                    "false positive rate ÷ reference",
                ],
                body,
                numeric=range(1, 6),
                row_classes=classes,
                caption=f"Estimates with their {level} confidence intervals underneath",
            ),
        ]
        if any(sel["small_group"]):
            parts.append(
                p(
                    f"Groups in grey italics have fewer than {count(small)} "
                    "families: read their figures with care.",
                    class_="small",
                )
            )
    parts.append(_intersections(inputs))
    return join(parts)


def _intersections(inputs: ReportInputs) -> Html:
    """A collapsed table of the joint groups (e.g. deprivation × ethnicity)."""
    assert inputs.audit is not None
    table_ = inputs.audit.disparities.table
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
                with_interval(fpr["estimate"][i], fpr["ci_low"][i], fpr["ci_high"][i]),
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
                                "families",
                                f"false positive rate ({_level(inputs)} interval)",
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


# ---------------------------------------------------------------- attribution


def attribution_section(inputs: ReportInputs) -> Html:
    """The causes of wrong flags and missed families, and the ladder."""
    if inputs.attribution is None:
        return note(
            "This run was made without the attribution (the counterfactual re-runs), "
            "so the causes of errors are not known. Run it with attribution to fill "
            "this section.",
            kind="warning",
        )
    a = inputs.attribution
    totals = a.counts[a.counts["group"] == "all"].set_index("error")
    sentences = []
    for kind, words in (
        ("false_positive", "wrongly flagged"),
        ("false_negative", "missed"),
    ):
        if kind not in totals.index:
            continue
        row = totals.loc[kind]
        pieces = [
            f"{CAUSE_LABELS[c]} {count(row[c])}" for c in CAUSE_LABELS if row[c] > 0
        ]
        sentences.append(
            f"Of the {plural(int(row['total']), 'family', 'families')} {words}: "
            + (", ".join(pieces) if pieces else "none")
            + "."
        )
    grouping = (
        "imd_quintile"
        if (a.counts["group"] == "imd_quintile").any()
        else next((g for g in a.counts["group"] if g != "all"), None)
    )
    ladder = [
        [
            CAUSE_LABELS.get(str(r["rung"]), str(r["rung"])),
            RUNG_DESCRIPTIONS.get(str(r["rung"]), ""),
            count(r["flagged"]),
            count(r["false_positives"]),
            count(r["false_negatives"]),
        ]
        for _, r in a.flagged_by_rung.iterrows()  # four rungs
    ]
    return join(
        [
            p(
                "Why was each family wrongly flagged or missed? The simulation is "
                "run again with the same families, adding one imperfection at a "
                "time: first perfect records (only the model can err), then who "
                "agencies see (visibility), then data errors, then the council's own "
                "linkage. Each error is put down to the first step at which it "
                "appears, so the causes add up to the totals."
            ),
            ul(sentences),
            figure(
                charts.attribution_chart(a.counts, grouping),
                "how many families were wrongly flagged (left) and missed (right), "
                "split by the first imperfection that produced the error, for all "
                f"families and by {group_label(grouping or 'group')}.",
                "the longest colour in a bar is the main cause for that group. "
                "Visibility bias (orange) means the error comes from who agencies "
                "see and record, not from any mistake in the data.",
            ),
            tag("h3", "The ladder: how the totals build up"),
            table(
                [
                    "step",
                    "what the model sees",
                    "flagged",
                    "wrongly flagged",
                    "missed",
                ],
                ladder,
                numeric=[2, 3, 4],
            ),
        ]
    )


# ----------------------------------------------------------------- thresholds


def _threshold_axis_end(score: pd.Series, cut: float, points: int) -> float | None:
    """Where to end the threshold axis of many-valued scores (None: at the top).

    Scores with few values (a criteria count) keep their whole range; continuous
    scores end past the 99.5th percentile and the cut, not at a lone high score.
    """
    values = score.to_numpy(dtype=float, na_value=np.nan)
    values = values[np.isfinite(values)]
    if points < 60 or not len(values):
        return None
    end = float(np.quantile(values, 0.995))
    if np.isfinite(cut):
        end = max(end, cut * 1.5)
    return end if end < values.max() else None


def threshold_section(inputs: ReportInputs) -> Html:
    """FPR and TPR at every threshold, by deprivation quintile, with the cut."""
    if inputs.audit is None or inputs.audit.outcomes is None:
        return _no_audit()
    outcomes = inputs.audit.outcomes
    grouping = next(
        (c for c in ("imd_quintile", "imd_decile") if c in outcomes),
        inputs.audit.config.group_columns[0],
    )
    rule = inputs.scenario.model.flag_rule()
    cut = actual_cut(inputs.flags, rule)
    curves = threshold_curves(outcomes, grouping)
    at_cut = threshold_curves(outcomes, grouping, cuts=np.array([cut]))
    rows = [
        [value_label(grouping, r["value"]), pct(r["fpr"]), pct(r["tpr"])]
        for _, r in at_cut.iterrows()  # a handful of groups
    ]
    tie_note = (
        ""
        if rule.threshold is not None
        else " With a top-percent or budget rule, households tied at the cut may be "
        "split; the curves count all of them as flagged."
    )
    return join(
        [
            p(
                f"The council's model gives every household a score and "
                f"{flag_rule_text(rule)} (the cut: {cut:.3g}). A different cut "
                "would flag a different number of families. These curves show, for "
                "every possible cut, how many families would be wrongly flagged and "
                f"how many found, in each {group_label(grouping)} group.{tie_note}"
            ),
            figure(
                charts.threshold_chart(
                    curves,
                    cut,
                    grouping,
                    in_target=_target_words(inputs),
                    right=_threshold_axis_end(outcomes["score"], cut, len(curves)),
                ),
                "the false positive rate (left) and true positive rate (right) that "
                "each cut of the score would give, one line per group; the dashed "
                "line is the scenario's cut.",
                "moving the cut to the right flags fewer families: fewer wrong flags "
                "but more families missed. Where the lines are far apart at the "
                "dashed line, the same rule treats the groups differently; no cut "
                "closes the gap if the lines stay apart everywhere.",
            ),
            table(
                [group_label(grouping), "false positive rate", "true positive rate"],
                rows,
                numeric=[1, 2],
                caption="At the scenario's cut",
            ),
        ]
    )


# ----------------------------------------------------------------- case files


def _family_card(case: CaseFile, inputs: ReportInputs) -> Html:
    f = case.family
    needs = [NEED_LABELS.get(n, n) for n in f["needs"]]
    target = inputs.scenario.audit.target
    facts = [
        ("family", member_summary(case.members)),
        ("area", f"deprivation decile {f['imd_decile']} (1 = most deprived)"),
        ("home", value_label("tenure", f["tenure"])),
        ("ethnicity", value_label("ethnicity", f["ethnicity"])),
        ("lone parent", "yes" if f["lone_parent"] else "no"),
        ("moved last year", "yes" if f["moved_recently"] else "no"),
        ("true problems", ", ".join(needs) if needs else "none"),
        (
            "in truth",
            ("eligible" if f["eligible"] else "not eligible")
            + ("; came to harm" if f["harm"] else "; no harm"),
        ),
        (
            "the council",
            "flagged it" if case.category.error == "false_positive" else "missed it",
        ),
    ]
    if target == "harm":
        facts[7] = ("in truth", facts[7][1] + " (the audit's target is harm)")
    dl = tag(
        "dl",
        join(join([tag("dt", k), tag("dd", v)], "") for k, v in facts),
        class_="facts",
    )
    members = table(
        ["member", "sex", "age", "name (synthetic)"],
        [
            [
                "child" if r["role"] == "child" else "adult",
                SEX_LABELS.get(str(r["sex"]), str(r["sex"])),
                count(r["age"]),
                f"{r['first_name']} {r['last_name']}",
            ]
            for _, r in case.members.iterrows()  # a family's members
        ],
        numeric=[2],
    )
    return tag("div", join([dl, members]), class_="card")


def _spine_table(case: CaseFile) -> Html:
    if case.spine.empty:
        return p("Nobody in this family is on the council's register.")
    rows = [
        [
            f"#{int(r['spine_household_id'])}",
            count(r["n_people"]),
            count(r["n_other_family"]),
            num(r["score"], 2),
            "yes" if r["flagged"] else "no",
            drivers_text(r["drivers"]) or "–",
        ]
        for _, r in case.spine.iterrows()  # one or two households
    ]
    return table(
        [
            "council household",
            "people held there",
            "of them from another family",
            "score",
            "flagged",
            "the model's reasons",
        ],
        rows,
        numeric=[1, 2, 3],
    )


def _records_table(case: CaseFile) -> Html:
    r = case.shown_records
    if r.empty:
        return p("No event was recorded about this family or linked to its household.")
    body = []
    classes = []
    for _, x in r.iterrows():  # at most MAX_RECORDS records of one case
        if x["about"] == OTHER_FAMILY:
            about: object = join(
                [tag("span", "another family", class_="tag other"), "someone else"],
                " ",
            )
        elif x["background"]:
            about = join(
                [
                    tag("span", "no problem", class_="tag background"),
                    "this family, with no true problem behind it",
                ],
                " ",
            )
        else:
            about = ABOUT_WORDS[x["about"]]
        linked_to = LINKED_TO_WORDS[x["linked_to"]]
        where: object = (
            f"{linked_to} (key: {x['match_key']})" if x["match_key"] else linked_to
        )
        lost = x["linked_to"] != HOUSEHOLD and x["about"] != OTHER_FAMILY
        if lost:
            where = join([tag("span", "did not reach it", class_="tag lost"), where])
        body.append(
            [
                SOURCE_LABELS.get(x["source"], x["source"]),
                event_text(x),
                date_text(x["event_date"]),
                f"{name_text(x['first_name'], x['last_name'])}, "
                + (
                    "no date of birth"
                    if pd.isna(x["dob"])
                    else f"born {date_text(x['dob'])}"
                ),
                where,
                about,
                errors_text(x["errors"]) or "–",
            ]
        )
        classes.append(
            "other" if x["about"] == OTHER_FAMILY else "lost" if lost else None
        )
    parts = [
        table(
            [
                "source",
                "event",
                "date",
                "recorded as",
                "linked to",
                "whose record it truly is",
                "data errors on the record",
            ],
            body,
            row_classes=classes,
            class_="records",
        )
    ]
    extra = []
    if case.n_records_hidden:
        extra.append(f"{plural(case.n_records_hidden, 'more record')} not listed.")
    if case.register_rows:
        extra.append(
            f"{plural(case.register_rows, 'register row')} (GP registrations, school "
            "census entries) also linked to the household; they describe who lives "
            "there and are not events."
        )
    if extra:
        parts.append(p(" ".join(extra), class_="small"))
    return join(parts)


def _case(case: CaseFile, inputs: ReportInputs, number: int, cut: float) -> Html:
    kind = "fp" if case.category.error == "false_positive" else "fn"
    label = "wrongly flagged" if kind == "fp" else "missed"
    heading = join(
        [
            tag("span", "synthetic", class_="tag synthetic"),
            tag("span", label, class_=f"tag {kind}"),
            f"Case {number}: the {case.family['surname']} family. "
            f"{case.category.title}",
        ],
        "",
    )
    return tag(
        "article",
        join(
            [
                tag("h3", heading),
                tag("p", explanation(case, inputs.scenario, cut), class_="explain"),
                tag("h4", "The family as it truly is"),
                _family_card(case, inputs),
                tag("h4", "How the council holds it"),
                _spine_table(case),
                tag(
                    "h4",
                    "The records counted against it"
                    if kind == "fp"
                    else "Its records, and where they went",
                ),
                _records_table(case),
            ]
        ),
        class_="case",
        id=f"case-{case.category.key.replace('_', '-')}",
    )


def cases_section(inputs: ReportInputs) -> Html:
    """A handful of synthetic families wrongly flagged or missed, and why."""
    if inputs.audit is None or inputs.audit.outcomes is None:
        return _no_audit()
    cases = case_files(inputs)
    intro = [
        p(
            "Numbers hide people. These are a few of the synthetic families behind "
            "them: for each kind of error, the first family (by its number) whose "
            "records show it. Each case shows the family as it truly is, the "
            "household the council holds it in, and the records that were counted "
            "against that household: which of them are about someone else, which "
            "carry errors, and which were recorded with no problem behind them."
        ),
        note(tag("strong", "Synthetic families. "), Html(SYNTHETIC_NOTE)),
    ]
    if not cases:
        return join([*intro, p("No family was wrongly flagged or missed in this run.")])
    present = {c.category.key for c in cases}
    absent = [
        c.title for c in CATEGORIES if c.key not in present and inputs.attribution
    ]
    cut = actual_cut(inputs.flags, inputs.scenario.model.flag_rule())
    body = [_case(c, inputs, i + 1, cut) for i, c in enumerate(cases)]
    if absent:
        body.append(
            p(
                "This run has no family of the other kinds ("
                + "; ".join(a[0].lower() + a[1:] for a in absent)
                + "), so they have no case file.",
                class_="small",
            )
        )
    return join([*intro, *body])


# ------------------------------------------------------------------- glossary

GLOSSARY = (
    (
        "Synthetic",
        "Made up by the simulation. Every family, person, name, address and number "
        "in this report is synthetic; the truth about each family is known because "
        "the simulation made it.",
    ),
    (
        "Spine (council register)",
        "The council's own list of people, grouped into households by the address "
        "it holds for each. Every agency's records are linked to it. An out-of-date "
        "address can put two families in one spine household.",
    ),
    (
        "Linkage",
        "Matching each agency record to a person on the spine using names, date of "
        "birth, postcode and identity numbers. A false link joins a record to the "
        "wrong person; a missed link leaves it unjoined.",
    ),
    (
        "Match key",
        "One rule for linking: the fields that must agree exactly (for example NHS "
        "number and date of birth). Looser keys find more links and more wrong ones.",
    ),
    (
        "Flag",
        "The model's decision that a household should be approached. A flag reaches "
        "every family with a member at the flagged address on the spine.",
    ),
    (
        "Eligible",
        "A family that truly has enough of the six headline problems to meet the "
        "programme's criteria.",
    ),
    (
        "False positive (wrongly flagged)",
        "A family flagged although it is not in need (or not harmed, if that is the "
        "target).",
    ),
    (
        "False negative (missed)",
        "A family in need that was not flagged.",
    ),
    (
        "False positive rate",
        "Of the families not in need, the share flagged anyway.",
    ),
    (
        "True positive rate",
        "Of the families in need, the share flagged.",
    ),
    (
        "Precision",
        "Of the families flagged, the share truly in need.",
    ),
    (
        "Wrongly flagged per 10,000",
        "Wrongly flagged families for every 10,000 families of a group, in need or "
        "not: how many families like this one are visited in error.",
    ),
    (
        "Visibility",
        "How much of a family's life agencies see and record. Deprived families "
        "meet public services more often (police patrols, A&E, benefits), so more "
        "of their problems, and more events with no problem behind them, are "
        "recorded; affluent families use private services that share no data.",
    ),
    (
        "Data error",
        "A mistake in a record: a typo, a nickname, a swapped date, a missing or "
        "out-of-date address, a record filed against the wrong family member.",
    ),
    (
        "IMD decile and quintile",
        "The Index of Multiple Deprivation ranks areas; decile 1 is the most "
        "deprived tenth and quintile 1 the most deprived fifth. It describes the "
        "area, not the family.",
    ),
    (
        "Reference group",
        "The group every other group is compared with, for example families in the "
        "least deprived areas. A ratio of 2 means twice the reference group's rate.",
    ),
    (
        "Confidence interval",
        "The range within which a figure would plausibly fall if the same kind of "
        "families were sampled again (here from a bootstrap of the families). The "
        "whiskers on the charts show it.",
    ),
    (
        "Attribution",
        "Re-running the simulation with the same families, adding one imperfection "
        "at a time, to find the first step at which each error appears.",
    ),
)


def glossary_section(inputs: ReportInputs) -> Html:
    """Short definitions of the words the report uses."""
    return tag(
        "dl",
        join(join([tag("dt", t), tag("dd", d)], "") for t, d in GLOSSARY),
        class_="glossary",
    )


def about_section(inputs: ReportInputs) -> Html:
    """How the run was made: seeds and package versions (no dates, no paths)."""
    seeds = ", ".join(f"{k} {v}" for k, v in inputs.seeds.items())
    versions = ", ".join(f"{k} {v}" for k, v in package_versions(VERSIONED).items())
    warnings = list(inputs.audit.disparities.warnings) if inputs.audit else []
    parts = [
        p(f"Seeds: {seeds or 'not recorded'}."),
        p(f"Software: {versions}."),
        p(
            "The same scenario and seed give the same report, byte for byte. The "
            "tables behind every figure are in the run directory (audit/, linkage/, "
            "attribution/)."
        ),
    ]
    if warnings:
        parts.append(tag("h3", "Warnings from the audit"))
        parts.append(ul(warnings))
    return join(parts)


SECTIONS = (
    Section("scenario", "The scenario in words", scenario_section),
    Section("population", "The population", population_section),
    Section("linkage", "Linking the records", linkage_section),
    Section("flags", "Who was flagged, and who wrongly", flags_section),
    Section(
        "causes", "Why families were wrongly flagged or missed", attribution_section
    ),
    Section("thresholds", "What other cuts would do", threshold_section),
    Section("cases", "Case files: families behind the numbers", cases_section),
    Section("glossary", "Glossary", glossary_section),
    Section("about", "About this run", about_section),
)
"""The report's sections, in order."""


def build_sections(inputs: ReportInputs) -> Html:
    """Every section, with a table of contents."""
    toc = tag(
        "nav",
        join(
            [
                tag("strong", "Contents"),
                tag(
                    "ol",
                    join(
                        tag("li", tag("a", s.title, href=f"#{s.anchor}"))
                        for s in SECTIONS
                    ),
                ),
            ]
        ),
        class_="toc",
    )
    return join([toc, *(section(s.anchor, s.title, s.build(inputs)) for s in SECTIONS)])
