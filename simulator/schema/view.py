"""The scenario's ``view`` section: what the council derives from linked records."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from simulator.schema.section import Rate, Section

EventName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")]
"""An event as ``"<source>.<event_type>"``, for example ``"police.incident"``."""

DEFAULT_EVENTS: tuple[str, ...] = (
    "police.incident",
    "police.anti_social_behaviour",
    "police.domestic_abuse_callout",
    "education.suspension",
    "education.permanent_exclusion",
    "social_care.contact",
    "social_care.referral",
    "social_care.child_in_need_plan",
    "social_care.child_protection_plan",
    "social_care.domestic_abuse_referral",
    "benefits.out_of_work_benefit",
    "benefits.housing_benefit",
    "health.ae_attendance",
    "health.mental_health_contact",
    "health.domestic_abuse_ae",
)
"""Every event type the simulated agencies record in the observation window."""


class ViewConfig(Section):
    """What the council derives from the linked records (the scenario's ``view``)."""

    events: tuple[EventName, ...] = Field(
        DEFAULT_EVENTS,
        min_length=1,
        description="Events counted, as 'source.event_type'; each gives a column "
        "'source_event_type'. Other event types in the records are ignored.",
    )
    persistent_absence: Rate = Field(
        0.10,
        description="Absence rate at or above which a pupil is persistently absent "
        "(DfE: 10% of sessions).",
    )
    adult_age: Annotated[int, Field(ge=16, le=21)] = Field(
        18, description="Age (at the reference date) from which a member is an adult."
    )
    school_ages: tuple[
        Annotated[int, Field(ge=0, le=25)], Annotated[int, Field(ge=0, le=25)]
    ] = Field(
        (5, 15),
        description="First and last age (inclusive) of compulsory school age.",
    )

    @model_validator(mode="after")
    def _check(self) -> ViewConfig:
        repeated = sorted({e for e in self.events if self.events.count(e) > 1})
        if repeated:
            raise ValueError(f"events are listed twice: {', '.join(repeated)}")
        if self.school_ages[0] > self.school_ages[1]:
            raise ValueError(
                f"school_ages must be (first, last) with first <= last, got "
                f"{self.school_ages}"
            )
        return self
