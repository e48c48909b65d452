"""linkaudit's simulator: the synthetic truth, the records and the council side.

All people, households, addresses and identifiers it makes are synthetic.
"""

from simulator.errors import LinkauditError, ScenarioError
from simulator.generate import SyntheticData, generate, write_dataset
from simulator.scenario import Scenario, load_scenario

__all__ = [
    "LinkauditError",
    "Scenario",
    "ScenarioError",
    "SyntheticData",
    "generate",
    "load_scenario",
    "write_dataset",
]
