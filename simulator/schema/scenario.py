"""The scenario file: a frozen pydantic schema, YAML loading and ``--set`` overrides.

Every field has a default taken from public statistics (see docs/methodology.md) or,
where none exists, a stated assumption, so a scenario file states only what it changes.
Unknown keys are errors, so a typo is never a silent default.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, ValidationError, model_validator

from simulator.errors import ScenarioError
from simulator.rng import BLOCK_SIZE
from simulator.schema.audit import AuditConfig
from simulator.schema.linkage import LinkageConfig
from simulator.schema.model import CriteriaConfig, ModelConfig
from simulator.schema.section import Rate, Section
from simulator.schema.view import ViewConfig
from simulator.vocabulary import (
    GROUP_VALUES,
    SOURCES,
    ErrorName,
    Ethnicity,
    GroupColumn,
    Source,
)

MAX_FILE_BYTES = 1_000_000
"""Scenario files larger than this are refused before parsing."""
MAX_HOUSEHOLDS = 2_000_000
MAX_AREAS = 25_000
"""The synthetic postcode scheme names at most this many areas."""

Share = Annotated[float, Field(ge=0.0, le=1.0)]
OddsRatio = Annotated[float, Field(gt=0.0, le=1000.0)]
Factor = Annotated[float, Field(gt=0.0, le=1000.0)]


class GroupFactor(Section):
    """A multiplier for the households of one group (a column and one of its values)."""

    column: GroupColumn = Field(
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


def _normalise(weights: dict[str, float], what: str) -> dict[str, float]:
    total = sum(weights.values())
    if not total > 0:
        raise ValueError(f"{what} must have a positive sum")
    return {k: v / total for k, v in weights.items()}


class EthnicityShares(Section):
    """Shares of the ONS 5-group ethnicity classification (normalised to sum to 1)."""

    white: Share = 0.817
    asian: Share = 0.093
    black: Share = 0.040
    mixed: Share = 0.029
    other: Share = 0.021

    def normalised(self) -> dict[str, float]:
        """Return the shares as a dict summing to 1."""
        return _normalise(self.model_dump(), "ethnicity shares")


class EthnicityDecileOne(Section):
    """Fraction of each group's families living in the most deprived decile of areas.

    0.1 means no concentration; the profile over deciles is linear, so each value
    must be at most 0.2.
    """

    white: Annotated[float, Field(ge=0.0, le=0.2)] = 0.091
    asian: Annotated[float, Field(ge=0.0, le=0.2)] = 0.17
    black: Annotated[float, Field(ge=0.0, le=0.2)] = 0.16
    mixed: Annotated[float, Field(ge=0.0, le=0.2)] = 0.17
    other: Annotated[float, Field(ge=0.0, le=0.2)] = 0.13


class TenureShares(Section):
    """Tenure of families with dependent children (normalised to sum to 1)."""

    owner: Share = 0.58
    private_rent: Share = 0.22
    social_rent: Share = 0.20

    def normalised(self) -> dict[str, float]:
        """Return the shares as a dict summing to 1."""
        return _normalise(self.model_dump(), "tenure shares")


class TenureGradient(Section):
    """Odds of each renting tenure versus owning, most versus least deprived decile."""

    private_rent: OddsRatio = 2.0
    social_rent: OddsRatio = 8.0


class TenureRates(Section):
    """A probability per tenure."""

    owner: Rate
    private_rent: Rate
    social_rent: Rate


class PopulationConfig(Section):
    """Size and make-up of the synthetic population of families with children."""

    n_households: Annotated[int, Field(ge=10, le=MAX_HOUSEHOLDS)] = Field(
        20_000, description="Families with dependent children to simulate."
    )
    households_per_area: Annotated[int, Field(ge=20, le=5_000)] = Field(
        170,
        description="Families per small area (an LSOA of ~1,500 residents holds about "
        "170 families with dependent children).",
    )
    decile_weights: tuple[
        Share, Share, Share, Share, Share, Share, Share, Share, Share, Share
    ] = Field(
        (
            0.1241,
            0.1159,
            0.1089,
            0.0987,
            0.0950,
            0.0932,
            0.0892,
            0.0900,
            0.0913,
            0.0937,
        ),
        description="Share of families in each IMD decile, 1 (most deprived) first; "
        "default: children's share by decile, IoD2019.",
    )
    ethnicity: EthnicityShares = Field(default_factory=EthnicityShares)
    ethnicity_decile_one: EthnicityDecileOne = Field(default_factory=EthnicityDecileOne)
    tenure: TenureShares = Field(default_factory=TenureShares)
    tenure_deprivation_odds_ratio: TenureGradient = Field(
        default_factory=TenureGradient
    )
    lone_parent_share: Share = Field(0.25, description="Share of lone-parent families.")
    lone_parent_deprivation_odds_ratio: OddsRatio = Field(
        2.5, description="Odds of a lone-parent family, most vs least deprived decile."
    )
    lone_parent_ethnicity_odds_ratio: dict[Ethnicity, OddsRatio] = Field(
        default_factory=lambda: {"asian": 0.4, "black": 2.4, "mixed": 2.0},
        description="Odds of a lone-parent family by ethnicity, versus white.",
    )
    lone_parent_mother_share: Share = Field(
        0.89, description="Share of lone parents who are mothers."
    )
    children_shares: tuple[Share, Share, Share, Share, Share] = Field(
        (0.446, 0.41, 0.10, 0.03, 0.014),
        description="Share of families with 1, 2, 3, 4 and 5 dependent children.",
    )
    moved_last_year: TenureRates = Field(
        default_factory=lambda: TenureRates(
            owner=0.018, private_rent=0.205, social_rent=0.058
        ),
        description="Probability that a family moved in the last year, by tenure.",
    )
    partner_shares_surname: Share = Field(
        0.7, description="Probability that a couple share one surname."
    )
    child_shares_parent_surname: Share = Field(
        0.9,
        description="Probability that a child has the first parent's surname "
        "(else the partner's, or another).",
    )

    @model_validator(mode="after")
    def _check(self) -> PopulationConfig:
        if not sum(self.decile_weights) > 0:
            raise ValueError("decile_weights must have a positive sum")
        if not sum(self.children_shares) > 0:
            raise ValueError("children_shares must have a positive sum")
        n_areas = math.ceil(self.n_households / self.households_per_area)
        if n_areas > MAX_AREAS:
            raise ValueError(
                f"n_households / households_per_area gives {n_areas} areas; at most "
                f"{MAX_AREAS} are supported: raise households_per_area"
            )
        return self

    @property
    def n_areas(self) -> int:
        """Number of small areas."""
        return math.ceil(self.n_households / self.households_per_area)


class NeedConfig(Section):
    """How common one headline problem is and how it varies by group."""

    prevalence: Share = Field(description="Share of families with the problem.")
    deprivation_odds_ratio: OddsRatio = Field(
        1.0, description="Odds of the problem, most vs least deprived decile."
    )
    lone_parent_odds_ratio: OddsRatio = Field(
        1.0, description="Odds of the problem, lone-parent vs couple families."
    )


class NeedsConfig(Section):
    """The six headline problems, their prevalence and their correlation."""

    crime_asb: NeedConfig = NeedConfig(
        prevalence=0.05, deprivation_odds_ratio=4.0, lone_parent_odds_ratio=1.5
    )
    education: NeedConfig = NeedConfig(
        prevalence=0.15, deprivation_odds_ratio=2.8, lone_parent_odds_ratio=1.5
    )
    children_in_need: NeedConfig = NeedConfig(
        prevalence=0.045, deprivation_odds_ratio=6.0, lone_parent_odds_ratio=2.0
    )
    worklessness: NeedConfig = NeedConfig(
        prevalence=0.10, deprivation_odds_ratio=5.0, lone_parent_odds_ratio=7.0
    )
    domestic_abuse: NeedConfig = NeedConfig(
        prevalence=0.05, deprivation_odds_ratio=2.5, lone_parent_odds_ratio=2.0
    )
    health: NeedConfig = NeedConfig(
        prevalence=0.20, deprivation_odds_ratio=2.0, lone_parent_odds_ratio=1.5
    )
    correlation: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.35,
        description="Correlation of the latent risks behind the problems (one common "
        "factor): how strongly problems cluster in the same families.",
    )

    def need(self, name: str) -> NeedConfig:
        """Return the configuration of need ``name``."""
        return getattr(self, name)


class EligibilityConfig(Section):
    """The programme's criteria applied to the truth."""

    min_needs: Annotated[int, Field(ge=1, le=6)] = Field(
        2,
        description="A family is eligible with at least this many true problems "
        "(Troubled Families phase 2: 2 of 6).",
    )


