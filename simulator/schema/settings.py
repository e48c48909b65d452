"""A scenario's settings as dotted paths, and those that differ from the defaults.

Shared by ``linkaudit validate`` (which lists the changed settings), the report's
table of changes and ``linkaudit compare`` (which flattens several runs' scenarios).
"""

from __future__ import annotations

import json
from typing import Any

from simulator.schema.scenario import Scenario

NOT_SET = "(not set)"
"""Shown for a setting one scenario has and another lacks (another model kind's)."""
MAX_VALUE_CHARS = 90
"""Longer setting values are cut short."""
PROSE_ONLY = frozenset({"name", "description", "report.questions", "report.exercises"})
"""Fields described in words elsewhere (or printed on the lesson page), left out of
the list of changes."""


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as ``{"a.b.c": leaf}``; lists and other values are leaves.

    Examples
    --------
    >>> flatten({"a": {"b": 1, "c": [1, 2]}, "d": "x"})
    {'a.b': 1, 'a.c': [1, 2], 'd': 'x'}
    """
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out |= flatten(item, f"{prefix}{key}.")
        return out
    return {prefix.removesuffix("."): value}


def show_value(value: Any) -> str:
    """A setting's value as short text (JSON for lists and objects).

    Examples
    --------
    >>> show_value(0.25), show_value(True), show_value([1, 2]), show_value(20000)
    ('0.25', 'true', '[1, 2]', '20,000')
    """
    if value is NOT_SET:
        return NOT_SET
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > MAX_VALUE_CHARS:
        text = text[: MAX_VALUE_CHARS - 1] + "…"
    return text


def changed_settings(scenario: Scenario) -> list[tuple[str, str, str]]:
    """Every setting that differs from the default scenario's.

    Parameters
    ----------
    scenario : Scenario

    Returns
    -------
    list of (setting, this scenario's value, the default), as text
        In the schema's order; the name and description are left out.

    Examples
    --------
    >>> s = Scenario.model_validate({"population": {"n_households": 5000}})
    >>> changed_settings(s)
    [('population.n_households', '5,000', '20,000')]
    """
    mine = flatten(scenario.model_dump(mode="json"))
    default = flatten(Scenario().model_dump(mode="json"))
    # A section that is null by default (audit.headline) and set here is listed by
    # its fields that are set, not as a row of its own.
    opened = {
        k
        for k, v in default.items()
        if v is None and any(m.startswith(f"{k}.") for m in mine)
    }
    keys = [
        k
        for k in list(mine) + [k for k in default if k not in mine]
        if k not in opened
        and not (k.rpartition(".")[0] in opened and mine.get(k) is None)
    ]

    def shown(key: str, value: Any) -> str:
        return str(value) if key == "seed" else show_value(value)  # an id, not a count

    return [
        (k, shown(k, mine.get(k, NOT_SET)), shown(k, default.get(k, NOT_SET)))
        for k in keys
        if k.split(".")[0] not in PROSE_ONLY
        and k not in PROSE_ONLY
        and mine.get(k, NOT_SET) != default.get(k, NOT_SET)
    ]
