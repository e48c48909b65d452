"""Build the model a scenario's ``model`` section names: one function, one choice.

Kept apart from :mod:`simulator.council.models.base` (the protocol every model
follows), which the built-in models import: this module imports them, so the two
directions never meet in one module.
"""

from __future__ import annotations

from pathlib import Path

from simulator.council.models.base import RiskModel, resolve_model_path
from simulator.errors import ModelError
from simulator.schema.model import (
    ESTIMATORS,
    CriteriaConfig,
    ExternalConfig,
    LearnedConfig,
    ModelConfig,
    ScorecardConfig,
)


def make_model(
    config: ModelConfig,
    *,
    random_state: int | None = None,
    base_dir: str | Path | None = None,
) -> RiskModel:
    """Build the model a scenario's ``model`` section names (unfitted).

    Parameters
    ----------
    config : ModelConfig
        The scenario's ``model`` section.
    random_state : int, optional
        Seed handed to a learned estimator that takes ``random_state`` (an int drawn
        from the scenario's seed streams).
    base_dir : str or Path, optional
        Directory relative ``scores`` and ``skops`` paths are resolved against (the
        scenario file's directory).

    Returns
    -------
    RiskModel

    Examples
    --------
    >>> make_model(CriteriaConfig()).__class__.__name__
    'CriteriaModel'
    """
    if isinstance(config, CriteriaConfig):
        from simulator.council.models.criteria import CriteriaModel

        return CriteriaModel(indicators=config.indicators)
    if isinstance(config, ScorecardConfig):
        from simulator.council.models.scorecard import ScorecardModel

        return ScorecardModel(items=config.items)
    if isinstance(config, LearnedConfig):
        from simulator.council.models.learned import LearnedModel

        return LearnedModel(
            estimator=ESTIMATORS.get(config.estimator, config.estimator),
            params=dict(config.params),
            features=config.features,
            allowed_modules=config.allowed_modules,
            random_state=random_state,
        )
    if isinstance(config, ExternalConfig):
        from simulator.council.models import external

        if config.plugin:
            return external.PluginModel(
                plugin=config.plugin,
                params=config.params,
                search_path=None if base_dir is None else str(base_dir),
            )
        if config.scores:
            path = resolve_model_path(config.scores, base_dir)
            return external.ScoreFileModel(path=str(path))
        assert config.skops is not None
        return external.SkopsModel(
            path=str(resolve_model_path(config.skops, base_dir)), trusted=config.trusted
        )
    raise ModelError(f"unknown model configuration {type(config).__name__}")
