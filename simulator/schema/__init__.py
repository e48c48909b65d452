"""The scenario schema: one frozen pydantic section per part of a scenario file.

It imports no stage: loading a scenario file reads YAML and validates it, nothing
more. :class:`~simulator.schema.scenario.Scenario` is the root.
"""
