"""The scenario's record sources (``agencies``): events, errors and group multipliers.

Each source's section (:class:`SourceConfig` and one subclass per source) says which
events it records and how visibly (:class:`EventConfig`), which errors it makes
(:class:`ErrorRates`, one rate per :data:`simulator.vocabulary.ERROR_NAMES`) and how
both vary by group (:class:`GroupFactor`); ``error_multipliers``
(:class:`ErrorMultiplier`) raise error rates for some groups across sources.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from simulator.schema.section import Factor, OddsRatio, Rate, Section
from simulator.vocabulary import (
    GROUP_VALUES,
    ErrorName,
    Source,
    TraitColumn,
)


class GroupFactor(Section):
    """A multiplier for the households of one group (a column and one of its values)."""

    column: TraitColumn = Field(
        description="Household attribute that defines the group."
    )
    value: str | int | bool = Field(description="The group's value in that column.")
    factor: Factor = Field(
        description="Multiplier: on a rate for error and background rates, on the odds "
        "for visibility."
    )

    @model_validator(mode="after")
    def _value_in_column(self) -> GroupFactor:
        allowed = GROUP_VALUES[self.column]
        if self.value not in allowed or type(self.value) is not type(allowed[0]):
            raise ValueError(
                f"value for column {self.column!r} must be one of "
                f"{list(allowed)}, got {self.value!r}"
            )
        return self


class ErrorMultiplier(GroupFactor):
    """Multiply some error rates for one group, in some or all sources."""

    errors: tuple[ErrorName, ...] = Field(
        default=(), description="Errors whose rate is multiplied; empty means all."
    )
    sources: tuple[Source, ...] = Field(
        default=(), description="Sources where it applies; empty means all."
    )


class EventConfig(Section):
    """How one kind of event appears in a source.

    A family with the event's problem leaves at least one such event with probability
    ``visibility`` (in the most deprived decile; ``affluent_visibility_odds_ratio``
    scales the odds linearly on the log scale up to the least deprived decile). Any
    family can also leave background events at ``background_rate`` a year.
    """

    visibility: Rate = Field(
        0.0, description="P(a family with the problem leaves the event), decile 1."
    )
    affluent_visibility_odds_ratio: OddsRatio = Field(
        1.0, description="Odds ratio of visibility, least vs most deprived decile."
    )
    mean_events: Annotated[float, Field(ge=1.0, le=50.0)] = Field(
        1.5, description="Mean number of events for a family whose problem is seen."
    )
    background_rate: Annotated[float, Field(ge=0.0, le=20.0)] = Field(
        0.0,
        description="Events a year per family without the problem, decile 1 "
        "(recording of non-problems; surveillance).",
    )
    affluent_background_ratio: Factor = Field(
        1.0, description="Background rate ratio, least vs most deprived decile."
    )


class ErrorRates(Section):
    """Per-record error rates of one source, in the order they are applied.

    See docs/methodology.md for what each error does. Identifier errors apply only
    where the source holds that identifier; ``stale_address`` only to people who moved.
    """

    duplicate: Rate = 0.01
    wrong_person: Rate = 0.003
    stale_address: Rate = 0.4
    name_swap: Rate = 0.002
    nickname: Rate = 0.02
    transliteration: Rate = 0.01
    surname_change: Rate = 0.01
    name_typo: Rate = 0.01
    name_ocr: Rate = 0.002
    name_phonetic: Rate = 0.005
    first_name_missing: Rate = 0.002
    dob_day_month_swap: Rate = 0.003
    dob_digit: Rate = 0.003
    dob_year: Rate = 0.002
    dob_missing: Rate = 0.002
    sex_wrong: Rate = 0.001
    postcode_typo: Rate = 0.01
    postcode_missing: Rate = 0.02
    nhs_missing: Rate = 0.03
    nhs_wrong: Rate = 0.005
    upn_missing: Rate = 0.02
    upn_wrong: Rate = 0.003
    ni_missing: Rate = 0.05
    ni_wrong: Rate = 0.005

    @classmethod
    def zero(cls) -> ErrorRates:
        """Every rate 0: recorded identifiers equal the truth."""
        return cls(**dict.fromkeys(cls.model_fields, 0.0))


def _errors(**rates: float) -> Any:
    return Field(default_factory=lambda: ErrorRates(**rates))


class SourceConfig(Section):
    """What every source shares: whether it is generated, and its errors."""

    enabled: bool = True
    errors: ErrorRates = Field(default_factory=ErrorRates)
    visibility_factors: tuple[GroupFactor, ...] = Field(
        default=(),
        description="Odds multipliers on the visibility of problems, by group.",
    )
    background_factors: tuple[GroupFactor, ...] = Field(
        default=(),
        description="Rate multipliers on background events, by group.",
    )


class HealthEvents(Section):
    """Health events: A&E attendances and mental-health contacts."""

    ae_attendance: EventConfig = EventConfig(
        visibility=0.35,
        affluent_visibility_odds_ratio=0.8,
        mean_events=1.6,
        background_rate=0.55,
        affluent_background_ratio=1 / 1.7,
    )
    mental_health_contact: EventConfig = EventConfig(
        visibility=0.6, affluent_visibility_odds_ratio=0.45, mean_events=3.0
    )
    domestic_abuse_ae: EventConfig = EventConfig(
        visibility=0.15, affluent_visibility_odds_ratio=0.6, mean_events=1.3
    )


class HealthConfig(SourceConfig):
    """GP registrations, A&E and mental-health contacts; holds the NHS number."""

    registration_coverage: Rate = Field(
        0.97, description="P(a person is registered with a GP)."
    )
    events: HealthEvents = Field(default_factory=HealthEvents)
    errors: ErrorRates = _errors(stale_address=0.5, ni_missing=0, upn_missing=0)


class EducationEvents(Section):
    """School events: suspensions and permanent exclusions."""

    suspension: EventConfig = EventConfig(
        visibility=0.35,
        affluent_visibility_odds_ratio=0.6,
        mean_events=1.8,
        background_rate=0.03,
        affluent_background_ratio=0.3,
    )
    permanent_exclusion: EventConfig = EventConfig(
        visibility=0.03, affluent_visibility_odds_ratio=0.5, mean_events=1.0
    )


class EducationConfig(SourceConfig):
    """The pupil census (a row per pupil, with absence) and exclusions; holds UPN."""

    census_coverage: Rate = Field(
        0.98, description="P(a school-age child is on a school roll)."
    )
    persistent_absence: Rate = Field(
        0.10, description="Absence rate at or above which absence is 'persistent'."
    )
    absence_without_need: tuple[
        Annotated[float, Field(gt=0.0, le=1e4)], Annotated[float, Field(gt=0.0, le=1e4)]
    ] = Field(
        (2.0, 60.0),
        description="Beta(a, b) of the absence rate of pupils whose family has no "
        "education problem: mean 3.2%, and about 1 pupil in 80 reaches 10% "
        "(absence for other reasons, such as illness; an assumption).",
    )
    events: EducationEvents = Field(default_factory=EducationEvents)
    errors: ErrorRates = _errors(
        stale_address=0.3, nickname=0.03, name_typo=0.006, nhs_missing=0, ni_missing=0
    )


class PoliceEvents(Section):
    """Police events: incidents, anti-social behaviour, domestic-abuse call-outs."""

    incident: EventConfig = EventConfig(
        visibility=0.6,
        affluent_visibility_odds_ratio=0.6,
        mean_events=2.0,
        background_rate=0.03,
        affluent_background_ratio=0.3,
    )
    anti_social_behaviour: EventConfig = EventConfig(
        visibility=0.5,
        affluent_visibility_odds_ratio=0.5,
        mean_events=1.8,
        background_rate=0.02,
        affluent_background_ratio=0.25,
    )
    domestic_abuse_callout: EventConfig = EventConfig(
        visibility=0.55,
        affluent_visibility_odds_ratio=0.5,
        mean_events=1.7,
        background_rate=0.004,
        affluent_background_ratio=0.5,
    )


class PoliceConfig(SourceConfig):
    """Police incidents and call-outs; no national identifier, the messiest identity."""

    events: PoliceEvents = Field(default_factory=PoliceEvents)
    background_factors: tuple[GroupFactor, ...] = Field(
        default=(GroupFactor(column="ethnicity", value="black", factor=1.8),),
        description="Rate multipliers on background events, by group.",
    )
    errors: ErrorRates = _errors(
        duplicate=0.03,
        wrong_person=0.01,
        stale_address=0.6,
        nickname=0.06,
        name_typo=0.03,
        name_phonetic=0.02,
        transliteration=0.03,
        dob_missing=0.06,
        dob_digit=0.01,
        dob_day_month_swap=0.008,
        postcode_missing=0.08,
        postcode_typo=0.02,
    )


class BenefitsEvents(Section):
    """Benefit claims: out-of-work and housing benefits."""

    out_of_work_benefit: EventConfig = EventConfig(
        visibility=0.85,
        affluent_visibility_odds_ratio=0.5,
        mean_events=1.0,
        background_rate=0.005,
        affluent_background_ratio=0.2,
    )
    housing_benefit: EventConfig = EventConfig(
        visibility=0.6,
        affluent_visibility_odds_ratio=0.3,
        mean_events=1.0,
        background_rate=0.10,
        affluent_background_ratio=0.1,
    )


class BenefitsConfig(SourceConfig):
    """Benefit claims by adults; holds the NI number, identity checked at claim."""

    events: BenefitsEvents = Field(default_factory=BenefitsEvents)
    background_factors: tuple[GroupFactor, ...] = Field(
        default=(GroupFactor(column="tenure", value="owner", factor=0.1),),
        description="Rate multipliers on background events, by group.",
    )
    errors: ErrorRates = _errors(
        stale_address=0.25,
        nickname=0.005,
        name_typo=0.004,
        dob_digit=0.001,
        dob_day_month_swap=0.001,
        nhs_missing=0,
        upn_missing=0,
        ni_missing=0.01,
    )


class SocialCareEvents(Section):
    """Children's social care: contacts, referrals, plans, and later referrals."""

    contact: EventConfig = EventConfig(
        visibility=0.85,
        affluent_visibility_odds_ratio=0.5,
        mean_events=1.5,
        background_rate=0.04,
        affluent_background_ratio=0.25,
    )
    referral: EventConfig = EventConfig(
        visibility=0.75,
        affluent_visibility_odds_ratio=0.5,
        mean_events=1.2,
        background_rate=0.015,
        affluent_background_ratio=0.25,
    )
    child_in_need_plan: EventConfig = EventConfig(
        visibility=0.7, affluent_visibility_odds_ratio=0.5, mean_events=1.0
    )
    child_protection_plan: EventConfig = EventConfig(
        visibility=0.2, affluent_visibility_odds_ratio=0.35, mean_events=1.0
    )
    domestic_abuse_referral: EventConfig = EventConfig(
        visibility=0.3, affluent_visibility_odds_ratio=0.5, mean_events=1.0
    )
    followup_referral: EventConfig = EventConfig(
        visibility=0.8,
        affluent_visibility_odds_ratio=0.5,
        mean_events=1.2,
        background_rate=0.02,
        affluent_background_ratio=0.25,
    )


