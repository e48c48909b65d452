"""The scenario schema: one frozen pydantic section per part of a scenario file.

It imports no stage and no pandas: loading a scenario file reads YAML and validates
it, nothing more (an import contract in ``pyproject.toml`` keeps it so). The root is
:class:`~simulator.schema.scenario.Scenario`; its sections live in ``population``,
``agencies``, ``generation``, ``linkage``, ``view``, ``model`` and ``audit``, and
``loading`` reads files (:func:`~simulator.schema.loading.load_scenario`).
"""
