"""The scenario's ``consent`` section: families who withhold consent to data sharing.

A family that withholds consent has its records kept by the agencies that hold them:
they are not shared with the council for linkage, except by the sources named for
safeguarding, which share whatever the family said. Off by default (no family is
asked, and every record is shared, as in a council that links under its legal
gateways without asking). Where the defaults come from: docs/methodology.md,
"Consent".
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from simulator.schema.agencies import GroupFactor
from simulator.schema.section import Rate, Section

SharedSource = Literal["health", "education", "police", "benefits", "social_care"]
"""An agency whose records are shared with the council (the spine is its own)."""


class ConsentConfig(Section):
    """Who withholds consent, and which records are shared regardless (``consent``)."""

    withhold_rate: Rate = Field(
        0.0,
        description="Chance that a family withholds consent to sharing its records "
        "with the council for linkage, for families of no group in "
        "group_odds_ratios (0: no family withholds, the default). The NHS national "
        "data opt-out covered about 5% of England's population in 2021; an opt-in "
        "regime, as in the parents' survey where about 15% accepted linkage to "
        "identify families, would be about 0.85.",
    )
    group_odds_ratios: tuple[GroupFactor, ...] = Field(
        (),
        max_length=50,
        description="Odds ratios of withholding consent for some groups (for "
        "example the least trusting); factors of every group a family is in "
        "multiply.",
    )
    safeguarding_sources: tuple[SharedSource, ...] = Field(
        ("social_care",),
        description="Sources that share a family's records whatever it said "
        "(safeguarding: consent is not the basis for sharing to protect a child). "
        "Default: the council's own children's social care. An empty list means "
        "no record of such a family is shared.",
    )

    @model_validator(mode="after")
    def _factors_need_a_rate(self) -> ConsentConfig:
        if self.group_odds_ratios and self.withhold_rate == 0:
            raise ValueError(
                "group_odds_ratios need a withhold_rate above 0 (odds ratios "
                "multiply the odds of withholding, which are 0 at a rate of 0)"
            )
        return self

    @property
    def enabled(self) -> bool:
        """Whether any family can withhold consent."""
        return self.withhold_rate > 0
