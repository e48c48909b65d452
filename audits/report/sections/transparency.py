"""The transparency record section: the run's or audit's ATRS record, as HTML.

The record is plain data (:func:`audits.transparency.run_record` or
:func:`~audits.transparency.table_record`), built by whoever writes the report and
handed in (``ReportInputs.transparency``, or the table report's ``transparency``
argument); the same record is written beside the report as ``transparency.json``
and ``transparency.md``. This module only renders it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audits.report.inputs import ReportInputs
from audits.report.page import Html, join, note, p, table, tag, ul
from audits.report.text import num

BIG_TABLE = 12
"""Tables longer than this are folded away (``<details>``)."""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else num(value, 4)
    return str(value)


def _is_table(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"columns", "rows"}


def value_html(value: Any) -> Html:
    """A field's value: text, a list, a nested list of ``key: value``, a table."""
    if _is_table(value):
        columns = value["columns"]
        numeric = [
            i
            for i, _ in enumerate(columns)
            if value["rows"] and isinstance(value["rows"][0][i], int | float)
        ]
        shown = table(
            columns,
            [[_cell(v) for v in row] for row in value["rows"]],
            numeric=numeric,
        )
        if len(value["rows"]) <= BIG_TABLE:
            return shown
        return tag(
            "details", join([tag("summary", f"{len(value['rows'])} rows"), shown])
        )
    if isinstance(value, Mapping):
        return ul(
            join([f"{k.replace('_', ' ')}: ", value_html(v)], "")
            for k, v in value.items()
        )
    if isinstance(value, list):
        return ul(value_html(v) for v in value)
    return Html(tag("span", _cell(value)))


def record_html(record: Mapping[str, Any]) -> Html:
    """A transparency record: its notice, then every section's fields in order."""
    standard = record["standard"]
    parts: list[object] = [
        note(p(record["notice"]), kind="synthetic" if record["synthetic"] else "note"),
        p(
            f"The fields of the {standard['name']}, version {standard['version']}, "
            f"published on GOV.UK, filled from this {record['kind']}. A field marked "
            "not known is one only the tool's owner can fill, with the reason. The "
            "same record is beside this file as transparency.json and "
            "transparency.md (with the standard's address).",
        ),
    ]
    for section in record["sections"]:
        rows = []
        for field in section["fields"]:
            rows.append(tag("dt", f"{field['ref']} {field['name']}"))
            if field["status"] == "filled":
                rows.append(tag("dd", value_html(field["value"])))
            else:
                rows.append(tag("dd", tag("em", f"Not known. {field['why']}")))
        parts += [
            tag("h3", f"{section['tier']}: {section['title']}"),
            tag("dl", join(rows), class_="facts"),
        ]
    return join(parts)


def transparency_section(inputs: ReportInputs) -> Html:
    """The run's transparency record, or a note that none was made."""
    if inputs.transparency is None:
        return p("No transparency record was made for this report.")
    return record_html(inputs.transparency)
