"""The pages and records a command wrote, as the console lines that point to them.

``linkaudit run`` and every ``linkaudit audit`` end by naming what a reader opens:
the lesson (when written, first), the report, and the transparency record
(``transparency.md``, with ``transparency.json`` beside it; docs/transparency.md).
One function, so every command names its outputs the same way.
"""

from __future__ import annotations

from pathlib import Path

from audits.transparency_files import JSON_FILE, MARKDOWN_FILE

READER_FILES = (
    ("lesson", "lesson.html"),
    ("report", "report.html"),
    ("transparency", MARKDOWN_FILE),
)
"""The files a reader opens, in the order they are named: label and file name."""


def reader_lines(out: Path) -> list[str]:
    """``label: path`` for each of :data:`READER_FILES` that ``out`` holds.

    The transparency line also names the JSON record beside the Markdown one.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ("report.html", "transparency.md", "transparency.json"):
    ...         _ = (Path(tmp) / name).write_text("")
    ...     for line in reader_lines(Path(tmp)):  # doctest: +ELLIPSIS
    ...         print(line)
    report: .../report.html
    transparency: .../transparency.md (and transparency.json)
    """
    lines = []
    for label, name in READER_FILES:
        path = out / name
        if not path.exists():
            continue
        also = f" (and {JSON_FILE})" if (out / JSON_FILE).exists() else ""
        lines.append(f"{label}: {path}{also if name == MARKDOWN_FILE else ''}")
    return lines
