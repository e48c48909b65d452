"""What the report reads: plain tables and results, not the pipeline's ``Run``.

The pipeline builds a :class:`ReportInputs` from its run in memory
(:func:`simulator.pipeline.output.report_inputs`) or from a run directory's files
(:func:`simulator.pipeline.output.report_inputs_from_files`); anything else that
holds the same tables (a grid point of an explorer) can build one too. The report
imports no pipeline module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from audits.link_quality import LinkQuality
    from audits.pooled_attribution import PooledAttribution
    from audits.report.page import Html
    from audits.result import AuditResult
    from audits.run_tables import RunTables
    from simulator.schema.scenario import Scenario


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report shows, and nothing it does not.

    Attributes
    ----------
    scenario : Scenario
        The resolved scenario.
    tables : RunTables
        The run's truth (areas, households, people), every agency's records with
        their hidden truth (``true_*``, ``err_*``), the council's register (spine),
        links and flags (one row per register household: score, flag and the
        features that drove it): read a few households' rows or a batch at a time,
        from memory or from a run's files (:mod:`audits.run_tables`).
    link_quality : LinkQuality
        The links measured against the truth.
    audit : AuditResult or None
        Flags against the truth, by group (None: the sections say it was not audited).
    attribution : PooledAttribution or None
        Why each wrong flag happened (None: not asked for).
    seeds : mapping of str to int
        The seed of every stage that draws at random.
    transparency : mapping or None
        The run's transparency record (:func:`audits.transparency.run_record`), the
        same one written as transparency.json (None: the section says none was made).
    link_quality_worlds : tuple of LinkQuality
        With replicate worlds, the link quality of worlds 1, 2, ... (pooled with
        ``link_quality``, world 0's, in the linkage section); empty otherwise.
    periods : mapping of str to DataFrame
        With ``dynamics.periods`` > 1, the tables of :mod:`audits.periods`
        (the "Over time" section); empty for a single run, whose report has no
        such section.
    drawn : mapping of str to Html
        Sections already drawn from these inputs elsewhere (on another process:
        :func:`~audits.report.sections.draw_sections`), by anchor: used as they
        are, and looked up only once every other section is drawn here. Not part
        of what the report shows.
    ahead : mapping of str to object
        The costly part of a section computed ahead of the report from the part of
        these inputs it reads (:data:`~audits.report.sections.AHEAD`), by anchor:
        used as it is. Not part of what the report shows.
    """

    scenario: Scenario
    tables: RunTables
    link_quality: LinkQuality
    audit: AuditResult | None = None
    attribution: PooledAttribution | None = None
    seeds: Mapping[str, int] = field(default_factory=dict)
    transparency: Mapping[str, Any] | None = None
    link_quality_worlds: tuple[LinkQuality, ...] = ()
    periods: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    drawn: Mapping[str, Html] = field(default_factory=dict, compare=False, repr=False)
    ahead: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
