"""The scenario's population sections: who lives here, their needs, harm and dates.

``population`` (size, deprivation, ethnicity, tenure, family shape), ``needs`` (the six
headline problems), ``eligibility`` (the programme's criteria on the truth), ``harm``
(the adverse outcome in the follow-up) and ``time`` (observation window, follow-up).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated

from pydantic import Field, model_validator

from simulator.schema.section import OddsRatio, Rate, Section, Share
from simulator.vocabulary import Ethnicity

MAX_HOUSEHOLDS = 10_000_000
"""The largest population a scenario may ask for: person ids (10 a household) must
stay below 10**8, the space the synthetic NHS and NI numbers are drawn from.
Whether a run of it fits this machine is the memory check's (``--memory-limit``)."""
MAX_AREAS = 75_000
"""The synthetic postcode scheme names at most this many areas (3 x 25 postcode
areas of 1,000 sectors)."""


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