class HarmConfig(Section):
    """The adverse outcome in the follow-up period (e.g. a child protection plan)."""

    base_probability: Rate = Field(
        0.008, description="Probability for a family with no problems."
    )
    odds_ratio_per_need: OddsRatio = Field(
        2.0, description="Odds ratio for each true problem."
    )
    deprivation_odds_ratio: OddsRatio = Field(
        1.5, description="Odds ratio, most vs least deprived decile, same problems."
    )


class TimeConfig(Section):
    """The dates that frame records: an observation window, then a follow-up."""

    reference_date: dt.date = Field(
        dt.date(2026, 3, 31),
        description="End of the observation window; the follow-up starts next day.",
    )
    observation_days: Annotated[int, Field(ge=30, le=3_650)] = 365
    followup_days: Annotated[int, Field(ge=30, le=3_650)] = 730


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


def _default_error_multipliers() -> tuple[ErrorMultiplier, ...]:
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


class GenerationConfig(Section):
    """How generation is split up; never changes the data."""

    chunk_size: Annotated[int, Field(ge=BLOCK_SIZE, le=MAX_HOUSEHOLDS)] = Field(
        50_000,
        description=f"Households generated at a time; a multiple of {BLOCK_SIZE}. "
        "Outputs do not depend on it.",
    )

    @model_validator(mode="after")
    def _multiple_of_block(self) -> GenerationConfig:
        if self.chunk_size % BLOCK_SIZE:
            raise ValueError(
                f"chunk_size must be a multiple of {BLOCK_SIZE} (the seeding block), "
                f"got {self.chunk_size}"
            )
        return self