class SocialCareConfig(SourceConfig):
    """The council's own children's social care records; holds the NHS number."""

    events: SocialCareEvents = Field(default_factory=SocialCareEvents)
    errors: ErrorRates = _errors(
        stale_address=0.3, nhs_missing=0.25, upn_missing=0, ni_missing=0
    )


class SpineConfig(SourceConfig):
    """The council's family index, built from council tax, housing and admissions.

    People are grouped into spine households by the address the council holds, so a
    stale address can merge two true households or split one.
    """

    coverage: Rate = Field(0.97, description="P(a person is on the council's index).")
    errors: ErrorRates = _errors(
        duplicate=0.005,
        wrong_person=0.0,
        stale_address=0.35,
        name_typo=0.005,
        postcode_typo=0.002,
        postcode_missing=0.002,
        nhs_missing=0.3,
        upn_missing=0.1,
        ni_missing=0.4,
    )


class AgenciesConfig(Section):
    """Every record source: four agencies, social care, and the council's spine."""

    health: HealthConfig = Field(default_factory=HealthConfig)
    education: EducationConfig = Field(default_factory=EducationConfig)
    police: PoliceConfig = Field(default_factory=PoliceConfig)
    benefits: BenefitsConfig = Field(default_factory=BenefitsConfig)
    social_care: SocialCareConfig = Field(default_factory=SocialCareConfig)
    spine: SpineConfig = Field(default_factory=SpineConfig)

    def source(self, name: str) -> SourceConfig:
        """Return the configuration of source ``name``."""
        return getattr(self, name)


def default_error_multipliers() -> tuple[ErrorMultiplier, ...]:
    """The default ``error_multipliers`` (docs/methodology.md section 3.8).

    More name and identifier errors for minority ethnic groups, and more missing
    identifiers in the most deprived quintile.
    """
    name_errors = ("name_typo", "transliteration", "name_swap", "name_phonetic")
    ids = ("nhs_missing", "ni_missing", "upn_missing")
    return (
        ErrorMultiplier(
            column="ethnicity", value="asian", factor=2.5, errors=name_errors
        ),
        ErrorMultiplier(
            column="ethnicity", value="black", factor=2.0, errors=name_errors
        ),
        ErrorMultiplier(
            column="ethnicity", value="other", factor=2.5, errors=name_errors
        ),
        ErrorMultiplier(
            column="ethnicity", value="mixed", factor=1.5, errors=name_errors
        ),
        ErrorMultiplier(column="ethnicity", value="other", factor=2.0, errors=ids),
        ErrorMultiplier(column="imd_quintile", value=1, factor=1.5, errors=ids),
    )
