"""A transparency record of a run or an audit, in the fields of the UK's ATRS.

The Algorithmic Transparency Recording Standard (ATRS, version 3.0; GOV.UK,
https://www.gov.uk/government/collections/algorithmic-transparency-recording-standard-hub)
asks public bodies to publish, for each algorithmic tool, a metadata section, a
Tier 1 overview for the public and five Tier 2 sections for specialists (owner and
responsibility; description and rationale; decision-making process; tool
specification; risks, mitigations and impact assessments). :mod:`audits.atrs` lists
those sections and their fields with the standard's numbers and names.

:func:`run_record` fills them from what a run or an audit of a run already holds
(the scenario, the flag rule, the audit result, the link quality, the agencies'
records); :func:`table_record` from an audit of a table
(:func:`audits.table.audit_table`). A field only the tool's owner can fill (owner,
contact, human oversight, procurement, ...) is present and marked not known, and so,
for a table, is a field only a simulation knows (how records were linked, the model
and its features). The record is a plain, JSON-able dict; the same run gives the same
record (no clock is read). :mod:`audits.transparency_files` writes it as
``transparency.json`` and ``transparency.md``; the reports show it
(:mod:`audits.report.sections.transparency`). docs/transparency.md explains every
field and its source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from audits.atrs import ATRS_SECTIONS, OWNER_ONLY, SIMULATION_ONLY, STANDARD
from audits.disparity import OVERALL_COLUMNS, TABLE_COLUMNS
from audits.pooled_links import pool_quality, rate_range
from audits.pooled_tables import pooled_audit
from audits.report.describe import flag_rule_text, linkage_text, model_text
from audits.report.text import TARGET_LABELS, group_label
from audits.tables import VERSIONED, _json_safe
from simulator.schema.model import FlagRule
from simulator.vocabulary import is_hidden
from simulator.world.generate import package_versions, records_file

if TYPE_CHECKING:
    from audits.link_quality import LinkQuality
    from audits.result import AuditResult
    from audits.run_tables import Shaped
    from simulator.schema.scenario import Scenario

NOT_KNOWN = "not known"
"""The ``status`` of a field the record cannot fill."""
OWNER_WHY = (
    "Not known to the simulation: only the organisation that owns and uses a tool "
    "can give this. The tool here is synthetic (a simulated council), so nobody "
    "owns it."
)
TABLE_WHY = (
    "Not known to linkaudit: the table holds outcomes, {decisions} and groups only; "
    "the organisation that owns the tool can give this."
)
SYNTHETIC_NOTICE = (
    "This record describes a simulation. The council, the tool, its data and every "
    "person and family in them are synthetic, made by linkaudit from a scenario "
    "and a seed; nothing here is about real people or a real organisation."
)
TABLE_NOTICE = (
    "This record describes an audit by linkaudit of a table given to it: the "
    "decisions and outcomes in that table, judged by group. linkaudit knows only "
    "what the table holds; every other field is marked not known."
)


def filled(value: Any, source: str) -> dict[str, Any]:
    """A field the record fills: its value and where the value comes from."""
    return {"status": "filled", "value": value, "source": source}


def not_known(why: str) -> dict[str, Any]:
    """A field the record cannot fill, and why."""
    return {"status": NOT_KNOWN, "value": None, "why": why}


def assemble(
    kind: str, notice: str, synthetic: bool, values: Mapping[str, dict[str, Any]]
) -> dict[str, Any]:
    """The record: every ATRS section and field in order, each from ``values``.

    ``values`` holds a field's entry by ``section.field``; a field missing from it
    is a programming error (every field of the standard must be present).
    """
    sections = []
    for key, tier, title, fields in ATRS_SECTIONS:
        sections.append(
            {
                "key": key,
                "tier": tier,
                "title": title,
                "fields": [
                    {"ref": ref, "field": field, "name": name}
                    | values[f"{key}.{field}"]
                    for ref, field, name in fields
                ],
            }
        )
    return _json_safe(
        {
            "standard": STANDARD,
            "kind": kind,
            "synthetic": synthetic,
            "notice": notice,
            "sections": sections,
        }
    )


def _table(frame: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """A table as plain lists: ``columns`` and ``rows``."""
    present = [c for c in columns if c in frame.columns]
    return {
        "columns": present,
        "rows": frame[present].astype(object).to_numpy().tolist(),
    }


BOOKKEEPING = ("boot_undefined", "is_reference")
"""Columns of the audit's tables the record leaves out (resamples undefined, flags)."""
RATE_COLUMNS = [c for c in OVERALL_COLUMNS if not c.endswith(BOOKKEEPING)]
"""The columns of ``rates_overall`` the record keeps."""
GROUP_COLUMNS = [c for c in TABLE_COLUMNS if not c.endswith(BOOKKEEPING)]
"""The columns of ``disparities`` the record keeps."""


