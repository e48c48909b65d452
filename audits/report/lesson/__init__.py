"""The lesson view of a run: a short page for a class (``lesson.html``).

The story first (one wrongly flagged family and one missed family, from the report's
case files), then the few numbers that matter in plain words, one chart of the
causes, discussion questions and exercises (the scenario's ``report`` section), and
a short glossary. Technical terms carry their definition in a tooltip. At most about
five printed A4 pages, with a print stylesheet for handouts.

Built with Jinja2 templates (``templates/``, shipped as package data, autoescaping
on) from the same pieces as the full report: :mod:`~.story` (the case files) and
:mod:`~.numbers` (the audit's pooled summary), and the report's own attribution
chart. Like the report, one self-contained file: inline CSS and SVG, no script, no
external URL.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from audits.report.charts import attribution_chart
from audits.report.inputs import ReportInputs
from audits.report.lesson.numbers import lesson_numbers
from audits.report.lesson.story import stories
from audits.report.sections.common import SYNTHETIC_NOTE
from audits.report.sections.reference import GLOSSARY

LESSON = "lesson.html"
"""The lesson page's file name inside a run directory (beside ``report.html``)."""
LESSON_TERMS = (
    "Synthetic",
    "Spine (council register)",
    "Linkage",
    "Flag",
    "False positive (wrongly flagged)",
    "False negative (missed)",
    "False positive rate",
    "Visibility",
    "Data error",
    "IMD decile and quintile",
    "Confidence interval",
    "Attribution",
)
"""The report's glossary entries the lesson uses: in tooltips and on the page."""
DEFINITIONS = {name: text for name, text in GLOSSARY if name in LESSON_TERMS}


def term(name: str, shown: str) -> Markup:
    """``shown`` with the glossary's definition of ``name`` as its tooltip."""
    return Markup('<abbr title="{}">{}</abbr>').format(DEFINITIONS[name], shown)


def commands(text: str) -> Markup:
    """Plain text, escaped, with ```command``` spans shown as code.

    Examples
    --------
    >>> str(commands("run `linkaudit run x.yaml` <now>"))
    'run <code>linkaudit run x.yaml</code> &lt;now&gt;'
    """
    parts = str(text).split("`")
    return Markup("").join(
        Markup("<code>{}</code>").format(p) if i % 2 else escape(p)
        for i, p in enumerate(parts)
    )


@cache
def environment() -> Environment:
    """The templates, loaded from the installed package; autoescaping on."""
    env = Environment(
        loader=PackageLoader("audits.report.lesson", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["term"] = term
    env.filters["commands"] = commands
    return env


def _chart(inputs: ReportInputs) -> Markup | None:
    """The report's chart of causes, by deprivation when audited by it."""
    if inputs.attribution is None:
        return None
    groups = set(inputs.attribution.counts["group"])
    grouping = next((g for g in ("imd_quintile", "imd_decile") if g in groups), None)
    # Markup: the chart module builds the SVG and escapes its own labels.
    return Markup(attribution_chart(inputs.attribution.counts, grouping))


def render_lesson(inputs: ReportInputs) -> str:
    """The lesson page of a run, as a complete HTML document.

    Parameters
    ----------
    inputs : ReportInputs
        As for :func:`audits.report.render_report`.

    Returns
    -------
    str
        One self-contained HTML document; the same inputs give the same string.
    """
    s = inputs.scenario
    return (
        environment()
        .get_template("lesson.html")
        .render(
            title=f"What went wrong, and for whom? A lesson from “{s.name}”",
            description=s.description.strip(),
            synthetic=SYNTHETIC_NOTE,
            stories=stories(inputs),
            numbers=lesson_numbers(inputs),
            target=s.audit.target,
            chart=_chart(inputs),
            questions=s.report.questions,
            exercises=s.report.exercises,
            glossary=[(n, DEFINITIONS[n]) for n in LESSON_TERMS],
        )
    )


def write_lesson(inputs: ReportInputs, directory: str | Path) -> Path:
    """Write ``lesson.html`` into ``directory``; returns its path."""
    path = Path(directory) / LESSON
    path.write_text(render_lesson(inputs), encoding="utf-8", newline="\n")
    return path


__all__ = ["LESSON", "render_lesson", "write_lesson"]
