"""The reference sections: the glossary, and how the run was made."""

from __future__ import annotations

from audits.pooled_tables import pooled_audit
from audits.report.inputs import ReportInputs
from audits.report.page import (
    Html,
    join,
    p,
    tag,
    ul,
)
from audits.tables import VERSIONED
from simulator.world.generate import package_versions

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
    audit = None if inputs.audit is None else pooled_audit(inputs.audit)
    warnings = list(audit.disparities.warnings) if audit else []
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