class Scenario(Section):
    """A complete linkaudit scenario: who lives here, what agencies see, and errors."""

    name: str = Field("unnamed", max_length=200, description="Short name for reports.")
    description: str = Field("", max_length=20_000, description="What it shows.")
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = Field(
        20260331, description="Seed of every random stream."
    )
    time: TimeConfig = Field(default_factory=TimeConfig)
    population: PopulationConfig = Field(default_factory=PopulationConfig)
    needs: NeedsConfig = Field(default_factory=NeedsConfig)
    eligibility: EligibilityConfig = Field(default_factory=EligibilityConfig)
    harm: HarmConfig = Field(default_factory=HarmConfig)
    agencies: AgenciesConfig = Field(default_factory=AgenciesConfig)
    error_multipliers: tuple[ErrorMultiplier, ...] = Field(
        default_factory=_default_error_multipliers,
        description="Error-rate multipliers by group (applied on top of each source's "
        "rates, capped at 1).",
    )
    linkage: LinkageConfig = Field(default_factory=LinkageConfig)
    view: ViewConfig = Field(default_factory=ViewConfig)
    model: ModelConfig = Field(
        default_factory=CriteriaConfig,
        description="The council's model, chosen by 'kind': criteria, scorecard, "
        "learned or external.",
    )
    audit: AuditConfig = Field(default_factory=AuditConfig)
    generation: GenerationConfig = Field(default_factory=GenerationConfig)

    def without_errors(self) -> Scenario:
        """Return a copy with every error rate of every source set to 0."""
        agencies = {
            name: self.agencies.source(name).model_copy(
                update={"errors": ErrorRates.zero()}
            )
            for name in SOURCES
        }
        return self.model_copy(
            update={"agencies": self.agencies.model_copy(update=agencies)}
        )

    def without_visibility_bias(self) -> Scenario:
        """Return a copy where every true problem is recorded and nothing else is.

        Every event that reflects a problem is seen with probability 1 in every
        group, no event is recorded without a problem (no background, no
        surveillance), and everyone is on every register and on the spine. The
        first rung of the attribution ladder: what remains wrong is the model's.
        """

        def full(event: EventConfig) -> EventConfig:
            return event.model_copy(
                update={
                    "visibility": 1.0 if event.visibility > 0 else 0.0,
                    "affluent_visibility_odds_ratio": 1.0,
                    "background_rate": 0.0,
                    "affluent_background_ratio": 1.0,
                }
            )

        agencies = {}
        for name in SOURCES:
            cfg = self.agencies.source(name)
            update: dict[str, Any] = {
                "visibility_factors": (),
                "background_factors": (),
            }
            if "events" in type(cfg).model_fields:
                events = cfg.events  # type: ignore[attr-defined]
                update["events"] = events.model_copy(
                    update={
                        k: full(getattr(events, k)) for k in type(events).model_fields
                    }
                )
            for cov in ("coverage", "registration_coverage", "census_coverage"):
                if cov in type(cfg).model_fields:
                    update[cov] = 1.0
            if "absence_without_need" in type(cfg).model_fields:
                # Mean 0.1%: no pupil without the problem is persistently absent.
                update["absence_without_need"] = (2.0, 2000.0)
            agencies[name] = cfg.model_copy(update=update)
        return self.model_copy(
            update={"agencies": self.agencies.model_copy(update=agencies)}
        )


