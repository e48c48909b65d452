"""An audit as tidy tables (CSV and Parquet) and a JSON summary.

:func:`write_audit_files` writes into a directory the caller owns (the pipeline's
temporary run directory); :func:`write_audit` writes a standalone audit directory
atomically, with ``manifest.json`` last. Files:

``metrics_overall``, ``metrics_by_group``
    :class:`audits.metrics.AuditMetrics` (``.csv`` and ``.parquet``).
``rates_overall``, ``disparities``, ``fairness``
    :class:`audits.disparity.Disparities` (``.csv`` and ``.parquet``).
``outcomes.parquet``
    One row per true household, if the result kept it.
``summary.json``
    The scenario, the audit section, every seed, package versions and headline
    figures (NaN written as null). Equal inputs give byte-identical files.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audits.disparity import comparison
from audits.result import AuditResult
from simulator.io import write_json, write_manifest, write_parquet
from simulator.output_dirs import atomic_directory
from simulator.world.generate import package_versions

SUMMARY = "summary.json"
OUTCOMES = "outcomes.parquet"
DEPRIVATION = ("imd_quintile", "imd_decile")
"""Groupings searched, in order, for the most vs least deprived headline."""
MOST_DEPRIVED = "1"
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
    """The audit's tidy tables, by file stem.

    Parameters
    ----------
    result : AuditResult

    Returns
    -------
    dict of str to DataFrame
    """
    d = result.disparities
    return {
        "metrics_overall": result.metrics.overall,
        "metrics_by_group": result.metrics.by_group,
        "rates_overall": d.overall,
        "disparities": d.table,
        "fairness": d.fairness,
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


def _rate(result: AuditResult, metric: str) -> dict[str, Any]:
    row = result.disparities.overall.set_index("metric").loc[metric]
    return {k: row[k] for k in ("estimate", "ci_low", "ci_high")}


def deprivation_headline(result: AuditResult) -> dict[str, Any] | None:
    """The false positive rate of the most deprived group against the reference.

    Parameters
    ----------
    result : AuditResult

    Returns
    -------
    dict or None
        From the first of ``imd_quintile``, ``imd_decile`` audited: the grouping,
        the most deprived value (1), the reference (by default the least deprived
        present), the ratio and difference with their intervals; None if neither is
        audited.
    """
    table = result.disparities.table
    for grouping in DEPRIVATION:
        row = comparison(table, grouping, MOST_DEPRIVED, "fpr")
        if row is not None:
            return {
                "grouping": grouping,
                "group": MOST_DEPRIVED,
                "reference": row["reference"],
                "fpr": row["estimate"],
                "ratio": row["ratio_to_ref"],
                "ratio_ci_low": row["ratio_ci_low"],
                "ratio_ci_high": row["ratio_ci_high"],
                "difference": row["diff_to_ref"],
                "difference_ci_low": row["diff_ci_low"],
                "difference_ci_high": row["diff_ci_high"],
                "confidence": result.config.confidence,
            }
    return None


def audit_summary(result: AuditResult) -> dict[str, Any]:
    """The JSON summary: scenario, audit section, seeds, versions and headlines.

    Parameters
    ----------
    result : AuditResult

    Returns
    -------
    dict
        JSON-able (no NaN: undefined figures are None).
    """
    overall = result.metrics.overall.iloc[0]
    headline = {
        "target": result.config.target,
        "families": int(overall["n"]),
        "families_in_target": int(overall["n_positive"]),
        "families_flagged": int(overall["n_flagged"]),
        "wrongly_flagged": int(overall["fp"]),
        "missed": int(overall["fn"]),
        "wrongly_flagged_per_10k": _rate(result, "wrongly_flagged_per_10k"),
        "precision": _rate(result, "precision"),
        "tpr": _rate(result, "tpr"),
        "fpr": _rate(result, "fpr"),
        "fpr_most_vs_least_deprived": deprivation_headline(result),
    }
    summary = {
        "scenario": result.scenario,
        "audit": result.config.model_dump(mode="json"),
        "seeds": {
            **result.seeds,
            "audit": result.seed,
            "bootstrap": result.disparities.seeds,
        },
        "versions": package_versions(VERSIONED),
        "headline": headline,
        "warnings": list(result.disparities.warnings),
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
    result: AuditResult, out_dir: str | Path, *, overwrite: bool = False
) -> Path:
    """Write the audit into ``out_dir`` atomically, ``manifest.json`` last.

    Parameters
    ----------
    result : AuditResult
    out_dir : str or Path
        The directory to create (or replace, with ``overwrite``).
    overwrite : bool
        Replace an existing directory.

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
        write_manifest(
            tmp,
            {
                "kind": "linkaudit audit (synthetic people only)",
                "rows": rows,
                "versions": package_versions(VERSIONED),
            },
        )
    return out_dir
