"""Reading scenario files: YAML safely, ``--set`` overrides, defaults and validation.

A scenario file states only what it changes: :func:`resolve` lays it over the
defaults section by section before :class:`~simulator.schema.scenario.Scenario`
validates it, and every problem becomes one ``FILE: path.to.field: problem`` line of
a :class:`~simulator.errors.ScenarioError`. Sizes are checked before parsing (bytes)
and after (values once YAML aliases are expanded); a key given twice is refused
(:mod:`~simulator.schema.yaml_loader`), and a misspelt field or kind is answered with
the closest name (:mod:`~simulator.schema.suggest`).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from simulator.errors import ScenarioError, ScenarioWarning
from simulator.schema.scenario import Scenario
from simulator.schema.suggest import kinds_at, unknown_field, unknown_kind
from simulator.schema.yaml_loader import load_yaml, yaml_problem

MAX_FILE_BYTES = 1_000_000
"""Scenario files larger than this are refused before parsing."""


def _format_loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def _problems(err: ValidationError, origin: str) -> list[str]:
    lines = []
    for e in err.errors():
        loc = [p for p in e["loc"] if not (isinstance(p, str) and "[" in p)]
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            lines.append(f"{origin}: {_format_loc(tuple(loc))}: {unknown_field(loc)}")
            continue
        if e["type"] == "union_tag_invalid":  # the kind as given, not as text
            given = e.get("input")
            tag = given.get("kind") if isinstance(given, dict) else e["ctx"]["tag"]
            kind = unknown_kind(loc, tag)
            lines.append(f"{origin}: {_format_loc((*loc, 'kind'))}: {kind}")
            continue
        found = e.get("input")
        if isinstance(found, dict | list):  # a section-level check: msg says it all
            lines.append(f"{origin}: {_format_loc(tuple(loc))}: {msg}")
            continue
        shown = repr(found)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        lines.append(f"{origin}: {_format_loc(tuple(loc))}: {msg}, found {shown}")
    return lines


MAX_NODES = 100_000
"""Values a scenario may hold once YAML aliases are expanded (a real one has ~2,000)."""


def _expanded_size(data: Any, memo: dict[int, int] | None = None) -> int:
    """How many values ``data`` holds with every shared (aliased) part counted again.

    Computed without expanding anything: each list or mapping is sized once.
    """
    memo = {} if memo is None else memo
    if not isinstance(data, dict | list):
        return 1
    key = id(data)
    if key not in memo:
        memo[key] = 0  # a YAML cycle counts once
        children = data.values() if isinstance(data, dict) else data
        memo[key] = 1 + sum(_expanded_size(c, memo) for c in children)
    return memo[key]


def _check_size(data: Any, origin: str) -> None:
    """Refuse YAML whose aliases expand to more than :data:`MAX_NODES` values.

    A few hundred bytes of nested aliases can stand for billions of values.
    """
    n = _expanded_size(data)
    if n > MAX_NODES:
        raise ScenarioError(
            [
                f"{origin}: the YAML expands to {n:,} values (its aliases repeat "
                f"each other); scenario files hold at most {MAX_NODES:,}"
            ]
        )


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``path.to.field=value`` into a path and a YAML-parsed value."""
    if "=" not in text:
        raise ScenarioError(
            [f"--set {text}: expected path.to.field=value, found no '='"]
        )
    path, raw = text.split("=", 1)
    keys = list(path.strip().split("."))
    if not all(keys):
        raise ScenarioError([f"--set {text}: empty field name in {path!r}"])
    try:
        value = load_yaml(raw) if raw.strip() else ""
        _check_size(value, f"--set {text}")
    except yaml.YAMLError as e:
        raise ScenarioError(
            [f"--set {text}: value is not valid YAML ({yaml_problem(e)})"]
        ) from e
    return keys, value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return ``data`` with each ``path.to.field=value`` override set, unvalidated."""
    out = _deep_copy(data)
    for text in overrides:
        keys, value = parse_override(text)
        node = out
        for k in keys[:-1]:
            nxt = node.get(k)
            if nxt is None:
                nxt = node[k] = {}
            elif not isinstance(nxt, dict):
                raise ScenarioError(
                    [f"--set {text}: {k} is a value, not a section with fields"]
                )
            node = nxt
        if keys[-1] == "kind":
            _drop_other_kinds_fields(node, keys[:-1], value, text)
        node[keys[-1]] = value
    return out


def _drop_other_kinds_fields(
    section: dict[str, Any], loc: list[str], kind: Any, text: str
) -> None:
    """Remove the fields of ``section`` that the new ``kind`` does not have, and say so.

    ``--set model.kind=learned`` on a file with ``model: {kind: criteria,
    min_problems: 2}`` means the learned model with its defaults: ``min_problems``
    would otherwise stay behind and be an unknown field of the learned model.
    """
    kinds = kinds_at(loc)
    if not isinstance(kind, str) or kind not in kinds:
        return  # not a choice of kind, or an unknown kind: validation says which
    fields = kinds[kind].model_fields
    dropped = [key for key in section if key not in fields]
    for key in dropped:
        del section[key]
    if dropped:
        names = ", ".join(".".join([*loc, key]) for key in dropped)
        warnings.warn(
            f"--set {text}: dropped {names}: not a field of kind {kind!r} (set the "
            "new kind's fields after its kind)",
            ScenarioWarning,
            stacklevel=3,
        )


def _deep_copy(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _deep_copy(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_deep_copy(v) for v in d]
    return d


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a scenario file safely, refusing oversized, empty or non-mapping files.

    A key given twice in a mapping is refused (:mod:`~simulator.schema.yaml_loader`),
    and so is a file with no mapping at all: a file whose settings were all lost would
    otherwise run as the default scenario without a word.
    """
    origin = str(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ScenarioError([f"{origin}: cannot read the file ({e.strerror})"]) from e
    if size > MAX_FILE_BYTES:
        raise ScenarioError(
            [
                f"{origin}: file is {size:,} bytes; scenario files are at most "
                f"{MAX_FILE_BYTES:,}"
            ]
        )
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ScenarioError([f"{origin}: not UTF-8 text ({e.reason})"]) from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ScenarioError([f"{origin}: {where}invalid YAML: {problem}"]) from e
    _check_size(data, origin)
    if data is None:
        raise ScenarioError(
            [
                f"{origin}: the file is empty (or holds only comments); a scenario of "
                "every default is written {}"
            ]
        )
    if not isinstance(data, dict):
        raise ScenarioError(
            [
                f"{origin}: (top level): expected a mapping of sections, found "
                f"{type(data).__name__}"
            ]
        )
    return data


def _merge(base: Any, given: Any) -> Any:
    """``given`` laid over ``base``: mappings merge key by key, anything else replaces.

    A mapping with a ``kind`` (a choice of model) replaces the base when the kinds
    differ, so the fields of one kind never leak into another.
    """
    if not (isinstance(base, dict) and isinstance(given, dict)):
        return given
    if "kind" in given and given.get("kind") != base.get("kind"):
        return given
    out = dict(base)
    for key, value in given.items():
        out[key] = _merge(base[key], value) if key in base else value
    return out


def resolve(data: dict[str, Any]) -> dict[str, Any]:
    """A scenario mapping completed with every default it does not state.

    A file that changes one field of a section keeps the section's other defaults,
    e.g. ``needs.children_in_need.deprivation_odds_ratio: 5`` keeps that need's own
    prevalence, and an event's new visibility keeps its own mean number of events.
    """
    return _merge(Scenario().model_dump(mode="json"), data)


def scenario_from_dict(data: dict[str, Any], origin: str = "<scenario>") -> Scenario:
    """Validate a scenario mapping, raising ScenarioError with every problem.

    Fields the mapping does not state keep their defaults (:func:`resolve`).
    """
    try:
        return Scenario.model_validate(resolve(data))
    except ValidationError as e:
        raise ScenarioError(_problems(e, origin)) from None


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Load, override and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        The YAML scenario file.
    overrides : list of str, optional
        ``path.to.field=value`` strings, applied in order before validation.

    Raises
    ------
    ScenarioError
        With one ``FILE: path.to.field: problem`` line per problem.
    """
    path = Path(path)
    data = apply_overrides(read_yaml(path), overrides or [])
    origin = f"{path} with --set" if overrides else str(path)
    return scenario_from_dict(data, origin)


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema of scenario files, for editors and docs."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "linkaudit scenario"
    return schema
