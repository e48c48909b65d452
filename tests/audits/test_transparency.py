"""Transparency records (ATRS): every field present, values from the run, same bytes.

One small run through the command line, then each kind of audit of it (``audit
RUN_DIR``, ``audit --scores``, ``audit --table``); every record is checked against
the standard's field list, the owner-only fields, and the tables the audit wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audits.atrs import ATRS_SECTIONS, OWNER_ONLY, SIMULATION_ONLY
from audits.transparency import NOT_KNOWN
from audits.transparency_files import JSON_FILE, MARKDOWN_FILE
from simulator.cli import main
from tests.stubs import stub_reports

KINDS = ("run", "audit of a run", "audit of a score file", "audit of a table")
REPORTS_READ = ("run", "audit of a table")
"""The outputs whose report.html is read (the others' pages are not drawn)."""


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, seed) -> dict[str, Path]:
    """A run, its re-audit, an audit of a score file and a table audit, twice each."""
    tmp = tmp_path_factory.mktemp("transparency")
    scenario = tmp / "s.yaml"
    scenario.write_text(
        f"name: atrs\nseed: {seed}\npopulation: {{n_households: 1000, "
        "households_per_area: 250}\naudit: {n_boot: 50, min_group_size: 0}\n",
        encoding="utf-8",
    )
    out = {"run": tmp / "run"}
    assert main(["run", str(scenario), "-o", str(out["run"]), "-q"]) == 0
    flags = pd.read_parquet(out["run"] / "flags.parquet")
    scores = tmp / "scores.csv"
    flags[["spine_household_id", "score"]].to_csv(scores, index=False)
    rng = np.random.default_rng(seed)
    table = tmp / "table.csv"
    pd.DataFrame(
        {
            "score": rng.random(400).round(4),
            "label": rng.integers(0, 2, 400),
            "area": rng.choice(["north", "south", "east"], 400),
        }
    ).to_csv(table, index=False)
    commands = {
        "audit of a run": ["audit", str(out["run"]), "--flag", "top_percent=5"],
        "audit of a score file": [
            "audit",
            "--scores",
            str(scores),
            "--truth",
            str(out["run"]),
        ],
        "audit of a table": [
            "audit",
            "--table",
            str(table),
            "--label",
            "label",
            "--score",
            "score",
            "--flag",
            "threshold=0.7",
            "--group",
            "area",
            "--n-boot",
            "50",
        ],
    }
    for kind, args in commands.items():
        for copy in ("", " again"):
            out[kind + copy] = tmp / f"{kind}{copy}".replace(" ", "_")
            with pytest.MonkeyPatch.context() as patch:
                if kind + copy not in REPORTS_READ:
                    stub_reports(patch)  # records and tables only are read
                assert main([*args, "-o", str(out[kind + copy])]) == 0
    return out


def record(directory: Path) -> dict:
    return json.loads((directory / JSON_FILE).read_text(encoding="utf-8"))


def fields(rec: dict) -> dict[str, dict]:
    return {f"{s['key']}.{f['field']}": f for s in rec["sections"] for f in s["fields"]}


@pytest.mark.parametrize("kind", KINDS)
def test_every_atrs_field_is_present_in_order(outputs, kind):
    rec = record(outputs[kind])
    assert rec["kind"] == kind
    assert [s["key"] for s in rec["sections"]] == [s[0] for s in ATRS_SECTIONS]
    for section, spec in zip(rec["sections"], ATRS_SECTIONS, strict=True):
        assert section["tier"] == spec[1] and section["title"] == spec[2]
        assert [(f["ref"], f["field"], f["name"]) for f in section["fields"]] == list(
            spec[3]
        )
        for f in section["fields"]:
            assert f["status"] in ("filled", NOT_KNOWN)
            assert (f["value"] is None) == (f["status"] == NOT_KNOWN)
            assert f.get("source") or f.get("why")
    markdown = (outputs[kind] / MARKDOWN_FILE).read_text(encoding="utf-8")
    for _, _, _, specs in ATRS_SECTIONS:
        for ref, field, name in specs:
            assert f"### {ref} {name} (`{field}`)" in markdown


@pytest.mark.parametrize("kind", KINDS)
def test_owner_only_fields_are_marked_not_known(outputs, kind):
    by_name = fields(record(outputs[kind]))
    for name in OWNER_ONLY:
        assert by_name[name]["status"] == NOT_KNOWN, name
        assert "owns" in by_name[name]["why"]
    filled = {n for n, f in by_name.items() if f["status"] == "filled"}
    if kind == "audit of a table":
        # The simulation-only fields say what the table does not tell.
        assert not filled & set(SIMULATION_ONLY)
        assert "the table holds outcomes" in by_name["tier_1.name"]["why"]
    else:
        assert filled == set(by_name) - set(OWNER_ONLY)


