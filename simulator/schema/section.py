"""The base of every scenario section, shared by the scenario and each stage's config.

Stages keep their own configuration next to their code (``simulator.schema.linkage``,
``simulator.schema.model``, ``simulator.schema.audit``); all of them derive from
:class:`Section`, so every part of a scenario file is immutable and refuses unknown
keys.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
"""A probability or share in [0, 1]."""
Share = Annotated[float, Field(ge=0.0, le=1.0)]
"""A share of a whole in [0, 1] (shares of one section are normalised to sum to 1)."""
OddsRatio = Annotated[float, Field(gt=0.0, le=1000.0)]
"""An odds ratio between two groups (positive, at most 1000)."""
Factor = Annotated[float, Field(gt=0.0, le=1000.0)]
"""A multiplier on a rate (positive, at most 1000)."""


class Section(BaseModel):
    """Base of every scenario section: immutable, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)
