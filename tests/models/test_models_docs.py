"""The Python examples of docs/models.md run (in order, in one namespace)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "models.md"


def test_the_examples_in_the_models_page_run(monkeypatch, tmp_path, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks, "docs/models.md has no runnable example"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "docs_models_example"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    assert namespace["flags"].any()
    assert "spine_household_id" in capsys.readouterr().out
