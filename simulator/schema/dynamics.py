"""The ``dynamics:`` section: a run over several periods, and what flags do next.

Each period the world moves on (needs persist, resolve or arise), agencies record
what they see, the council links, builds its view, scores and flags; then flags act
on the next period's world (:mod:`simulator.world.dynamics`). With ``periods: 1``
(the default) a run is the single snapshot it always was. Every effect of a flag is
off unless switched on; its strength has a stated default, with its source or the
word "assumption" in docs/methodology.md.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from simulator.schema.section import Factor, OddsRatio, Rate, Section
from simulator.vocabulary import Agency

MAX_PERIODS = 10
"""The most periods a run may have (each is a full council run)."""


def _each_once(sources: tuple[str, ...]) -> tuple[str, ...]:
    """Refuse a source listed twice."""
    if len(set(sources)) != len(sources):
        raise ValueError("a source is listed twice")
    return sources


Agencies = Annotated[tuple[Agency, ...], AfterValidator(_each_once)]
"""Agencies (every source but the spine), each once."""


class NeedCourseConfig(Section):
    """How true needs change from one period (a year) to the next.

    A need resolves with its rate; a family without it gains it with the rate that
    keeps the family's own expected prevalence steady (``p * r / (1 - p)``, ``p``
    its prevalence from ``needs:``), so without feedback the world stays as likely
    to be in need as it started.
    """

    crime_asb: Rate = Field(0.5, description="Share resolving a year (assumption).")
    education: Rate = Field(0.5, description="Share resolving a year (assumption).")
    children_in_need: Rate = Field(
        0.7,
        description="Share resolving a year: child protection plans open at any point "
        "of 2024-25 were 2.3 times those open at 31 March (computed, DfE).",
    )
    worklessness: Rate = Field(
        0.17,
        description="Share resolving a year: 82.6% of children in workless households "
        "are in long-term workless ones (computed, ONS 2023).",
    )
    domestic_abuse: Rate = Field(
        0.5, description="Share resolving a year (assumption)."
    )
    health: Rate = Field(0.5, description="Share resolving a year (assumption).")

    def rate(self, need: str) -> float:
        """The yearly resolution rate of need ``need``."""
        return float(getattr(self, need))


class Effect(Section):
    """What a flag does next: off unless switched on."""

    enabled: bool = Field(False, description="Switch the effect on.")


class SurveillanceConfig(Effect):
    """A flagged family, and an area with many flags, is watched more (Ensign 2018)."""

    sources: Agencies = Field(
        ("police", "social_care"),
        description="Sources that watch flagged families more (assumption).",
    )
    visibility_odds_ratio: OddsRatio = Field(
        2.0,
        description="Odds multiplier on a need reaching these sources' records, for "
        "each past flag of the family (assumption).",
    )
    background_ratio: Factor = Field(
        1.5,
        description="Multiplier on these sources' background events (records with no "
        "true problem), for each past flag of the family (assumption).",
    )
    area_ratio: Factor = Field(
        2.0,
        description="Multiplier on the odds and the background events of every family "
        "in an area, raised to (the area's past flags per family / the population's, "
        "minus 1): attention follows where flags were (assumption).",
    )


class SupportConfig(Effect):
    """A flagged family in true need is offered help: a need may resolve."""

    resolve_probability: Rate = Field(
        0.2,
        description="Chance each true need of a flagged family resolves because of "
        "the support, on top of its own rate (assumption).",
    )


class DeterrenceConfig(Effect):
    """A flagged family, and less so its neighbours, seeks help less (Brayne 2014)."""

    sources: Agencies = Field(
        ("health", "benefits", "social_care"),
        description="Sources a family turns to for help (health visits, benefit "
        "claims, self-referrals).",
    )
    odds_ratio: OddsRatio = Field(
        0.5,
        description="Odds multiplier on a flagged family's need reaching these "
        "sources (assumption: Brayne gives the direction, not the size).",
    )
    area_odds_ratio: OddsRatio = Field(
        0.5,
        description="Odds multiplier for the other families of an area, raised to the "
        "share of the area's families flagged (assumption).",
    )


class HistoryConfig(Effect):
    """The council's own past flags count in its score: "known to services"."""

    points: Annotated[float, Field(ge=0.0, le=1000.0)] = Field(
        1.0,
        description="Points added to a family's score for each earlier period the "
        "council flagged it, right or wrong, before the flag rule (assumption: with "
        "the programme's criteria, a past flag counts as one more problem shown).",
    )


class DynamicsConfig(Section):
    """Periods of one world moving on, and what the council's flags do next."""

    periods: Annotated[int, Field(ge=1, le=MAX_PERIODS)] = Field(
        1,
        description="Periods (years) to run; 1 is today's single snapshot. Period 1 "
        "is always exactly the single run.",
    )
    needs: NeedCourseConfig = Field(default_factory=NeedCourseConfig)
    surveillance: SurveillanceConfig = Field(default_factory=SurveillanceConfig)
    support: SupportConfig = Field(default_factory=SupportConfig)
    deterrence: DeterrenceConfig = Field(default_factory=DeterrenceConfig)
    history: HistoryConfig = Field(default_factory=HistoryConfig)
