"""An audit as tidy tables (CSV and Parquet) and a JSON summary.

:func:`write_audit_files` writes into a directory the caller owns (the pipeline's
temporary run directory); :func:`write_audit` writes a standalone audit directory
atomically, with ``manifest.json`` last. Files:

``metrics_overall``, ``metrics_by_group``
    :class:`audits.metrics.AuditMetrics` (``.csv`` and ``.parquet``).
``rates_overall``, ``disparities``, ``fairness``
    :class:`audits.disparity.Disparities` (``.csv`` and ``.parquet``).

With replicate worlds every table is pooled over them, with intervals across worlds
and the spread between them (:func:`audits.pooled_tables.pooled_audit`).
``score_auc``, ``calibration``, ``threshold_curves``
    The score's diagnostics by group, when the audited rows have scores
    (:mod:`audits.score_diagnostics`; replicate 0's, the world whose scores are
    kept; a run writes every world's to ``audit/replicates/``,
    :func:`audits.replicates.score_tables`).
``outcomes.parquet``
    One row per true household, if the result kept it.
``summary.json``
    The scenario, the audit section, every seed, package versions and headline
    figures (NaN written as null). Equal inputs give byte-identical files.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audits.confusion import RATES
from audits.headline import headline, headline_spec, question_of
from audits.metrics import OVERALL
from audits.pooled import Pooled, pool
from audits.pooled_tables import pooled_audit
from audits.result import AuditResult
from simulator.io import write_json, write_manifest, write_parquet
from simulator.output_dirs import atomic_directory
from simulator.world.generate import package_versions

SUMMARY = "summary.json"
OUTCOMES = "outcomes.parquet"
REPLICATE_OUTCOMES = "replicates/outcomes_{replicate}.parquet"
"""Where a run keeps replicate world ``replicate``'s (1, 2, ...) outcomes, under its
audit directory; world 0's are :data:`OUTCOMES`."""
VERSIONED = (
    "linkaudit",
    "numpy",
    "pandas",
    "pyarrow",
    "pydantic",
    "scipy",
    "scikit-learn",
    "splink",
    "duckdb",
    "faker",
    "skops",
)
"""Packages whose versions the summary records (:func:`package_versions`)."""


def audit_tables(result: AuditResult) -> dict[str, pd.DataFrame]:
    """The audit's tidy tables, by file stem, pooled over its replicate worlds.

    Parameters
    ----------
    result : AuditResult

    Returns
    -------
    dict of str to DataFrame
        The tables of :func:`audits.pooled_tables.pooled_audit` (the result's own
        with one world), then the score's diagnostics if there are scores.
    """
    pooled = pooled_audit(result)
    d = pooled.disparities
    return {
        "metrics_overall": pooled.metrics.overall,
        "metrics_by_group": pooled.metrics.by_group,
        "rates_overall": d.overall,
        "disparities": d.table,
        "fairness": d.fairness,
        **({} if result.scores is None else result.scores.tables()),
    }


def _json_safe(value: Any) -> Any:
    """Plain JSON values: NaN and infinities become None, numpy scalars Python."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rate(pooled: Pooled, metric: str) -> dict[str, Any]:
    """An overall rate pooled over the worlds, its interval and each world's own."""
    m = RATES.index(metric)
    out = {k: getattr(pooled, k)[m, 0] for k in ("estimate", "ci_low", "ci_high")}
    if pooled.replicates > 1:
        out["per_replicate"] = pooled.per_replicate_estimate[:, m, 0].tolist()
    return out


def _count(value: Any) -> int | float:
    """A count as an int; a weighted count (a sum of weights) as a float."""
    return int(value) if float(value).is_integer() else float(value)


def deprivation_headline(result: AuditResult) -> dict[str, Any] | None:
    """The headline comparison, pooled over the result's replicate worlds.

    Parameters
    ----------
    result : AuditResult
        Replicate 0, with the other replicates' audits in ``replicates``.

    Returns
    -------
    dict or None
        :func:`audits.headline.headline` of the scenario's question
        (``audit.headline``), by default the false positive rate of the most
        deprived group against the reference (from the first of ``imd_quintile``,
        ``imd_decile`` audited); None if it cannot be computed.
    """
    return headline(result.worlds)


