"""Every audit path writes report.html, with the score's diagnostics where there are
scores and, without simulated truth, the sections it cannot have said in words."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audits.report import REPORT
from audits.report.audit_page import RUN_NOT_HERE, SCORES_NOT_HERE
from audits.report.sections.scores import no_scores
from audits.report.table_page import NOT_AVAILABLE
from simulator.cli import main
from simulator.pipeline.output import write_run
from simulator.pipeline.run import Run

SCORE_FILES = ("score_auc", "calibration", "threshold_curves")


def text_of(path: Path) -> str:
    """The report's visible text, one space between words."""
    page = path.read_text(encoding="utf-8")
    page = re.sub(r"<svg.*?</svg>", " ", page, flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture(scope="module")
def run_dir(report_run: Run, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(report_run, tmp_path_factory.mktemp("audits") / "run")


def test_write_run_writes_the_report(run_dir):
    """(Here, not in test_report.py, to share this module's written run.)"""
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rows"][REPORT] == 1
    assert (run_dir / REPORT).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_runs_report_and_audit_have_the_score_diagnostics(run_dir):
    page = text_of(run_dir / "report.html")
    assert "How well the score ranks, by group" in page
    assert "Area under the ROC curve, by group" in page
    for stem in SCORE_FILES:
        table = pd.read_parquet(run_dir / "audit" / f"{stem}.parquet")
        assert len(table) and (run_dir / "audit" / f"{stem}.csv").is_file()


def test_a_reaudit_of_a_run_writes_its_report(run_dir, tmp_path, capsys):
    out = tmp_path / "harm"
    code = main(["audit", str(run_dir), "-o", str(out), "--set", "audit.target=harm"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert printed.out.splitlines()[-2:] == [
        f"report: {out / 'report.html'}",
        f"transparency: {out / 'transparency.md'} (and transparency.json)",
    ]
    page = text_of(out / "report.html")
    assert "What this report cannot show" in page
    for title, why in RUN_NOT_HERE:
        assert f"{title}: {why}." in page
    assert "Outcome judged against: harm" in page
    assert "Area under the ROC curve, by group" in page
    for stem in SCORE_FILES:
        assert (out / f"{stem}.csv").is_file()


def test_an_audit_of_a_score_file_writes_its_report(run_dir, tmp_path, capsys):
    flags = pd.read_parquet(run_dir / "flags.parquet")
    scores = tmp_path / "scores.csv"
    rng = np.random.default_rng(0)
    flags.assign(score=rng.random(len(flags)))[["spine_household_id", "score"]].to_csv(
        scores, index=False
    )
    out = tmp_path / "vendor"
    args = ["audit", "--scores", str(scores), "--truth", str(run_dir), "-o", str(out)]
    assert main([*args, "--flag", "top_percent=10"]) == 0, capsys.readouterr().err
    page = text_of(out / "report.html")
    for title, why in SCORES_NOT_HERE:
        assert f"{title}: {why}." in page
    assert "flags the 10% of households with the highest scores" in page
    auc = pd.read_csv(out / "score_auc.csv")
    defined = auc["auc"].notna()
    assert auc.loc[defined, "auc"].between(0, 1).all()
    assert auc.loc[~defined, "note"].str.startswith("undefined: every row").all()
    assert defined[auc["group"] == "overall"].all()


def test_a_table_audit_writes_its_report_with_or_without_scores(tmp_path, capsys):
    rng = np.random.default_rng(1)
    n = 400
    table = pd.DataFrame(
        {
            "score": rng.random(n),
            "label": (rng.random(n) < 0.3).astype(int),
            "area": rng.choice(["north", "south"], n),
        }
    )
    table.loc[table["area"] == "south", "label"] = 0  # one class: no AUC
    table["decision"] = (table["score"] > 0.7).astype(int)
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    common = ["audit", "--table", str(path), "--label", "label", "--group", "area"]
    scored, decided = tmp_path / "scored", tmp_path / "decided"
    code = main(
        [*common, "--score", "score", "--flag", "threshold=0.7", "-o", str(scored)]
    )
    assert code == 0, capsys.readouterr().err
    assert main([*common, "--flagged", "decision", "-o", str(decided)]) == 0
    page = text_of(scored / "report.html")
    assert "undefined: every row in this group has label = 0" in page
    for title, why in NOT_AVAILABLE:
        assert f"{title}: {why}." in page
    plain = text_of(decided / "report.html")
    assert " ".join(str(no_scores("rows")).replace("<p>", "").split()[:6]) in plain
    assert not (decided / "score_auc.csv").exists()
