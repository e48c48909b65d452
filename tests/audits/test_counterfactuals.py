"""The attribution ladder's counterfactual scenarios change what they say, only that."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from audits.counterfactuals import (
    FULL_COVERAGE,
    NEGLIGIBLE_ABSENCE,
    _replace,
    without_errors,
    without_visibility_bias,
)
from simulator.schema.agencies import ErrorRates, EventConfig
from simulator.schema.loading import load_scenario
from simulator.schema.scenario import Scenario
from simulator.vocabulary import SOURCES

SCENARIO = load_scenario("scenarios/surveillance.yaml")


def _without_agencies(scenario: Scenario, *also: str) -> dict:
    return scenario.model_dump(mode="json", exclude={"agencies", *also})


def test_without_errors_zeroes_every_rate_and_keeps_everything_else():
    clean = without_errors(SCENARIO)
    assert _without_agencies(clean) == _without_agencies(SCENARIO)
    for name in SOURCES:
        before, after = SCENARIO.agencies.source(name), clean.agencies.source(name)
        assert after.errors == ErrorRates.zero()
        assert after.model_dump(exclude={"errors"}) == before.model_dump(
            exclude={"errors"}
        )


def test_without_visibility_bias_sees_every_problem_and_nothing_else():
    seen = without_visibility_bias(SCENARIO)
    assert _without_agencies(seen, "consent") == _without_agencies(SCENARIO, "consent")
    # families who withhold consent stay as drawn, but every source shares them
    assert seen.consent.withhold_rate == SCENARIO.consent.withhold_rate
    assert set(seen.consent.safeguarding_sources) == set(SOURCES) - {"spine"}
    for name in SOURCES:
        before, after = SCENARIO.agencies.source(name), seen.agencies.source(name)
        assert after.visibility_factors == after.background_factors == ()
        assert after.errors == before.errors
        events = dict(getattr(after, "events", {}))
        for key, event in events.items():
            was: EventConfig = getattr(before.events, key)
            assert event.visibility == (1.0 if was.visibility > 0 else 0.0)
            assert event.background_rate == 0.0
            assert event.affluent_visibility_odds_ratio == 1.0
            assert event.mean_events == was.mean_events
    a = seen.agencies
    assert (
        a.health.registration_coverage
        == a.education.census_coverage
        == a.spine.coverage
        == FULL_COVERAGE
    )
    assert a.education.absence_without_need == NEGLIGIBLE_ABSENCE


def test_a_misspelt_field_is_an_error_not_a_silent_extra():
    with pytest.raises(ValidationError):
        _replace(SCENARIO.agencies.spine, coverge=1.0)
