"""Phrases several sections share.

The audit's target in words, the confidence level, the note of a run not audited,
an estimate with its interval.
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