def headline_block(result: AuditResult) -> dict[str, Any]:
    """The summary's ``spec`` and ``comparison``: the question and its figure.

    ``spec`` names the comparison (:meth:`HeadlineConfig.described`, with
    ``default: true`` when the scenario names none); ``unavailable`` says why a
    figure could not be computed, so a question is never silently dropped.
    """
    spec = headline_spec(result)
    if spec is None:
        return {"spec": None, "comparison": None}
    described = spec.described() | {"default": question_of(result) is None}
    comparison = deprivation_headline(result)
    out: dict[str, Any] = {"spec": described, "comparison": comparison}
    if comparison is None:
        out["unavailable"] = (
            "this audit has no links to judge (a score file's audit)"
            if spec.is_linkage and result.link_quality is None
            else f"no family in group {spec.group} of {spec.grouping}, or in its "
            "reference group, was audited"
        )
    return out


def audit_summary(result: AuditResult) -> dict[str, Any]:
    """The JSON summary: scenario, audit section, seeds, versions and headlines.

    Parameters
    ----------
    result : AuditResult

    Returns
    -------
    dict
        JSON-able (no NaN: undefined figures are None). The headline counts are
        replicate 0's; its rates and its ``comparison`` (:func:`deprivation_headline`)
        are pooled over every replicate world, with intervals across worlds; so are
        the ``warnings`` (the small-group warning once, on the pooled families) and
        the ``tables`` (rows of each file written).
    """
    overall = result.metrics.overall.iloc[0]
    overall_rates = pool(
        [w.disparities.counts[OVERALL] for w in result.worlds],
        result.config.confidence,
    )
    headline = {
        "target": result.config.target,
        "families": _count(overall["n"]),
        "families_in_target": _count(overall["n_positive"]),
        "families_flagged": _count(overall["n_flagged"]),
        "wrongly_flagged": _count(overall["fp"]),
        "missed": _count(overall["fn"]),
        "wrongly_flagged_per_10k": _rate(overall_rates, "wrongly_flagged_per_10k"),
        "precision": _rate(overall_rates, "precision"),
        "tpr": _rate(overall_rates, "tpr"),
        "fpr": _rate(overall_rates, "fpr"),
        "replicates": len(result.worlds),
        **headline_block(result),
    }
    summary = {
        **({} if result.source is None else {"source": result.source}),
        "scenario": result.scenario,
        "audit": result.config.model_dump(mode="json"),
        "seeds": {
            **result.seeds,
            "audit": result.seed,
            "bootstrap": result.disparities.seeds,
        },
        "versions": package_versions(VERSIONED),
        "headline": headline,
        "warnings": list(pooled_audit(result).disparities.warnings),
        "tables": {stem: len(t) for stem, t in audit_tables(result).items()},
    }
    return _json_safe(summary)


def write_audit_files(result: AuditResult, directory: str | Path) -> dict[str, int]:
    """Write the audit's tables and summary into ``directory`` (not atomic).

    Parameters
    ----------
    result : AuditResult
    directory : str or Path
        Created if absent; callers wanting atomicity pass a temporary directory
        (:func:`simulator.output_dirs.atomic_directory`).

    Returns
    -------
    dict of str to int
        Rows of each file written, by path relative to ``directory``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rows = {}
    for stem, table in audit_tables(result).items():
        write_parquet(table, directory / f"{stem}.parquet")
        table.to_csv(directory / f"{stem}.csv", index=False)
        rows[f"{stem}.parquet"] = rows[f"{stem}.csv"] = len(table)
    if result.outcomes is not None:
        write_parquet(result.outcomes, directory / OUTCOMES)
        rows[OUTCOMES] = len(result.outcomes)
    write_json(audit_summary(result), directory / SUMMARY)
    rows[SUMMARY] = 1
    return rows


def write_audit(
    result: AuditResult,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    kind: str = "linkaudit audit (synthetic people only)",
    extra: Callable[[Path], dict[str, int]] | None = None,
) -> Path:
    """Write the audit into ``out_dir`` atomically, ``manifest.json`` last.

    Parameters
    ----------
    result : AuditResult
    out_dir : str or Path
        The directory to create (or replace, with ``overwrite``).
    overwrite : bool
        Replace an existing directory.
    kind : str
        What the directory is, for its manifest.
    extra : callable, optional
        Writes more files (a report) into the temporary directory before the
        manifest; returns their rows by relative path.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    simulator.errors.OutputError
        If ``out_dir`` exists and ``overwrite`` is False.
    """
    out_dir = Path(out_dir)
    with atomic_directory(out_dir, overwrite=overwrite) as tmp:
        rows = write_audit_files(result, tmp)
        if extra is not None:
            rows.update(extra(tmp))
        write_manifest(
            tmp,
            {
                "kind": kind,
                "rows": rows,
                "versions": package_versions(VERSIONED),
            },
        )
    return out_dir
