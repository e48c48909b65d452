"""What a scenario's sections allow at a place, and "did you mean" for what is not.

The schema is walked by type from :class:`~simulator.schema.scenario.Scenario` along a
location (the keys of a YAML file, a ``--set`` path or a validation error's ``loc``),
so a misspelt field or model kind is answered with the names allowed there and the
closest of them (:mod:`~simulator.schema.spelling`).
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from simulator.schema.scenario import Scenario
from simulator.schema.spelling import closest, did_you_mean

__all__ = [
    "Location",
    "closest",
    "did_you_mean",
    "fields_at",
    "kinds_at",
    "type_at",
    "unknown_field",
    "unknown_kind",
]

Location = Sequence[str | int]
"""Keys from the top of a scenario: section and field names, list positions."""


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _unwrapped(tp: Any) -> Any:
    """The type inside ``Annotated[...]`` and ``X | None`` (the shape of a value)."""
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
            continue
        rest = [a for a in get_args(tp) if a is not type(None)]
        if get_origin(tp) in (Union, types.UnionType) and len(rest) == 1:
            tp = rest[0]
            continue
        return tp


def _kinds_of(tp: Any) -> dict[str, type[BaseModel]]:
    """A union of sections chosen by ``kind``: each kind's section; else empty."""
    tp = _unwrapped(tp)
    if get_origin(tp) not in (Union, types.UnionType):
        return {}
    members = get_args(tp)
    if not all(_is_model(m) and "kind" in m.model_fields for m in members):
        return {}
    return {m.model_fields["kind"].default: m for m in members}


def _step(tp: Any, key: str | int) -> Any:
    """The type found at ``key`` inside a value of type ``tp`` (None: no such place)."""
    tp = _unwrapped(tp)
    kinds = _kinds_of(tp)
    if kinds:
        return kinds.get(key)  # type: ignore[call-overload]  # a kind names the member
    origin, args = get_origin(tp), get_args(tp)
    if origin in (tuple, list) and isinstance(key, int):
        if len(args) == 2 and args[1] is Ellipsis or origin is list:
            return args[0]
        return args[key] if 0 <= key < len(args) else None
    if origin is dict:
        return args[1]
    if _is_model(tp) and isinstance(key, str) and key in tp.model_fields:
        return tp.model_fields[key].annotation
    return None


def type_at(loc: Location) -> Any:
    """The schema's type at ``loc`` (None where the schema has no such place).

    Examples
    --------
    >>> type_at(["population", "n_households"])
    <class 'int'>
    >>> type_at(["model", "learned"]).__name__
    'LearnedConfig'
    >>> type_at(["population", "n_househods"]) is None
    True
    """
    tp: Any = Scenario
    for key in loc:
        tp = _step(tp, key)
        if tp is None:
            return None
    return _unwrapped(tp)


def fields_at(loc: Location) -> list[str]:
    """The field names of the section at ``loc`` (empty if it is not a section).

    Examples
    --------
    >>> fields_at(["harm"])
    ['base_probability', 'odds_ratio_per_need', 'deprivation_odds_ratio']
    """
    tp = type_at(loc)
    return list(tp.model_fields) if _is_model(tp) else []


def kinds_at(loc: Location) -> dict[str, type[BaseModel]]:
    """The kinds a section at ``loc`` may be, with each kind's section (or empty).

    Examples
    --------
    >>> list(kinds_at(["model"]))
    ['criteria', 'scorecard', 'learned', 'external']
    """
    tp: Any = Scenario
    for key in loc:
        tp = _step(tp, key)
        if tp is None:
            return {}
    return _kinds_of(tp)


def unknown_field(loc: Location) -> str:
    """The problem of an unknown field at ``loc``, with the closest field's name.

    Examples
    --------
    >>> unknown_field(["population", "n_househods"])
    "unknown field; did you mean 'n_households'?"
    """
    key = loc[-1] if loc else ""
    hint = did_you_mean(str(key), fields_at(loc[:-1]))
    return "unknown field" + (hint or " (check the spelling; see `linkaudit schema`)")


def unknown_kind(loc: Location, kind: object) -> str:
    """The problem of an unknown ``kind`` of the section at ``loc``, in one line.

    Examples
    --------
    >>> unknown_kind(["model"], "lerned")
    "unknown kind 'lerned'; the kinds are criteria, scorecard, learned and external; did you mean 'learned'?"
    """  # noqa: E501
    kinds = list(kinds_at(loc))
    listed = (
        ", ".join(kinds[:-1]) + f" and {kinds[-1]}"
        if len(kinds) > 1
        else "".join(kinds)
    )
    return f"unknown kind {kind!r}; the kinds are {listed}" + did_you_mean(
        str(kind), kinds
    )