def performance(result: AuditResult, target: str) -> dict[str, Any]:
    """Error rates overall and by group with intervals: the audit's pooled tables.

    The rows are those of ``rates_overall`` and ``disparities`` as the audit writes
    them (:func:`audits.tables.audit_tables`), pooled over replicate worlds.
    """
    pooled = pooled_audit(result)
    config = result.config
    return {
        "judged_against": target,
        "confidence": config.confidence,
        "bootstrap_resamples": config.n_boot,
        "worlds": len(result.worlds),
        "overall": _table(pooled.disparities.overall, RATE_COLUMNS),
        "by_group": _table(pooled.disparities.table, GROUP_COLUMNS),
        "warnings": list(pooled.disparities.warnings),
    }


def _features(scenario: Scenario) -> list[str]:
    """The model's inputs in words, one per feature or indicator."""
    m = scenario.model
    if m.kind == "criteria":
        return [
            f"{name.replace('_', ' ')}: any of {', '.join(ind.events)}"
            + (" or persistent school absence" if ind.persistent_absence else "")
            for name, ind in m.indicators
        ]
    if m.kind == "scorecard":
        return [f"{i.feature}: {i.points:g} points" for i in m.items]
    if m.kind == "learned":
        return list(m.features or ["every column of the council's view (view.parquet)"])
    return ["not known: the external model's inputs are its own"]


def _linkage(scenario: Scenario) -> dict[str, Any]:
    """How records are linked to the register: the method and its settings."""
    link = scenario.linkage
    settings: Any = {"method": link.method}
    if link.method == "deterministic":
        settings["match_keys"] = [
            f"{k.name}: {', '.join(k.columns)}" for k in link.deterministic.keys
        ]
        settings["ties"] = link.deterministic.ties
    elif link.method == "splink":
        settings["match_threshold"] = link.splink.match_threshold
        settings["comparisons"] = [c.column for c in link.splink.comparisons]
    return {"in_words": linkage_text(scenario), **settings}


def _data_fields(sources: Mapping[str, Shaped]) -> dict[str, list[str]]:
    """The fields the council sees in each agency's records (no hidden truth)."""
    return {
        name: [c for c in frame.columns if not is_hidden(c)]
        for name, frame in sorted(sources.items())
    }


def _link_quality(
    quality: LinkQuality | None, others: Sequence[LinkQuality] = ()
) -> dict[str, Any]:
    """Linkage measured against the simulated truth, or where to find it.

    With replicate worlds (``others``) the counts are summed over every world and
    the recall is that of the sums (:func:`audits.pooled_links.pool_quality`, as
    the report and the console pool them), with one world's smallest and largest
    precision and recall beside them.
    """
    if quality is None:
        return filled(
            "Not measured by this audit: the run's linkage/quality.csv measures its "
            "links against the simulated truth.",
            "the audit",
        )
    worlds = (quality, *others)
    pooled = pool_quality(worlds)
    overall = pooled.overall.iloc[0]
    by_source = pooled.by_source.reset_index()
    value: dict[str, Any] = {
        "records_linked": int(overall["n_linked"]),
        "records_linkable": int(overall["n_linkable"]),
        "false_links": int(overall["n_false"]),
        "missed_links": int(overall["n_missed"]),
        "by_source": _table(
            by_source,
            ["source", "n_records", "n_linked", "n_false", "n_missed", "recall"],
        ),
    }
    source = "linkage/quality (links measured against the simulated truth)"
    if others:
        spread = rate_range(worlds)
        value["note"] = (
            f"Pooled over {len(worlds)} simulated worlds: every count is summed over "
            "the worlds and recall is that of the summed counts. One world's "
            f"precision ranged {spread.at['precision', 'min']:.4f} to "
            f"{spread.at['precision', 'max']:.4f}, recall "
            f"{spread.at['recall', 'min']:.4f} to {spread.at['recall', 'max']:.4f}."
        )
        source = (
            f"link quality of the run's {len(worlds)} worlds, pooled (the linkage/ "
            "files hold the first world's)"
        )
    return filled(value, source)


