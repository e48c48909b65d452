"""The attribution ladder's counterfactual scenarios: the same world, less imperfect.

:func:`without_errors` removes every recording error; :func:`without_visibility_bias`
makes every true problem, and nothing else, visible to the agencies (and puts everyone
on the council's index); :func:`with_spine_of` puts back the index's own gaps. All
keep the scenario's seeds, so the truth (households, needs, eligibility, harm) is
unchanged and only what the agencies record differs (:func:`audits.attribution.ladder`).

Sections are rebuilt with :func:`_replace`, which validates the result: a misspelt
field is an error here, where pydantic's ``model_copy(update=...)`` would accept it
silently.
"""

from __future__ import annotations

from typing import Any, TypeVar, get_args

from simulator.schema.agencies import (
    AgenciesConfig,
    ErrorRates,
    EventConfig,
    SourceConfig,
)
from simulator.schema.consent import SharedSource
from simulator.schema.scenario import Scenario
from simulator.schema.section import Section
from simulator.vocabulary import SOURCES

S = TypeVar("S", bound=Section)
Src = TypeVar("Src", bound=SourceConfig)

FULL_COVERAGE = 1.0
"""Everyone is on every register (GP, school roll) and on the council's spine."""
NEGLIGIBLE_ABSENCE = (2.0, 2000.0)
"""Beta(a, b) of the absence rate of pupils whose family has no education problem,
on the ladder's first rung. A Beta needs a > 0 and b > 0, so the rate cannot be set to
0; Beta(2, 2000) has mean 0.1% of sessions and puts about 6e-90 of its mass at or above
the 10% persistent-absence threshold (4e-8 above 1%), so no pupil without the problem
looks persistently absent. The scenario default, Beta(2, 60), puts 1.3% of those
pupils over 10%: absence for other reasons, which is a visibility effect."""


def _replace(section: S, **fields: Any) -> S:
    """A copy of ``section`` with ``fields`` replaced, validated like a file."""
    return type(section).model_validate({**dict(section), **fields})


def without_errors(scenario: Scenario) -> Scenario:
    """The scenario with every error rate of every source set to 0.

    Parameters
    ----------
    scenario : Scenario
        Any scenario.

    Returns
    -------
    Scenario
        The same scenario and seeds; recorded identifiers equal the truth.

    Examples
    --------
    >>> clean = without_errors(Scenario())
    >>> clean.agencies.police.errors.name_typo, clean.seed == Scenario().seed
    (0.0, True)
    """
    zero = ErrorRates.zero()
    agencies = scenario.agencies
    sources = {name: _replace(agencies.source(name), errors=zero) for name in SOURCES}
    return _replace(scenario, agencies=_replace(agencies, **sources))


def _fully_visible(event: EventConfig) -> EventConfig:
    """An event seen for every family with its problem, and only for them.

    Seen in every decile alike, and never recorded without the problem (no
    background events, no surveillance).
    """
    return _replace(
        event,
        visibility=1.0 if event.visibility > 0 else 0.0,
        affluent_visibility_odds_ratio=1.0,
        background_rate=0.0,
        affluent_background_ratio=1.0,
    )


def _unbiased(source: Src, **fields: Any) -> Src:
    """A source whose events are fully visible, with no group factors."""
    events = source.events  # type: ignore[attr-defined]
    return _replace(
        source,
        visibility_factors=(),
        background_factors=(),
        events=_replace(
            events, **{name: _fully_visible(e) for name, e in dict(events).items()}
        ),
        **fields,
    )


def without_visibility_bias(scenario: Scenario) -> Scenario:
    """The scenario where every true problem is recorded and nothing else is.

    Every event that reflects a problem is seen with probability 1 in every group,
    no event is recorded without a problem (no background, no surveillance), everyone
    is on every register and on the spine (:data:`FULL_COVERAGE`), pupils without
    the education problem are never persistently absent (:data:`NEGLIGIBLE_ABSENCE`),
    and every source shares the records of families who withhold consent.
    The first rung of the attribution ladder: what remains wrong is the model's.

    Parameters
    ----------
    scenario : Scenario
        Any scenario.

    Returns
    -------
    Scenario
        The same scenario and seeds with the agencies' visibility made perfect.

    Examples
    --------
    >>> seen = without_visibility_bias(Scenario())
    >>> seen.agencies.police.events.incident.background_rate
    0.0
    >>> seen.agencies.spine.coverage, seen.agencies.education.absence_without_need
    (1.0, (2.0, 2000.0))
    """
    a = scenario.agencies
    agencies = AgenciesConfig(
        health=_unbiased(a.health, registration_coverage=FULL_COVERAGE),
        education=_unbiased(
            a.education,
            census_coverage=FULL_COVERAGE,
            absence_without_need=NEGLIGIBLE_ABSENCE,
        ),
        police=_unbiased(a.police),
        benefits=_unbiased(a.benefits),
        social_care=_unbiased(a.social_care),
        spine=_replace(
            a.spine,
            visibility_factors=(),
            background_factors=(),
            coverage=FULL_COVERAGE,
        ),
    )
    # consent withheld is part of what agencies let the council see: every record
    # is shared here, while who withholds (a truth column) stays as drawn
    consent = _replace(scenario.consent, safeguarding_sources=get_args(SharedSource))
    return _replace(scenario, agencies=agencies, consent=consent)


def with_spine_of(scenario: Scenario, other: Scenario) -> Scenario:
    """``scenario`` with ``other``'s council index: who is on the spine, by group.

    The counterfactual of the ladder's ``spine`` rung: applied to the first rung's
    scenario (everyone on the spine) and the error-free scenario, it takes off the
    index exactly the people the real run leaves off it (the spine's ``coverage``
    and group factors), and changes nothing else.

    Parameters
    ----------
    scenario : Scenario
        The scenario to change (the ladder's first rung).
    other : Scenario
        The scenario whose spine section is taken (the error-free scenario).

    Returns
    -------
    Scenario
        ``scenario`` with ``other.agencies.spine``; same seeds.

    Examples
    --------
    >>> base = Scenario()
    >>> rung = with_spine_of(without_visibility_bias(base), without_errors(base))
    >>> rung.agencies.spine.coverage == base.agencies.spine.coverage
    True
    >>> rung.agencies.police.events.incident.background_rate
    0.0
    """
    agencies = _replace(scenario.agencies, spine=other.agencies.spine)
    return _replace(scenario, agencies=agencies)
