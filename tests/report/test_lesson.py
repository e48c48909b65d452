"""The lesson view (lesson.html): short, story first, readable, printable, escaped.

The page budget is counted the way a teacher meets it: headless Chromium prints the
page to PDF on A4 and the PDF's pages are counted. Font sizes are measured in the
browser at 1024 x 768 and at 390 px wide.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from importlib.resources import files
from pathlib import Path

import pytest
import yaml

from audits.report.lesson import LESSON, LESSON_TERMS, render_lesson, write_lesson
from audits.report.lesson.story import lesson_cases
from audits.tables import audit_summary
from simulator.cli import main
from simulator.schema.loading import load_scenario
from tests.report.test_browser import MIN_FONT_PX, chromium, text_measures

ROOT = Path(__file__).resolve().parents[2]
CLASSROOM = ROOT / "scenarios" / "classroom.yaml"
MAX_PAGES = 5


@pytest.fixture(scope="module")
def lesson_data(report_data):
    """The report fixture's run with the classroom's questions and exercises."""
    report = load_scenario(CLASSROOM).report
    scenario = report_data.scenario.model_copy(update={"report": report})
    return dataclasses.replace(report_data, scenario=scenario)


@pytest.fixture(scope="module")
def lesson_html(lesson_data) -> str:
    return render_lesson(lesson_data)


@pytest.fixture(scope="module")
def lesson_file(lesson_data, tmp_path_factory) -> Path:
    return write_lesson(lesson_data, tmp_path_factory.mktemp("lesson"))


def pdf_pages(html: Path, profile: Path) -> int:
    pdf = profile.parent / "lesson.pdf"
    chromium(
        ["--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.as_uri()], profile
    )
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))


def test_the_lesson_prints_on_five_a4_pages_at_most(lesson_file, tmp_path):
    pages = pdf_pages(lesson_file, tmp_path / "profile")
    assert 2 <= pages <= MAX_PAGES


@pytest.mark.parametrize("width", [1024, 390])
def test_every_text_is_at_least_16_px_and_nothing_overflows(
    lesson_html, tmp_path, width
):
    smallest, overflow = text_measures(lesson_html, width, tmp_path)
    assert smallest >= MIN_FONT_PX
    assert not overflow


def test_the_story_comes_first(lesson_html, lesson_data):
    h2 = re.findall(r"<h2>(.*?)</h2>", lesson_html)
    assert h2[0] == "Two families"
    assert h2[1:3] == ["The numbers that matter", "Why it happened"]
    chosen = lesson_cases(lesson_data)
    assert list(chosen["error"]) == ["false_positive", "false_negative"]
    articles = re.findall(r'<article class="family (\w+)">', lesson_html)
    assert articles == ["fp", "fn"]


def test_the_lesson_shows_the_most_common_cause_of_each_error(lesson_data):
    h = lesson_data.attribution.households
    for _, row in lesson_cases(lesson_data).iterrows():
        causes = h.loc[h["error"] == row["error"], "cause"].value_counts()
        assert causes[row["cause"]] == causes.max()


def test_the_numbers_are_the_audits_own(lesson_html, lesson_data):
    headline = audit_summary(lesson_data.audit)["headline"]
    text = re.sub(r"<[^>]+>", "", lesson_html)
    assert f"flagged {headline['families_flagged']:,} of {headline['families']:,}" in (
        text
    )
    assert f"missed {headline['missed']:,}" in text
    c = headline["comparison"]
    assert f"{100 * c['group_rate']['estimate']:.1f}%" in text
    assert f"{100 * c['reference_rate']['estimate']:.1f}%" in text


def test_questions_and_exercises_come_from_the_scenario(lesson_html, lesson_data):
    report = lesson_data.scenario.report
    assert report.questions and report.exercises
    text = re.sub(r"<[^>]+>", "", lesson_html).replace("&#39;", "'")
    for item in (*report.questions, *report.exercises):
        assert item.replace("`", "") in text
    assert "<code>linkaudit sweep" in lesson_html


def test_terms_carry_their_definition(lesson_html):
    tooltips = re.findall(r'<abbr title="([^"]+)">', lesson_html)
    assert len(tooltips) >= 8
    for name in LESSON_TERMS:
        assert f"<dt>{name}</dt>" in lesson_html


def test_text_is_escaped(lesson_data):
    report = lesson_data.scenario.report.model_copy(
        update={"questions": ("<script>alert(1)</script> & `<b>`",)}
    )
    scenario = lesson_data.scenario.model_copy(update={"report": report})
    html = render_lesson(dataclasses.replace(lesson_data, scenario=scenario))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in html


def test_self_contained_and_deterministic(lesson_html, lesson_data):
    assert "<script" not in lesson_html
    assert not re.search(r"https?:|src=", lesson_html)
    assert render_lesson(lesson_data) == lesson_html


def test_templates_ship_as_package_data():
    templates = files("audits.report.lesson").joinpath("templates")
    assert templates.joinpath("lesson.html").is_file()
    assert templates.joinpath("lesson.css").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    shipped = config["tool"]["setuptools"]["package-data"]["audits.report.lesson"]
    assert "templates/*" in shipped
    deps = config["project"]["dependencies"]
    assert any(d.startswith("jinja2") for d in deps)


def test_the_lesson_view_writes_both_pages_and_view_full_one(
    tmp_path, capsys, seed, no_report
):
    """(The full report is not drawn: only which pages are written is asked here.)"""
    small = {
        "name": "lesson-cli",
        "seed": seed,
        "population": {"n_households": 800, "households_per_area": 100},
        "audit": {"n_boot": 20},
        "report": {"view": "lesson"},
    }
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(small), encoding="utf-8")
    out = tmp_path / "run"
    args = ["run", str(scenario), "-o", str(out), "-q", "--no-attribution"]
    assert main(args) == 0  # the scenario's report.view
    printed = capsys.readouterr().out
    assert f"lesson: {out / LESSON}" in printed
    assert printed.index("lesson: ") < printed.index("report: ")  # the lesson first
    assert (out / "report.html").is_file()
    lesson = (out / LESSON).read_text("utf-8")  # without an attribution: no causes
    assert "<h2>Two families</h2>" in lesson and 'id="why"' not in lesson
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["rows"][LESSON] == 1
    assert manifest["scenario"] == "lesson-cli"
    # --view full overrides the scenario: the full report only.
    full = tmp_path / "full"
    args = ["run", str(scenario), "-o", str(full), "-q", "--no-attribution"]
    assert main([*args, "--view", "full"]) == 0
    assert not (full / LESSON).exists()
    assert (full / "report.html").is_file()


def test_the_classroom_scenario_leads_with_the_lesson():
    assert load_scenario(CLASSROOM).report.view == "lesson"