def _owner_fields(why: str) -> dict[str, dict[str, Any]]:
    return {name: not_known(why) for name in OWNER_ONLY}


def run_record(
    scenario: Scenario,
    audit: AuditResult | None,
    sources: Mapping[str, Shaped],
    *,
    rule: FlagRule | None = None,
    link_quality: LinkQuality | None = None,
    link_quality_worlds: Sequence[LinkQuality] = (),
    kind: str = "run",
    scores_file: str | None = None,
) -> dict[str, Any]:
    """The transparency record of a run, or of an audit of a run's flags or scores.

    Parameters
    ----------
    scenario : Scenario
        The resolved scenario (with an audit's ``--set`` overrides).
    audit : AuditResult or None
        The audit (None: the performance fields say it was not audited).
    sources : mapping of str to DataFrame or TableShape
        Every agency's records (only their names, sizes and visible columns are read:
        a run's files give their :class:`~audits.run_tables.TableShape`).
    rule : FlagRule, optional
        The flag rule used; default the scenario model's.
    link_quality : LinkQuality, optional
        The links measured against the truth (a run has it; an audit does not).
    link_quality_worlds : sequence of LinkQuality
        The other replicate worlds' (a run with ``audit.replicates`` > 1): the
        record's link quality is then pooled over every world.
    kind : str
        ``run``, ``audit of a run`` or ``audit of a score file``.
    scores_file : str, optional
        The score file audited (``audit --scores``): the model is then the file's.

    Returns
    -------
    dict
        JSON-able; see :func:`assemble`.
    """
    rule = rule or scenario.model.flag_rule()
    target = TARGET_LABELS.get(scenario.audit.target, scenario.audit.target)
    records = _data_fields(sources)
    model = f"{scenario.model.kind} model"
    if scores_file is not None:
        model = f"scores read from {Path(scores_file).name}"
    # Over 80 lines: one entry per ATRS field, in the standard's order, so the
    # literal reads as the record; splitting it would scatter the fields.
    values = _owner_fields(OWNER_WHY) | {
        "metadata.title": filled(
            f"{scenario.name}: a simulated council's family flags (linkaudit)",
            "scenario.name",
        ),
        "metadata.function": filled(
            "Children and families (simulated): finding families for targeted "
            "support from linked agency records",
            "linkaudit",
        ),
        "tier_1.name": filled(f"Simulated council family flag ({model})", "scenario"),
        "tier_1.description": filled(
            " ".join(filter(None, [scenario.description.strip(), SYNTHETIC_NOTICE])),
            "scenario.description",
        ),
        "description_and_rationale.detailed_description": filled(
            f"{linkage_text(scenario)} {model_text(scenario)}"
            + (
                f" In this audit the scores come from {Path(scores_file).name}."
                if scores_file
                else ""
            ),
            "scenario.linkage, scenario.model",
        ),
        "description_and_rationale.scope": filled(
            f"Every household on the simulated council's register is scored and "
            f"flagged or not; flags are judged against whether the family is "
            f"{target}.",
            "scenario.audit.target",
        ),
        "decision_making_process.provided_information": filled(
            "For each household on the council's register: a score, a 0/1 flag, its "
            "rank and the features that drove the score (flags.parquet).",
            "flags.parquet",
        ),
        "decision_making_process.frequency_and_scale_of_usage": _scale(audit),
        "tool_specification.system_architecture": filled(
            [
                "Agencies' records of a synthetic population (records/*.parquet)",
                "Linked to the council's register (spine.parquet): "
                + linkage_text(scenario),
                "Summarised per household into the council's view (view.parquet)",
                f"Scored by the {model}; {flag_rule_text(rule)} (flags.parquet)",
                "Audited against the simulated truth (audit/)",
            ],
            "the pipeline's stages",
        ),
        "tool_specification.phase": filled(
            "Not deployed: a simulation made by linkaudit.", "linkaudit"
        ),
        "tool_specification.maturity": filled(
            "A teaching and auditing simulation, not a tool in use.", "linkaudit"
        ),
        "tool_specification.model_name": filled(model, "scenario.model.kind"),
        "tool_specification.model_version": filled(
            {
                "software": package_versions(VERSIONED),
                "seeds": {**(audit.seeds if audit else {}), "scenario": scenario.seed}
                | ({"audit": audit.seed} if audit else {}),
            },
            "installed package versions; the run's seeds",
        ),
        "tool_specification.model_task": filled(
            f"Score each household on the register and flag those the rule picks, "
            f"to find families who are {target}.",
            "scenario.model, scenario.audit.target",
        ),
        "tool_specification.model_input": filled(
            _features(scenario), "scenario.model (features, items or indicators)"
        ),
        "tool_specification.model_output": filled(
            {
                "score": "one number per household; higher is riskier",
                "flag_rule": rule.model_dump(mode="json", exclude_none=True),
                "in_words": f"The tool {flag_rule_text(rule)}.",
            },
            "the flag rule (scenario.model.flag, or --flag)",
        ),
        "tool_specification.model_architecture": filled(
            scenario.model.model_dump(mode="json", exclude={"flag"}), "scenario.model"
        ),
        "tool_specification.model_performance": (
            filled(performance(audit, target), "audit/rates_overall, audit/disparities")
            if audit is not None
            else not_known("The run was not audited.")
        ),
        "tool_specification.datasets": filled(
            [records_file(name) for name in records]
            + ["spine.parquet", "view.parquet", "truth/ (the simulated truth)"],
            "the run directory",
        ),
        "tool_specification.dataset_purposes": filled(
            (
                ["training: a separately simulated history cohort's observed label"]
                if scenario.model.kind == "learned"
                else []
            )
            + [
                "scoring: the council's view of the linked records",
                "evaluation: the simulated truth (never seen by the council)",
            ],
            "scenario.model.kind",
        ),
        "tool_specification.source_data_name": filled(list(records), "records/"),
        "tool_specification.data_modality": filled("Tabular", "linkaudit"),
        "tool_specification.data_description": filled(records, "records/ columns"),
        "tool_specification.data_quantities": filled(
            {name: len(sources[name]) for name in records}, "records/ rows"
        ),
        "tool_specification.sensitive_attributes": filled(
            {
                "audited_by": [group_label(c) for c in scenario.audit.group_columns],
                "note": "The groups are the simulated truth's; the model's inputs "
                "are listed under model input.",
            },
            "scenario.audit.group_columns",
        ),
        "tool_specification.data_completeness_and_representativeness": _link_quality(
            link_quality, link_quality_worlds
        ),
        "tool_specification.source_data_url": filled(
            "None: the data are generated by the simulation.", "linkaudit"
        ),
        "tool_specification.data_collection": filled(
            f"Generated by linkaudit from scenario {scenario.name!r} and seed "
            f"{scenario.seed}: a synthetic population and the records agencies "
            "keep of it, with simulated errors.",
            "scenario",
        ),
        "tool_specification.data_cleaning": filled(
            _linkage(scenario), "scenario.linkage"
        ),
        "risks_mitigations_and_impact_assessments.risks": filled(
            _risks(audit), "linkaudit; the audit's warnings"
        ),
    }
    return assemble(kind, SYNTHETIC_NOTICE, True, values)


