"""The examples of docs/own-model.md run, in order: Python blocks and commands."""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

from simulator.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "own-model.md"
BLOCK = re.compile(r"```(python|sh)\n(.*?)```", re.S)


def _commands(block: str) -> list[list[str]]:
    """The ``linkaudit`` commands of a shell block (an env prefix is dropped)."""
    out = []
    for line in block.replace("\\\n", " ").splitlines():
        words = shlex.split(line)
        while words and "=" in words[0] and not words[0].startswith("-"):
            words = words[1:]  # PYTHONPATH=. and the like: the test's path has it
        if words and words[0] == "linkaudit":
            out.append(words[1:])
    return out


def test_the_examples_in_the_own_model_page_run(
    tmp_path, monkeypatch, capsys, no_report
):
    """Every block runs and writes its tables. The four commands' reports are not
    drawn (``no_report``: about 30 CPU s, read by nothing here); an outside model's
    report is drawn in the library's ``vendor-audit`` smoke run, and a score file's
    audit page in tests/report/test_audit_reports.py."""
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert sum(kind == "python" for kind, _ in blocks) >= 4
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    monkeypatch.setattr(sys, "path", list(sys.path))  # the page inserts its cwd
    namespace: dict = {"__name__": "docs_own_model_example"}
    commands = 0
    try:
        for kind, text in blocks:
            if kind == "python":
                exec(compile(text, str(DOC), "exec"), namespace)
                continue
            for args in _commands(text):
                assert main(args) == 0, args
                commands += 1
    finally:
        sys.modules.pop("my_models", None)
    assert commands == 4
    out = tmp_path / "out"
    for run in ("police-and-care", "council", "fitted"):
        assert (out / run / "audit" / "summary.json").exists(), run
    summary = json.loads((out / "vendor-audit" / "summary.json").read_text())
    assert summary["headline"]["families_flagged"] > 0
    flags = json.loads((out / "police-and-care" / "manifest.json").read_text())
    assert flags["model"] == "external"
    assert "spine_household_id" in capsys.readouterr().out
