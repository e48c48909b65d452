"""The report's sections, in order, one module per concept; one function per section.

Each section function takes the :class:`~audits.report.inputs.ReportInputs` and
returns escaped markup (:class:`~audits.report.page.Html`). Sections whose input is
missing (no audit, no attribution) say so instead of failing. Modules:
:mod:`~.setting` (the scenario, the population), :mod:`~.linkage`, :mod:`~.flags`
(the headline numbers and the rates by group), :mod:`~.causes` (the attribution),
:mod:`~.thresholds`, :mod:`~.scores` (AUC and calibration by group),
:mod:`~.periods` (over time: only for a run over several periods),
:mod:`~.case_files`, :mod:`~.transparency` (the ATRS record), :mod:`~.reference`
(glossary, about) and
:mod:`~.common` (phrases they share).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from audits.report.inputs import ReportInputs
from audits.report.page import Html, contents, join, section
from audits.report.sections.case_files import cases_section
from audits.report.sections.causes import attribution_section
from audits.report.sections.flags import flags_section, glance
from audits.report.sections.linkage import linkage_section
from audits.report.sections.periods import has_periods, periods_section
from audits.report.sections.reference import about_section, glossary_section
from audits.report.sections.scores import run_score_section
from audits.report.sections.setting import population_section, scenario_section
from audits.report.sections.thresholds import threshold_section
from audits.report.sections.transparency import transparency_section


@dataclass(frozen=True)
class Section:
    """One section of the report: its anchor, heading and builder."""

    anchor: str
    title: str
    build: Callable[[ReportInputs], Html]


SECTIONS = (
    Section("scenario", "The scenario in words", scenario_section),
    Section("population", "The population", population_section),
    Section("linkage", "Linking the records", linkage_section),
    Section("flags", "Who was flagged, and who wrongly", flags_section),
    Section(
        "causes", "Why families were wrongly flagged or missed", attribution_section
    ),
    Section("thresholds", "What other cuts would do", threshold_section),
    Section("scores", "How well the score ranks, by group", run_score_section),
    Section("cases", "Case files: families behind the numbers", cases_section),
    Section("transparency", "Transparency record (ATRS)", transparency_section),
    Section("glossary", "Glossary", glossary_section),
    Section("about", "About this run", about_section),
)
"""The report's sections, in order."""
PERIODS = Section("periods", "Over time: period by period", periods_section)
"""Shown after :data:`SECTIONS`' ``causes`` only for a run over several periods."""


def sections_of(inputs: ReportInputs) -> tuple[Section, ...]:
    """The sections of this report: :data:`SECTIONS`, with :data:`PERIODS` if any."""
    if not has_periods(inputs):
        return SECTIONS
    at = next(i for i, s in enumerate(SECTIONS) if s.anchor == "causes") + 1
    return (*SECTIONS[:at], PERIODS, *SECTIONS[at:])


def build_sections(inputs: ReportInputs) -> Html:
    """Every section, with a table of contents.

    Sections drawn elsewhere (``inputs.drawn``) are used as they are, and looked up
    last: every other section is drawn here first, while they are being drawn.
    """
    shown = sections_of(inputs)
    toc = contents((s.anchor, s.title) for s in shown)
    here = {s.anchor: s.build(inputs) for s in shown if s.anchor not in inputs.drawn}
    bodies = [
        here[s.anchor] if s.anchor in here else inputs.drawn[s.anchor] for s in shown
    ]
    return join(
        [
            toc,
            *(
                section(s.anchor, s.title, b)
                for s, b in zip(shown, bodies, strict=True)
            ),
        ]
    )


def draw_sections(inputs: ReportInputs, anchors: Collection[str]) -> dict[str, Html]:
    """The bodies of the report's sections named by ``anchors``, by anchor.

    Each section is a pure function of the inputs, so a part of the report drawn
    here, in any process, is the part :func:`build_sections` would draw.
    """
    return {
        s.anchor: s.build(inputs) for s in sections_of(inputs) if s.anchor in anchors
    }


__all__ = [
    "PERIODS",
    "SECTIONS",
    "Section",
    "build_sections",
    "draw_sections",
    "glance",
    "sections_of",
]
