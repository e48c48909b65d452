"""Phrases several sections share.

The audit's target in words, the confidence level, the note of a run not audited,
an estimate with its interval (and the range of the worlds pooled), and the note of a
part that shows one world of several.
"""

from __future__ import annotations

from collections.abc import Callable

from audits.report.inputs import ReportInputs
from audits.report.page import (
    Html,
    join,
    note,
    tag,
)
from audits.report.text import (
    interval,
    pct,
    plural,
)

SYNTHETIC_NOTE = (
    "Every person, family, address, name and identifier in this report is synthetic: "
    "made up by a simulation. No real person is described. Names are shown only to "
    "make the case files readable; they were drawn at random from lists of common "
    "names."
)


def target_words(inputs: ReportInputs) -> str:
    """The audit's target as an adjective: "in need" or "harmed"."""
    return "in need" if inputs.scenario.audit.target == "eligible" else "harmed"


def target_families(inputs: ReportInputs) -> str:
    """The families in the audit's target, in words."""
    return (
        "families in need"
        if inputs.scenario.audit.target == "eligible"
        else "harmed families"
    )


def confidence_level(inputs: ReportInputs) -> str:
    """The intervals' confidence level, such as "95%"."""
    return f"{inputs.scenario.audit.confidence:.0%}"


def no_audit() -> Html:
    """The note a section shows when the run was not audited."""
    return note("This run was not audited, so this section is empty.", kind="warning")


def with_interval(
    estimate: object, low: object, high: object, fmt: Callable[[object], str] = pct
) -> Html:
    """An estimate with its interval underneath, in smaller type."""
    return join([fmt(estimate), tag("span", interval(low, high, fmt), class_="ci")], "")


def worlds(inputs: ReportInputs) -> int:
    """How many simulated worlds the audit pools (1 without replicates)."""
    return 1 if inputs.audit is None else len(inputs.audit.worlds)


def with_worlds(
    estimate: object,
    low: object,
    high: object,
    world_low: object,
    world_high: object,
    fmt: Callable[[object], str] = pct,
) -> Html:
    """An estimate, its interval, and the smallest to largest value in one world."""
    return join(
        [
            with_interval(estimate, low, high, fmt),
            tag("span", f"worlds {interval(world_low, world_high, fmt)}", class_="ci"),
        ],
        "",
    )


def one_world_note(inputs: ReportInputs, what: str, why: str) -> list[Html]:
    """Say plainly that ``what`` shows the first of several worlds, and why.

    A list to unpack into a section's parts: empty with one world, so a run without
    replicates renders exactly as it always did.
    """
    n = worlds(inputs)
    if n <= 1:
        return []
    return [
        note(
            f"{what} the first of the {plural(n, 'simulated world')} pooled "
            f"elsewhere in this report: {why}."
        )
    ]