def _scale(audit: AuditResult | None) -> dict[str, Any]:
    if audit is None:
        return not_known("The run was not audited.")
    o = audit.metrics.overall.iloc[0]
    n = len(audit.worlds)
    note = "One run of the tool on one simulated council."
    if n > 1:
        note = (
            f"Counts of the first of the run's {n} simulated worlds, each one "
            f"council's run of the tool; the error rates are pooled over all {n}."
        )
    return filled(
        {"scored": o["n"], "flagged": o["n_flagged"], "note": note},
        "audit/metrics_overall",
    )


RISKS = (
    "Synthetic data: every figure describes the simulated council, not a real one.",
    "The results follow from the scenario's assumptions (how visible each family's "
    "needs are to agencies, how often records are wrong); see docs/methodology.md.",
    "Linkage errors move events between families: a missed link hides an event, a "
    "false link adds another family's.",
    "Intervals cover sampling (bootstrap over households, or spread across "
    "replicate worlds), not errors in the assumptions.",
)
"""Known limitations of every run."""


def _risks(audit: AuditResult | None) -> list[str]:
    warnings = list(pooled_audit(audit).disparities.warnings) if audit else []
    return [*RISKS, *(f"Audit warning: {w}" for w in warnings)]


def table_record(result: AuditResult) -> dict[str, Any]:
    """The transparency record of a table audit (:func:`audits.table.audit_table`).

    Only what the table holds is filled: the outcome and decisions, the groups and
    the audit's error rates. The owner's fields and the simulation's (the tool's
    name, its model, features and data) say the table does not tell.
    """
    config, source = result.config, result.source or {}
    flagged = getattr(config, "flagged", None)
    score = getattr(config, "score", None)
    decisions = f"decisions (column {flagged!r})" if flagged else f"scores ({score!r})"
    why = TABLE_WHY.format(decisions=decisions)
    file = source.get("file") or "a table given in Python"
    # Over 80 lines for the same reason as run_record: one entry per field.
    values = (
        _owner_fields(why)
        | {name: not_known(why) for name in SIMULATION_ONLY}
        | {
            "metadata.title": filled(f"Audit of {Path(file).name}", "the table"),
            "description_and_rationale.scope": filled(
                f"The {source.get('rows', 0)} rows of {file}, judged against column "
                f"{config.target!r}.",
                "the table",
            ),
            "decision_making_process.provided_information": filled(
                decisions, "the audit's options"
            ),
            "decision_making_process.frequency_and_scale_of_usage": _scale(result),
            "tool_specification.model_version": filled(
                {
                    "tool": "not known: the table does not tell",
                    "audit_software": package_versions(VERSIONED),
                    "audit_seed": result.seed,
                },
                "installed package versions; the audit's seed",
            ),
            "tool_specification.model_output": filled(
                _table_output(config), "the audit's options"
            ),
            "tool_specification.model_performance": filled(
                performance(result, f"column {config.target!r} = 1"),
                "rates_overall, disparities",
            ),
            "tool_specification.source_data_name": filled(file, "the table"),
            "tool_specification.data_modality": filled("Tabular", "the table"),
            "tool_specification.data_description": filled(
                {
                    "outcome": config.target,
                    "decisions": flagged or score,
                    "groups": list(config.group_columns),
                    "weight": getattr(config, "weight", None),
                },
                "the audit's options",
            ),
            "tool_specification.data_quantities": filled(
                {"rows": source.get("rows")}, "the table"
            ),
            "tool_specification.sensitive_attributes": filled(
                {"audited_by": list(config.group_columns)}, "--group"
            ),
            "tool_specification.data_completeness_and_representativeness": filled(
                list(source.get("notes", [])) or ["No problems noted in the table."],
                "what the table's reader tolerated",
            ),
            "risks_mitigations_and_impact_assessments.risks": filled(
                [
                    "The audit judges decisions only against the outcomes in the "
                    "table: an outcome that is itself biased gives biased rates.",
                    *(
                        f"Audit warning: {w}"
                        for w in pooled_audit(result).disparities.warnings
                    ),
                ],
                "the audit's warnings",
            ),
        }
    )
    return assemble("audit of a table", TABLE_NOTICE, False, values)


def _table_output(config: Any) -> dict[str, Any]:
    """How a table's scores became flags (or that the table held the flags)."""
    if getattr(config, "flagged", None):
        return {"flags": f"0/1 decisions in column {config.flagged!r}"}
    rule = config.flag
    return {
        "score": f"column {config.score!r}",
        "flag_rule": rule.model_dump(mode="json", exclude_none=True),
        "in_words": f"The audit {flag_rule_text(rule)}.",
    }
