"""One audit of one run: the metrics and the disparities, with what produced them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from audits.disparity import Disparities, disparities
from audits.metrics import AuditMetrics, audit_metrics
from audits.score_diagnostics import ScoreDiagnostics, score_diagnostics
from simulator.errors import InputDataError
from simulator.schema.audit import GroupAudit


@dataclass(frozen=True)
class AuditResult:
    """Everything one audit produced.

    Attributes
    ----------
    config : GroupAudit
        The audit section used (a run's :class:`~simulator.schema.audit.AuditConfig`,
        or a table's :class:`~simulator.schema.table_audit.TableAudit`).
    seed : int
        The seed of the bootstrap streams.
    metrics : AuditMetrics
        Counts and rates overall and by group (fairlearn's ``MetricFrame``).
    disparities : Disparities
        Rates against reference groups with bootstrap intervals.
    outcomes : DataFrame or None
        The audited table, one row per true household, if kept.
    scenario : dict or None
        The resolved scenario (``Scenario.model_dump(mode="json")``), if known.
    seeds : dict
        Seeds of the stages that produced the flags (from the pipeline).
    source : dict or None
        What was audited when it is not a run: a table's file, format, rows,
        columns and what was tolerated in it (:func:`audits.table.audit_table`).
    replicates : tuple of AuditResult
        With ``audit.replicates`` R > 1, the audits of replicates 1 to R - 1 (this
        result is replicate 0): the headline and the pooled tables pool them with
        this one (:mod:`audits.pooled`). Empty otherwise.
    scores : ScoreDiagnostics or None
        ROC AUC, calibration and threshold curves by group, when the audited rows
        have a ``score`` column with at least one score
        (:mod:`audits.score_diagnostics`); None for decisions without scores.
    link_quality : DataFrame or None
        This world's link quality by source and group (``linkage/quality_by_group``,
        :func:`audits.link_quality.by_source_and_group`), for a headline on a
        linkage metric (:mod:`audits.headline`); None if the audit has no links.
    """

    config: GroupAudit
    seed: int
    metrics: AuditMetrics
    disparities: Disparities
    outcomes: pd.DataFrame | None = None
    scenario: dict[str, Any] | None = None
    seeds: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] | None = None
    replicates: tuple[AuditResult, ...] = field(default=(), compare=False, repr=False)
    scores: ScoreDiagnostics | None = field(default=None, compare=False, repr=False)
    link_quality: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    @property
    def worlds(self) -> tuple[AuditResult, ...]:
        """Replicate 0 (this audit) and the other replicates, in order."""
        return (self, *self.replicates)


def run_audit(
    outcomes: pd.DataFrame,
    config: GroupAudit,
    *,
    seed: int,
    weight: str | None = None,
    scenario: dict[str, Any] | None = None,
    seeds: dict[str, Any] | None = None,
    keep_outcomes: bool = True,
    source: dict[str, Any] | None = None,
) -> AuditResult:
    """Audit one run's outcomes: metrics by group and disparities with intervals.

    Parameters
    ----------
    outcomes : DataFrame
        One row per true household (:func:`audits.outcomes.household_outcomes`,
        built with ``target=config.target``).
    config : GroupAudit
        The scenario's audit section (or a table audit's settings).
    seed : int
        Seed of the bootstrap (e.g. the pipeline's ``audit`` stage seed).
    weight : str, optional
        A column of row weights (:func:`audits.disparity.disparities`).
    scenario : dict, optional
        The resolved scenario, recorded in the summary.
    seeds : dict, optional
        Seeds of earlier stages, recorded in the summary.
    keep_outcomes : bool
        Keep the outcomes table in the result (it is written as Parquet).
    source : dict, optional
        What was audited, if not a run (recorded in the summary).

    Returns
    -------
    AuditResult

    Raises
    ------
    InputDataError
        If ``outcomes`` has no households.
    """
    if len(outcomes) == 0:
        raise InputDataError("outcomes table has no households to audit")
    metrics = audit_metrics(
        outcomes,
        group_columns=config.group_columns,
        intersections=config.intersections,
        weight=weight,
    )
    return AuditResult(
        config=config,
        seed=int(seed),
        metrics=metrics,
        disparities=disparities(outcomes, config, seed, weight),
        outcomes=outcomes if keep_outcomes else None,
        scenario=scenario,
        seeds=dict(seeds or {}),
        source=source,
        scores=_score_diagnostics(outcomes, config, weight),
    )


def _score_diagnostics(
    outcomes: pd.DataFrame, config: GroupAudit, weight: str | None
) -> ScoreDiagnostics | None:
    """The score's diagnostics by group, if the rows have scores."""
    if "score" not in outcomes:
        return None
    if not pd.to_numeric(outcomes["score"], errors="coerce").notna().any():
        return None
    target = getattr(config, "target", "y_true")
    return score_diagnostics(
        outcomes, config.column_sets(), target=target, weight=weight
    )
