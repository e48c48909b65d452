"""linkaudit's simulator: the synthetic truth, the records and the council side.

All people, households, addresses and identifiers it makes are synthetic.
"""

from simulator.errors import LinkauditError, ScenarioError
from simulator.schema.scenario import Scenario, load_scenario
from simulator.world.generate import SyntheticData, generate, write_dataset

__all__ = [
    "LinkauditError",
    "Scenario",
    "ScenarioError",
    "SyntheticData",
    "generate",
    "load_scenario",
    "write_dataset",
]
