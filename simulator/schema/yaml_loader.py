"""YAML as scenario files are read: PyYAML's safe loader, refusing duplicate keys.

Plain YAML loaders keep the last of two equal keys (``seed: 1`` then ``seed: 2``), so
a scenario could say one thing and run another without a word. Here a key given twice
in one mapping, at any depth, is an error naming the key and both lines. Merge keys
(``<<: *defaults``) still work: a key written beside a merge replaces the merged one,
as YAML says.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError

MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKeyError(ConstructorError):
    """A mapping gives one key twice; ``problem_mark`` is the second."""


class ScenarioLoader(yaml.SafeLoader):
    """PyYAML's :class:`yaml.SafeLoader` whose mappings refuse duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        """The mapping of ``node``, after checking that no key is given twice."""
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == MERGE_TAG:
                continue
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in first_line:
                raise DuplicateKeyError(
                    None,
                    None,
                    f"duplicate key {key!r} (lines {first_line[key]} and {line}); "
                    "each key may be given once in a mapping",
                    key_node.start_mark,
                )
            first_line[key] = line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    r"""Parse YAML text with :class:`ScenarioLoader` (safe; duplicate keys refused).

    Examples
    --------
    >>> load_yaml("seed: 1\npopulation: {n_households: 500}")
    {'seed': 1, 'population': {'n_households': 500}}
    >>> try:
    ...     load_yaml("seed: 1\nseed: 2")
    ... except DuplicateKeyError as e:
    ...     print(e.problem)
    duplicate key 'seed' (lines 1 and 2); each key may be given once in a mapping
    """
    return yaml.load(text, Loader=ScenarioLoader)  # noqa: S506  # a SafeLoader


def yaml_problem(error: yaml.YAMLError) -> str:
    """A YAML error in one line: ``line L, column C: problem`` (no excerpt of the text).

    Examples
    --------
    >>> try:
    ...     load_yaml("a: [1, 2")
    ... except yaml.YAMLError as e:
    ...     print(yaml_problem(e))
    line 1, column 9: expected ',' or ']', but got '<stream end>'
    """
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return where + problem
