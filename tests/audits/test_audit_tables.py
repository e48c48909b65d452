"""Audit outputs: tidy tables, a strict-JSON summary, atomic and reproducible files."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from audittools import random_outcomes

from audits.errors import AuditWarning
from audits.result import run_audit
from audits.tables import (
    OUTCOMES,
    SUMMARY,
    audit_summary,
    audit_tables,
    write_audit,
    write_audit_files,
)
from simulator.errors import InputDataError, OutputError
from simulator.io import MANIFEST
from simulator.schema.audit import AuditConfig


def _strict(text: str):
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_files_are_tidy_tables_and_a_summary(tmp_path, result):
    rows = write_audit_files(result, tmp_path / "audit")
    for stem, table in audit_tables(result).items():
        back = pd.read_parquet(tmp_path / "audit" / f"{stem}.parquet")
        pd.testing.assert_frame_equal(back, table, check_dtype=False)
        csv = pd.read_csv(tmp_path / "audit" / f"{stem}.csv")
        assert list(csv.columns) == list(table.columns)
        assert len(csv) == len(table) == rows[f"{stem}.csv"]
    assert rows[OUTCOMES] == len(result.outcomes)
    summary = _strict((tmp_path / "audit" / SUMMARY).read_text(encoding="utf-8"))
    assert summary == _strict(json.dumps(audit_summary(result)))


def test_summary_holds_scenario_seeds_versions_and_headlines(result):
    summary = audit_summary(result)
    assert summary["scenario"] == {"name": "test", "seed": result.seed}
    assert summary["seeds"]["audit"] == result.seed
    assert summary["seeds"]["bootstrap"]["n_boot"] == result.config.n_boot
    assert set(summary["versions"]) >= {"numpy", "pandas", "linkaudit"}
    overall = result.metrics.overall.iloc[0]
    head = summary["headline"]
    assert head["families"] == overall["n"]
    assert head["families_flagged"] == overall["n_flagged"]
    assert head["wrongly_flagged"] == overall["fp"]
    assert head["precision"]["estimate"] == pytest.approx(overall["precision"])
    assert (
        head["precision"]["ci_low"]
        <= overall["precision"]
        <= head["precision"]["ci_high"]
    )
    dep = head["comparison"]
    row = result.disparities.table.query(
        "group == 'imd_quintile' and value == '1' and metric == 'fpr'"
    ).iloc[0]
    assert (dep["grouping"], dep["group"], dep["reference"]) == (
        "imd_quintile",
        "1",
        "5",
    )
    # one world: the headline is the disparity table's row, interval and all
    assert dep["ratio"] == pytest.approx(row["ratio_to_ref"])
    assert dep["ratio_ci_low"] == pytest.approx(row["ratio_ci_low"])
    assert dep["ratio_ci_high"] == pytest.approx(row["ratio_ci_high"])
    assert dep["difference"] == pytest.approx(row["diff_to_ref"])
    assert dep["difference_ci_low"] == pytest.approx(row["diff_ci_low"])
    assert dep["difference_ci_high"] == pytest.approx(row["diff_ci_high"])
    assert dep["group_rate"]["ci_low"] == pytest.approx(row["ci_low"])
    assert dep["ratio_undefined_resamples"] == row["ratio_boot_undefined"]
    assert head["replicates"] == 1


def test_undefined_figures_are_null_in_the_summary(seed):
    outcomes = random_outcomes(500, seed).assign(flagged=False)
    config = AuditConfig(group_columns=("tenure",), intersections=(), n_boot=10)
    audit = run_audit(outcomes, config, seed=seed)
    summary = audit_summary(audit)
    _strict(json.dumps(summary))
    assert summary["headline"]["precision"]["estimate"] is None
    assert summary["headline"]["comparison"] is None


def test_write_audit_is_atomic_reproducible_and_refuses_to_overwrite(tmp_path, seed):
    outcomes = random_outcomes(2000, seed)
    config = AuditConfig(n_boot=50, min_group_size=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AuditWarning)
        audit = run_audit(outcomes, config, seed=seed)
    a = write_audit(audit, tmp_path / "a")
    b = write_audit(audit, tmp_path / "b")
    files = sorted(p.name for p in a.iterdir())
    assert MANIFEST in files and SUMMARY in files
    assert files == sorted(p.name for p in b.iterdir())
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    with pytest.raises(OutputError, match="already exists"):
        write_audit(audit, a)
    write_audit(audit, a, overwrite=True)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_an_empty_outcomes_table_is_refused():
    outcomes = random_outcomes(10, 0).iloc[:0]
    with pytest.raises(InputDataError, match="no households"):
        run_audit(outcomes, AuditConfig(), seed=0)


def test_outcomes_can_be_left_out(tmp_path, outcomes, config):
    audit = run_audit(outcomes, config, seed=1, keep_outcomes=False)
    rows = write_audit_files(audit, tmp_path)
    assert OUTCOMES not in rows and not (tmp_path / OUTCOMES).exists()
    assert np.isfinite(audit.disparities.table["estimate"]).any()
