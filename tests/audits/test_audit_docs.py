"""docs/audit.md: every Python block runs and prints the text block that follows it."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def test_the_audit_page_runs_as_written():
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    namespace: dict = {}
    checked = 0
    for i, (lang, code) in enumerate(blocks):
        if lang != "python":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{DOC.name} block {i}", "exec"), namespace)
        if i + 1 < len(blocks) and blocks[i + 1][0] == "text":
            assert _normalise(out.getvalue()) == _normalise(blocks[i + 1][1]), (
                f"block {i} printed:\n{out.getvalue()}"
            )
            checked += 1
    assert checked >= 4
