"""linkaudit's simulator: the synthetic truth, the records and the council side.

All people, households, addresses and identifiers it makes are synthetic. The public
names load lazily, so loading a scenario file (``simulator.schema``) does not import
pandas or the stages.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from simulator.errors import LinkauditError, ScenarioError

_EXPORTS = {
    "Scenario": "simulator.schema.scenario",
    "load_scenario": "simulator.schema.loading",
    "SyntheticData": "simulator.world.generate",
    "generate": "simulator.world.generate",
    "write_dataset": "simulator.world.generate",
}

__all__ = [
    "LinkauditError",
    "Scenario",
    "ScenarioError",
    "SyntheticData",
    "generate",
    "load_scenario",
    "write_dataset",
]

if TYPE_CHECKING:
    from simulator.schema.loading import load_scenario
    from simulator.schema.scenario import Scenario
    from simulator.world.generate import SyntheticData, generate, write_dataset


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'simulator' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
