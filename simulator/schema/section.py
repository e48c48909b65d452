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


class Section(BaseModel):
    """Base of every scenario section: immutable, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)
