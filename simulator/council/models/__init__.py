"""Risk models: the plug-in protocol, the built-in models and flag rules.

Build a model from the scenario's ``model`` section with :func:`make_model`, fit it
(a no-op for stateless models), score the linked family view, and turn scores into
flags with :func:`apply_flag_rule` and the section's :meth:`flag_rule`.
:func:`flag_table` writes each household's score, flag and drivers. See
docs/models.md.
"""

from __future__ import annotations

from simulator.council.models.base import (
    ModelBase,
    RiskModel,
    apply_flag_rule,
    check_view,
    drivers,
    n_flagged,
    ranking,
)
from simulator.council.models.checks import check_model, model_checks
from simulator.council.models.flags import flag_table
from simulator.council.models.make import make_model
from simulator.schema.model import (
    CriteriaConfig,
    ExternalConfig,
    FlagRule,
    Indicator,
    Indicators,
    LearnedConfig,
    ModelConfig,
    ScorecardConfig,
    ScoreItem,
)

__all__ = [
    "CriteriaConfig",
    "ExternalConfig",
    "FlagRule",
    "Indicator",
    "Indicators",
    "LearnedConfig",
    "ModelBase",
    "ModelConfig",
    "RiskModel",
    "ScoreItem",
    "ScorecardConfig",
    "apply_flag_rule",
    "check_model",
    "check_view",
    "drivers",
    "flag_table",
    "make_model",
    "model_checks",
    "n_flagged",
    "ranking",
]