# --------------------------------------------------------------------------- loading


def _format_loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def _problems(err: ValidationError, origin: str) -> list[str]:
    lines = []
    for e in err.errors():
        loc = [p for p in e["loc"] if not (isinstance(p, str) and "[" in p)]
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling; see `linkaudit schema`)"
            lines.append(f"{origin}: {_format_loc(tuple(loc))}: {msg}")
            continue
        found = e.get("input")
        if isinstance(found, dict | list):  # a section-level check: msg says it all
            lines.append(f"{origin}: {_format_loc(tuple(loc))}: {msg}")
            continue
        shown = repr(found)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        lines.append(f"{origin}: {_format_loc(tuple(loc))}: {msg}, found {shown}")
    return lines


MAX_NODES = 100_000
"""Values a scenario may hold once YAML aliases are expanded (a real one has ~2,000)."""


def _expanded_size(data: Any, memo: dict[int, int] | None = None) -> int:
    """How many values ``data`` holds with every shared (aliased) part counted again.

    Computed without expanding anything: each list or mapping is sized once.
    """
    memo = {} if memo is None else memo
    if not isinstance(data, dict | list):
        return 1
    key = id(data)
    if key not in memo:
        memo[key] = 0  # a YAML cycle counts once
        children = data.values() if isinstance(data, dict) else data
        memo[key] = 1 + sum(_expanded_size(c, memo) for c in children)
    return memo[key]


