"""docs/scenario-reference.md is generated from the schema and kept up to date."""

from __future__ import annotations

import re
from pathlib import Path

from simulator.schema.reference import reference
from simulator.schema.scenario import Scenario

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenario-reference.md"


def test_the_committed_reference_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == reference(), (
        "docs/scenario-reference.md is out of date with the schema: run `make docs`"
    )


def test_every_top_level_field_and_section_is_documented():
    text = reference()
    for key in Scenario.model_fields:
        assert f"| `{key}` |" in text, key
    for section in ("population", "agencies.police", "ErrorRates", "EventConfig"):
        assert f"\n## {section}\n" in text


def test_place_defaults_are_those_of_the_place():
    text = reference()
    police = re.search(r"\| `agencies\.police\.events\.incident` \|(.*)\|", text)
    assert police is not None
    assert police.group(1).split("|")[0].strip() == "`0.6`"  # not the type's 0.0
    section = text.split("\n## ErrorRates\n")[1].split("\n## ")[0]
    rows = re.findall(r"^\| `stale_address` \|(.*)\|$", section, re.M)
    assert len(rows) == 2  # the type's row, then the row of the places' table
    type_row = [c.strip() for c in rows[0].split("|")]
    places = [c.strip() for c in rows[1].split("|")]
    header = re.search(r"^\| field \| (`health`.*)\|$", section, re.M)
    assert header is not None
    sources = [c.strip(" `") for c in header.group(1).split("|")]
    assert type_row[1] == "`0.4`"
    assert dict(zip(sources, places, strict=True))["police"] == "`0.6`"


def test_links_point_at_sections():
    text = reference()
    anchors = {
        re.sub(r"[^a-z0-9 _-]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^## (.+)$", text, re.M)
    }
    for target in re.findall(r"\]\(#([^)]+)\)", text):
        assert target in anchors, target