@pytest.mark.parametrize("kind", ["run", "audit of a run", "audit of a score file"])
def test_a_run_says_it_is_synthetic(outputs, kind):
    rec = record(outputs[kind])
    assert rec["synthetic"] is True
    assert "synthetic" in rec["notice"] and "real people" in rec["notice"]
    assert rec["notice"] in (outputs[kind] / MARKDOWN_FILE).read_text(encoding="utf-8")


def test_a_table_record_claims_nothing_synthetic(outputs):
    rec = record(outputs["audit of a table"])
    assert rec["synthetic"] is False and "synthetic" not in rec["notice"]


def test_run_values_match_the_scenario_and_the_rule(outputs):
    run = fields(record(outputs["run"]))
    scenario = json.loads((outputs["run"] / "scenario.json").read_text("utf-8"))
    model = scenario["model"]
    assert model["kind"] == "criteria"
    assert run["tool_specification.model_name"]["value"] == "criteria model"
    arch = run["tool_specification.model_architecture"]["value"]
    assert arch["indicators"] == model["indicators"]
    inputs = run["tool_specification.model_input"]["value"]
    assert len(inputs) == len(model["indicators"])
    for indicator, events in model["indicators"].items():
        line = next(i for i in inputs if i.startswith(indicator.replace("_", " ")))
        assert all(e in line for e in events["events"])
    rule = run["tool_specification.model_output"]["value"]["flag_rule"]
    assert rule == {"threshold": float(model["min_problems"])}
    manifest = json.loads((outputs["run"] / "manifest.json").read_text("utf-8"))
    seeds = run["tool_specification.model_version"]["value"]["seeds"]
    assert {k: seeds[k] for k in manifest["seeds"]} == manifest["seeds"]
    quality = pd.read_csv(outputs["run"] / "linkage" / "quality.csv")
    completeness = run["tool_specification.data_completeness_and_representativeness"][
        "value"
    ]
    assert completeness["false_links"] == quality["n_false"].iloc[0]
    assert completeness["missed_links"] == quality["n_missed"].iloc[0]
    for name, rows in run["tool_specification.data_quantities"]["value"].items():
        assert rows == len(pd.read_parquet(outputs["run"] / f"records/{name}.parquet"))
    for columns in run["tool_specification.data_description"]["value"].values():
        assert not any(c.startswith(("true_", "err_")) for c in columns)


def test_a_reaudit_records_the_rule_it_used(outputs):
    audit = fields(record(outputs["audit of a run"]))
    output = audit["tool_specification.model_output"]["value"]
    assert output["flag_rule"] == {"top_percent": 5.0}
    scores = fields(record(outputs["audit of a score file"]))
    assert scores["tool_specification.model_name"]["value"] == (
        "scores read from scores.csv"
    )
    table = fields(record(outputs["audit of a table"]))
    assert table["tool_specification.model_output"]["value"]["flag_rule"] == {
        "threshold": 0.7
    }


@pytest.mark.parametrize("kind", KINDS)
def test_error_rates_equal_the_audit_tables(outputs, kind):
    audit_dir = outputs[kind] / "audit" if kind == "run" else outputs[kind]
    perf = fields(record(outputs[kind]))["tool_specification.model_performance"]
    value = perf["value"]
    for name, stem in (("overall", "rates_overall"), ("by_group", "disparities")):
        written = pd.read_csv(audit_dir / f"{stem}.csv")
        got = pd.DataFrame(value[name]["rows"], columns=value[name]["columns"])
        assert len(got) == len(written) > 0
        for column in ("estimate", "ci_low", "ci_high"):
            np.testing.assert_allclose(
                got[column].astype(float), written[column], rtol=1e-12
            )
        if name == "by_group":
            assert (got["metric"] == written["metric"]).all()
            assert (got["value"].astype(str) == written["value"].astype(str)).all()
            np.testing.assert_allclose(
                got["ratio_to_ref"].astype(float), written["ratio_to_ref"]
            )


@pytest.mark.parametrize("kind", KINDS[1:])
def test_same_audit_same_bytes(outputs, kind):
    for name in (JSON_FILE, MARKDOWN_FILE):
        a = (outputs[kind] / name).read_bytes()
        assert a == (outputs[f"{kind} again"] / name).read_bytes()


@pytest.mark.parametrize("kind", REPORTS_READ)
def test_the_report_shows_the_record(outputs, kind):
    html = (outputs[kind] / "report.html").read_text(encoding="utf-8")
    assert 'id="transparency"' in html
    assert "2.1.3 Senior responsible owner" in html
    assert "2.4.4.7 Model performance" in html


@pytest.mark.parametrize("kind", KINDS)
def test_the_manifest_lists_the_record(outputs, kind):
    manifest = json.loads((outputs[kind] / "manifest.json").read_text("utf-8"))
    assert {JSON_FILE, MARKDOWN_FILE} <= set(manifest["files"])
