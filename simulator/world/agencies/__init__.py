"""One module per record source, each with ``records(chunk, cfg) -> DataFrame``."""

from simulator.world.agencies import (
    benefits,
    education,
    health,
    police,
    social_care,
    spine,
)

MODULES = {
    "health": health,
    "education": education,
    "police": police,
    "benefits": benefits,
    "social_care": social_care,
    "spine": spine,
}
"""Source name -> module, in the order sources are generated."""

__all__ = ["MODULES"]
