"""Write a transparency record (:mod:`audits.transparency`) as JSON and Markdown.

``transparency.json`` is the record itself (sorted keys, NaN as null);
``transparency.md`` the same fields as a document, section by section, in the
standard's order. Both are plain functions of the record, so the same run writes the
same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulator.io import write_json

JSON_FILE = "transparency.json"
MARKDOWN_FILE = "transparency.md"


def _cell(value: Any) -> str:
    """A table cell: numbers to four significant figures, ``|`` escaped."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def _markdown_table(table: dict[str, Any]) -> list[str]:
    head = table["columns"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in table["rows"]]
    return ["", *lines, ""]


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"columns", "rows"}


def value_lines(value: Any, indent: str = "") -> list[str]:
    """A field's value as Markdown lines: text, bullets, nested bullets, tables."""
    if _is_table(value):
        return _markdown_table(value)
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            label = key.replace("_", " ")
            if isinstance(item, dict | list):
                lines.append(f"{indent}- {label}:")
                lines += value_lines(item, indent + "  ")
            else:
                lines.append(f"{indent}- {label}: {_cell(item)}")
        return lines
    if isinstance(value, list):
        return [f"{indent}- {_cell(v)}" for v in value]
    return [f"{indent}{_cell(value)}"]


def record_markdown(record: dict[str, Any]) -> str:
    """The record as one Markdown document."""
    standard = record["standard"]
    lines = [
        f"# Transparency record: {record['sections'][0]['fields'][0]['value']}",
        "",
        f"> {record['notice']}",
        "",
        f"Fields of the {standard['name']}, version {standard['version']} "
        f"({standard['url']}). Kind: {record['kind']}. A field marked *not known* "
        "is one this record cannot fill, with the reason.",
    ]
    for section in record["sections"]:
        lines += ["", f"## {section['tier']}: {section['title']}"]
        for field in section["fields"]:
            heading = f"### {field['ref']} {field['name']} (`{field['field']}`)"
            lines += ["", heading, ""]
            if field["status"] == "filled":
                lines += value_lines(field["value"])
                lines += ["", f"*Source: {field['source']}.*"]
            else:
                lines.append(f"*Not known.* {field['why']}")
    return "\n".join(lines) + "\n"


def write_transparency(record: dict[str, Any], directory: str | Path) -> dict[str, int]:
    """Write ``transparency.json`` and ``transparency.md`` into ``directory``.

    Returns
    -------
    dict of str to int
        Rows of each file written (1 each), by name, for the manifest.
    """
    directory = Path(directory)
    write_json(record, directory / JSON_FILE)
    (directory / MARKDOWN_FILE).write_text(
        record_markdown(record), encoding="utf-8", newline="\n"
    )
    return {JSON_FILE: 1, MARKDOWN_FILE: 1}
