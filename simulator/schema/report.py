"""The scenario's ``report`` section: which page a run leads with, and its lesson.

Presentation only: nothing here changes the simulation, the audit or any table. A
teaching scenario keeps its exercises and discussion questions here, so the lesson
page (``lesson.html``) and the scenario file share one source of truth.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from simulator.schema.section import Section

LessonText = Annotated[str, Field(min_length=1, max_length=2_000)]
"""One exercise or question, in plain words (``like this`` marks a command)."""


class ReportConfig(Section):
    """Which view of the run to write, and the lesson's own text (``report``)."""

    view: Literal["full", "lesson"] = Field(
        "full",
        description="full: report.html only, the whole report for analysts. lesson: "
        "also lesson.html, a short page for a class (two families' stories, the "
        "few numbers that matter, questions and exercises; at most about 5 printed "
        "A4 pages), and the command line points to it first. `linkaudit run "
        "--view` overrides it.",
    )
    questions: tuple[LessonText, ...] = Field(
        (),
        max_length=12,
        description="Discussion questions printed on the lesson page.",
    )
    exercises: tuple[LessonText, ...] = Field(
        (),
        max_length=12,
        description="Exercises printed on the lesson page; text between backticks "
        "is shown as a command.",
    )
