"""The grid of a sweep or an exploration: varied parameters, points, their scenarios.

``--vary PATH=V1,V2,...`` (at most :data:`MAX_VARIES` of them) spans a grid of points;
each point's scenario is the base scenario with ``PATH=VALUE`` applied exactly as
``--set`` applies it (:func:`simulator.schema.loading.apply_overrides`) and validated
with the same messages, so a point differs from the base by the varied fields only
and keeps the base's seed: every point draws the same world, the same families, as
far as the varied fields allow (common random numbers). ``linkaudit sweep``
(:mod:`simulator.pipeline.sweep`) and ``linkaudit explore``
(:mod:`simulator.pipeline.explore`) share it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import product
from typing import Any, NamedTuple

import yaml

from simulator.errors import ScenarioError
from simulator.schema.loading import apply_overrides, scenario_from_dict
from simulator.schema.scenario import Scenario

MAX_VARIES = 2
"""At most this many parameters are varied together."""
MAX_RUNS = 50
"""At most this many runs (points times replicates) in one sweep."""
MAX_REPLICATES = 20


class Vary(NamedTuple):
    """One varied parameter: a ``--set`` path and the values it takes, in order."""

    path: str
    values: tuple[Any, ...]


def _override(path: str, value: Any) -> str:
    """A ``--set`` string whose value YAML parses back to ``value``."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return f"{path}={text.removesuffix('...').strip()}"


def check_grid(
    varies: Sequence[Vary | tuple[str, Sequence[Any]]],
    replicates: int,
    *,
    command: str,
) -> tuple[Vary, ...]:
    """The varied parameters as :class:`Vary`, checked; the command's messages.

    Raises
    ------
    ScenarioError
        For too many or too few parameters, a parameter given twice, or too many
        runs (points times replicates, :data:`MAX_RUNS`), each message starting
        with ``command``.
    """
    parsed = [v if isinstance(v, Vary) else Vary(v[0], tuple(v[1])) for v in varies]
    problems = []
    if not parsed:
        problems.append(f"{command}: give at least one --vary PATH=V1,V2,...")
    if len(parsed) > MAX_VARIES:
        problems.append(
            f"{command}: at most {MAX_VARIES} --vary parameters, got {len(parsed)}"
        )
    paths = [v.path for v in parsed]
    if len(set(paths)) != len(paths):
        problems.append(f"{command}: a parameter is varied twice: {paths}")
    if not 1 <= replicates <= MAX_REPLICATES:
        problems.append(
            f"{command}: --replicates must be between 1 and {MAX_REPLICATES}, "
            f"got {replicates}"
        )
    n_points = math.prod(len(v.values) for v in parsed) if parsed else 0
    if n_points * replicates > MAX_RUNS:
        problems.append(
            f"{command}: {n_points} points x {replicates} replicate(s) = "
            f"{n_points * replicates} runs; at most {MAX_RUNS} are allowed: use "
            "fewer values or replicates"
        )
    if problems:
        raise ScenarioError(problems)
    return tuple(parsed)


def point_scenarios(
    data: Mapping[str, Any], varies: Sequence[Vary], origin: str
) -> tuple[list[tuple[Any, ...]], list[Scenario]]:
    """Every point of the grid and its validated scenario (replicate 0).

    A point's scenario is ``data`` with each ``PATH=VALUE`` applied as ``--set``
    applies it, so it differs from the base by the varied fields only, and shares
    the base's seed: every point draws the same world (the same families) as far
    as the varied fields allow. Points are in :func:`itertools.product` order (the
    first parameter varies slowest).

    Raises
    ------
    ScenarioError
        Naming the ``--vary`` arguments of every point that is not valid.
    """
    points = list(product(*(v.values for v in varies)))
    scenarios, problems = [], []
    for point in points:
        overrides = [_override(v.path, x) for v, x in zip(varies, point, strict=True)]
        try:
            scenarios.append(
                scenario_from_dict(apply_overrides(dict(data), overrides), origin)
            )
        except ScenarioError as e:
            where = " ".join(
                f"--vary {v.path}={x!r}" for v, x in zip(varies, point, strict=True)
            )
            problems += [f"{where}: {p}" for p in e.problems]
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return points, scenarios


def setting_text(x: Any) -> str:
    """A short text for a setting's value (YAML flow style).

    Examples
    --------
    >>> setting_text(0.5), setting_text("owner"), setting_text({"budget": 500})
    ('0.5', 'owner', '{budget: 500}')
    """
    if isinstance(x, str):
        return x
    return (
        yaml.safe_dump(x, default_flow_style=True, width=10_000)
        .strip()
        .removesuffix("...")
        .strip()
    )


def setting_description(scenario: Scenario, path: str) -> str | None:
    """The schema's description of the field ``path`` names, for a reader.

    Walks the validated scenario (so a model's own fields are found under the kind
    it has); None when the path ends in a mapping or the field has no description.

    Examples
    --------
    >>> from simulator.schema.loading import scenario_from_dict
    >>> s = scenario_from_dict({"name": "x"}, "<x>")
    >>> setting_description(s, "population.n_households")
    'Families with dependent children to simulate.'
    """
    obj: Any = scenario
    description = None
    for key in path.split("."):  # a few keys
        fields = getattr(type(obj), "model_fields", None)
        if fields is not None and key in fields:
            description = fields[key].description
            obj = getattr(obj, key)
        elif isinstance(obj, Mapping) and key in obj:
            description, obj = None, obj[key]
        else:
            return None
    return description