def _check_size(data: Any, origin: str) -> None:
    """Refuse YAML whose aliases expand to more than :data:`MAX_NODES` values.

    A few hundred bytes of nested aliases can stand for billions of values.
    """
    n = _expanded_size(data)
    if n > MAX_NODES:
        raise ScenarioError(
            [
                f"{origin}: the YAML expands to {n:,} values (its aliases repeat "
                f"each other); scenario files hold at most {MAX_NODES:,}"
            ]
        )


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``path.to.field=value`` into a path and a YAML-parsed value."""
    if "=" not in text:
        raise ScenarioError(
            [f"--set {text}: expected path.to.field=value, found no '='"]
        )
    path, raw = text.split("=", 1)
    keys = list(path.strip().split("."))
    if not all(keys):
        raise ScenarioError([f"--set {text}: empty field name in {path!r}"])
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
        _check_size(value, f"--set {text}")
    except yaml.YAMLError as e:
        raise ScenarioError([f"--set {text}: value is not valid YAML ({e})"]) from e
    return keys, value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return ``data`` with each ``path.to.field=value`` override set, unvalidated."""
    out = _deep_copy(data)
    for text in overrides:
        keys, value = parse_override(text)
        node = out
        for k in keys[:-1]:
            nxt = node.get(k)
            if nxt is None:
                nxt = node[k] = {}
            elif not isinstance(nxt, dict):
                raise ScenarioError(
                    [f"--set {text}: {k} is a value, not a section with fields"]
                )
            node = nxt
        node[keys[-1]] = value
    return out


def _deep_copy(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _deep_copy(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_deep_copy(v) for v in d]
    return d


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a scenario file safely, refusing oversized or non-mapping files."""
    origin = str(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ScenarioError([f"{origin}: cannot read the file ({e.strerror})"]) from e
    if size > MAX_FILE_BYTES:
        raise ScenarioError(
            [
                f"{origin}: file is {size:,} bytes; scenario files are at most "
                f"{MAX_FILE_BYTES:,}"
            ]
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ScenarioError([f"{origin}: not UTF-8 text ({e.reason})"]) from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ScenarioError([f"{origin}: {where}invalid YAML: {problem}"]) from e
    _check_size(data, origin)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ScenarioError(
            [
                f"{origin}: (top level): expected a mapping of sections, found "
                f"{type(data).__name__}"
            ]
        )
    return data


def _merge(base: Any, given: Any) -> Any:
    """``given`` laid over ``base``: mappings merge key by key, anything else replaces.

    A mapping with a ``kind`` (a choice of model) replaces the base when the kinds
    differ, so the fields of one kind never leak into another.
    """
    if not (isinstance(base, dict) and isinstance(given, dict)):
        return given
    if "kind" in given and given.get("kind") != base.get("kind"):
        return given
    out = dict(base)
    for key, value in given.items():
        out[key] = _merge(base[key], value) if key in base else value
    return out


def resolve(data: dict[str, Any]) -> dict[str, Any]:
    """A scenario mapping completed with every default it does not state.

    A file that changes one field of a section keeps the section's other defaults,
    e.g. ``needs.children_in_need.deprivation_odds_ratio: 5`` keeps that need's own
    prevalence, and an event's new visibility keeps its own mean number of events.
    """
    return _merge(Scenario().model_dump(mode="json"), data)


def scenario_from_dict(data: dict[str, Any], origin: str = "<scenario>") -> Scenario:
    """Validate a scenario mapping, raising ScenarioError with every problem.

    Fields the mapping does not state keep their defaults (:func:`resolve`).
    """
    try:
        return Scenario.model_validate(resolve(data))
    except ValidationError as e:
        raise ScenarioError(_problems(e, origin)) from None


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Load, override and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        The YAML scenario file.
    overrides : list of str, optional
        ``path.to.field=value`` strings, applied in order before validation.

    Raises
    ------
    ScenarioError
        With one ``FILE: path.to.field: problem`` line per problem.
    """
    path = Path(path)
    data = apply_overrides(read_yaml(path), overrides or [])
    origin = f"{path} with --set" if overrides else str(path)
    return scenario_from_dict(data, origin)


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema of scenario files, for editors and docs."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "linkaudit scenario"
    return schema
