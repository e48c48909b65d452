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
from dataclasses import dataclass, replace
from typing import Any

from audits.report.cases import case_files as cases_of  # not the section module
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
EVERY_WORLDS_FAMILIES = frozenset({"thresholds", "scores"})
"""The sections that read every world's families (each world's audit outcomes)."""
FIRST_WORLDS_FAMILIES = EVERY_WORLDS_FAMILIES | {"cases"}
"""The sections that read the first world's families (``audit.outcomes``)."""
ATTRIBUTION_READERS = frozenset({"causes", "cases"})
"""The sections that read the attribution: the others can be drawn before it is."""
ATTRIBUTION_FAMILIES = frozenset({"cases"})
"""The sections that read the attribution's families (``attribution.households``)."""
AHEAD: dict[str, Callable[[ReportInputs], Any]] = {"cases": cases_of}
"""The costly part of a section that reads only the first world (its families, its
attribution's families, the run's tables) and nothing pooled over the worlds, by
anchor: computed ahead (:func:`ahead_of`) from inputs that hold world 0 alone, as
soon as they exist, and given to the report as ``inputs.ahead``."""
FIRST_WORLD_SECTIONS = frozenset({"population"})
"""The sections that read only the run's tables (the first world's files), nothing
pooled over the worlds and no attribution: drawn whole ahead, from inputs that hold
world 0 alone (:meth:`~simulator.pipeline.output.ReportMeanwhile.first_world`), the
bodies the whole inputs would give."""


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


def ahead_of(inputs: ReportInputs) -> dict[str, Any]:
    """The costly parts of :data:`AHEAD`, by anchor, from ``inputs``.

    World 0's inputs (no replicates, world 0's attribution alone) give the parts
    the run's whole inputs would.
    """
    return {anchor: part(inputs) for anchor, part in AHEAD.items()}


def inputs_for(inputs: ReportInputs, anchors: Collection[str]) -> ReportInputs:
    """``inputs`` with only the per-household tables the sections ``anchors`` read.

    What a process drawing only those sections is sent (:func:`draw_sections`):
    every world's families, the attribution's and every link's quality are most of
    the inputs' memory (about 0.55 GiB at 1,000,000 households, held by the sender
    too), and most sections read none of them. The sections drawn from it are
    those drawn from ``inputs``; nothing drawn elsewhere comes along.
    """
    from audits.pooled_links import tables_only

    wanted = set(anchors)
    audit = inputs.audit
    if audit is not None:
        every = bool(wanted & EVERY_WORLDS_FAMILIES)
        audit = replace(
            audit,
            outcomes=audit.outcomes if wanted & FIRST_WORLDS_FAMILIES else None,
            replicates=tuple(
                world if every else replace(world, outcomes=None)
                for world in audit.replicates
            ),
        )
    attribution = inputs.attribution
    if attribution is not None and not wanted & ATTRIBUTION_FAMILIES:
        attribution = (
            replace(attribution, households=attribution.households.iloc[:0])
            if wanted & ATTRIBUTION_READERS
            else None
        )
    return replace(
        inputs,
        audit=audit,
        attribution=attribution,
        link_quality=tables_only(inputs.link_quality),
        drawn={},
        ahead={k: v for k, v in inputs.ahead.items() if k in wanted},
    )


__all__ = [
    "AHEAD",
    "ATTRIBUTION_READERS",
    "FIRST_WORLD_SECTIONS",
    "PERIODS",
    "SECTIONS",
    "Section",
    "ahead_of",
    "build_sections",
    "draw_sections",
    "glance",
    "inputs_for",
    "sections_of",
]
