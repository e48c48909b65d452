"""The root of a scenario file: :class:`Scenario`, one field per section.

Every field has a default taken from public statistics (see docs/methodology.md) or,
where none exists, a stated assumption, so a scenario file states only what it changes.
Unknown keys are errors, so a typo is never a silent default. Reading files is
:mod:`simulator.schema.loading`; the attribution ladder's counterfactual scenarios are
:mod:`audits.counterfactuals`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from simulator.schema.agencies import (
    AgenciesConfig,
    ErrorMultiplier,
    default_error_multipliers,
)
from simulator.schema.audit import AuditConfig
from simulator.schema.consent import ConsentConfig
from simulator.schema.dynamics import DynamicsConfig
from simulator.schema.generation import GenerationConfig
from simulator.schema.linkage import LinkageConfig
from simulator.schema.model import CriteriaConfig, ModelConfig
from simulator.schema.population import (
    EligibilityConfig,
    HarmConfig,
    NeedsConfig,
    PopulationConfig,
    TimeConfig,
)
from simulator.schema.report import ReportConfig
from simulator.schema.section import Section
from simulator.schema.view import ViewConfig
from simulator.vocabulary import CONSENT_COLUMN


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
        default_factory=default_error_multipliers,
        description="Error-rate multipliers by group (applied on top of each source's "
        "rates, capped at 1).",
    )
    consent: ConsentConfig = Field(default_factory=ConsentConfig)
    linkage: LinkageConfig = Field(default_factory=LinkageConfig)
    view: ViewConfig = Field(default_factory=ViewConfig)
    model: ModelConfig = Field(
        default_factory=CriteriaConfig,
        description="The council's model, chosen by 'kind': criteria, scorecard, "
        "learned or external.",
    )
    audit: AuditConfig = Field(default_factory=AuditConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    dynamics: DynamicsConfig = Field(default_factory=DynamicsConfig)

    @model_validator(mode="after")
    def _consent_groups_need_consent(self) -> Scenario:
        if self.consent.enabled:
            return self
        a = self.audit
        used = {
            *a.group_columns,
            *a.reference,
            *(c for i in a.intersections for c in i),
        }
        if a.headline is not None:
            used.add(a.headline.grouping)
        if CONSENT_COLUMN in used:
            raise ValueError(
                f"audit: the group column {CONSENT_COLUMN!r} needs "
                "consent.withhold_rate above 0 (without it no family withholds "
                "consent)"
            )
        return self
