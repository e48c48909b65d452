"""The scenario's ``generation`` section: how records are generated in chunks."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from simulator.rng import BLOCK_SIZE
from simulator.schema.population import MAX_HOUSEHOLDS
from simulator.schema.section import Section


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
