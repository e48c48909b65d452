"""The few numbers that matter, in plain words, pooled over the run's worlds.

Read from the audit's own summary (:func:`audits.tables.audit_summary`: counts from
the first world, rates and the headline comparison pooled over every replicate world
with their intervals) and from the attribution's counts, so the lesson quotes the
same figures as ``audit/summary.json`` and the full report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from audits.attribution import CAUSE_LABELS, RUNGS
from audits.headline import MIN_REFERENCE_EVENTS
from audits.report.inputs import ReportInputs
from audits.report.text import count, pct, pooled_count, value_label
from audits.tables import audit_summary
from simulator.vocabulary import OVERALL

AREA_WORDS = {
    ("imd_quintile", "1"): "the most deprived fifth of areas",
    ("imd_quintile", "5"): "the least deprived fifth of areas",
    ("imd_decile", "1"): "the most deprived tenth of areas",
    ("imd_decile", "10"): "the least deprived tenth of areas",
}


def one_in(share: float | None) -> str:
    """A share as "about 1 in N" (or "about N in 100" above one half).

    Examples
    --------
    >>> one_in(0.246), one_in(0.75), one_in(0.0)
    ('about 1 in 4', 'about 75 in 100', 'none')
    """
    if share is None or share != share:
        return "unknown"
    if share <= 0:
        return "none"
    if share > 0.5:
        return f"about {round(100 * share)} in 100"
    return f"about 1 in {round(1 / share):,}"


def per_hundred(share: float | None) -> str:
    """A rate as "N in every 100" in words, for readers who do not read percentages.

    Examples
    --------
    >>> per_hundred(0.0917), per_hundred(0.0064), per_hundred(0.0)
    ('about 9 in every 100', 'fewer than 1 in every 100', 'none')
    """
    if share is None or share != share:
        return "unknown"
    if share <= 0:
        return "none"
    if share < 0.01:
        return "fewer than 1 in every 100"
    return f"about {round(100 * share)} in every 100"


def _group_words(grouping: str, value: str) -> str:
    return AREA_WORDS.get((grouping, value), f"{value_label(grouping, value)} families")


@dataclass(frozen=True)
class Rate:
    """A rate: as a percentage, in words, and its interval (text)."""

    percent: str
    words: str
    low: str
    high: str

    @classmethod
    def of(cls, figure: dict[str, Any]) -> Rate:
        """From a summary's ``{"estimate", "ci_low", "ci_high"}``."""
        return cls(
            pct(figure["estimate"]),
            per_hundred(figure["estimate"]),
            pct(figure.get("ci_low")),
            pct(figure.get("ci_high")),
        )


@dataclass(frozen=True)
class Comparison:
    """The headline: one group's false positive rate against the reference's."""

    group: str
    reference: str
    group_rate: Rate
    reference_rate: Rate
    difference: str
    difference_low: str
    difference_high: str
    ratio: str | None
    ratio_note: str | None


@dataclass(frozen=True)
class Numbers:
    """The numbers the lesson shows, as text."""

    families: str
    in_target: str
    flagged: str
    wrongly_flagged: str
    wrong_share: str
    missed: str
    precision: Rate
    found: Rate
    comparison: Comparison | None
    causes: list[Cause]
    worlds: int
    confidence: str


def _points(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}"


def _comparison(c: dict[str, Any] | None) -> Comparison | None:
    if c is None or c.get("metric") != "fpr":
        return None
    stable = bool(c.get("ratio_stable")) and c.get("ratio") is not None
    return Comparison(
        group=_group_words(c["grouping"], c["group"]),
        reference=_group_words(c["grouping"], c["reference"]),
        group_rate=Rate.of(c["group_rate"]),
        reference_rate=Rate.of(c["reference_rate"]),
        difference=_points(c.get("difference")),
        difference_low=_points(c.get("difference_ci_low")),
        difference_high=_points(c.get("difference_ci_high")),
        ratio=f"{c['ratio']:.1f}" if stable else None,
        ratio_note=None if stable else _why_no_ratio(c),
    )


def _why_no_ratio(c: dict[str, Any]) -> str:
    """Why "how many times as often" is not said, in plain words."""
    events = c["reference_rate"].get("numerator")
    reference = _group_words(c["grouping"], c["reference"])
    if events is not None and events < MIN_REFERENCE_EVENTS:
        return (
            f"only {count(events)} "
            f"{'family' if events == 1 else 'families'} in {reference} "
            "{} wrongly flagged, so one more or one fewer would change it a lot".format(
                "was" if events == 1 else "were"
            )
        )
    return "it would swing too much from one sample of families to another"


@dataclass(frozen=True)
class Cause:
    """One cause of wrong flags and misses, with its counts (text)."""

    label: str
    term: str | None
    wrongly_flagged: str
    missed: str


CAUSE_TERMS = {
    "spine": "Spine (council register)",
    "visibility": "Visibility",
    "data_error": "Data error",
    "linkage": "Linkage",
}
"""The glossary entry (a tooltip) behind each cause's label."""


def _causes(inputs: ReportInputs) -> list[Cause]:
    """Per cause that occurs: its plain label, wrong flags and misses."""
    if inputs.attribution is None:
        return []
    counts = inputs.attribution.counts
    overall = counts[counts["group"] == OVERALL].set_index("error")
    fp, fn = overall.loc["false_positive"], overall.loc["false_negative"]
    return [
        Cause(
            CAUSE_LABELS[rung],
            CAUSE_TERMS.get(rung),
            pooled_count(fp, rung),
            pooled_count(fn, rung),
        )
        for rung in RUNGS  # five causes
        if rung in overall and (fp[rung] or fn[rung])
    ]


def lesson_numbers(inputs: ReportInputs) -> Numbers | None:
    """The numbers of an audited run in words (None if it was not audited)."""
    if inputs.audit is None:
        return None
    h = audit_summary(inputs.audit)["headline"]
    flagged = h["families_flagged"]
    return Numbers(
        families=count(h["families"]),
        in_target=count(h["families_in_target"]),
        flagged=count(flagged),
        wrongly_flagged=count(h["wrongly_flagged"]),
        wrong_share=one_in(h["wrongly_flagged"] / flagged if flagged else None),
        missed=count(h["missed"]),
        precision=Rate.of(h["precision"]),
        found=Rate.of(h["tpr"]),
        comparison=_comparison(h.get("comparison")),
        causes=_causes(inputs),
        worlds=int(h["replicates"]),
        confidence=f"{inputs.scenario.audit.confidence:.0%}",
    )
