"""The scenario in words.

A few paragraphs of prose, and the table of settings that differ from the defaults.
"""

from __future__ import annotations

import json
from typing import Any

from audits.report.text import (
    TARGET_LABELS,
    count,
    group_label,
    join_words,
    plural,
)
from simulator.council.models import FlagRule
from simulator.schema.scenario import Scenario

NOT_SET = "(not set)"
MAX_VALUE_CHARS = 90
"""Longer setting values are cut short in the table of changes."""
PROSE_ONLY = frozenset({"name", "description"})
"""Fields described in the prose, left out of the table of changes."""


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
    keys = list(mine) + [k for k in default if k not in mine]

    def shown(key: str, value: Any) -> str:
        return str(value) if key == "seed" else show_value(value)  # an id, not a count

    return [
        (k, shown(k, mine.get(k, NOT_SET)), shown(k, default.get(k, NOT_SET)))
        for k in keys
        if k.split(".")[0] not in PROSE_ONLY
        and mine.get(k, NOT_SET) != default.get(k, NOT_SET)
    ]


def flag_rule_text(rule: FlagRule) -> str:
    """A flag rule in words.

    Examples
    --------
    >>> flag_rule_text(FlagRule(threshold=2))
    'flags every household scoring at least 2'
    >>> flag_rule_text(FlagRule(top_percent=5))
    'flags the 5% of households with the highest scores'
    """
    if rule.threshold is not None:
        return f"flags every household scoring at least {rule.threshold:g}"
    if rule.top_percent is not None:
        return f"flags the {rule.top_percent:g}% of households with the highest scores"
    return f"flags the {count(rule.budget)} households with the highest scores"


def model_text(scenario: Scenario) -> str:
    """What the council's model is and how it flags, in one sentence."""
    m = scenario.model
    rule = flag_rule_text(m.flag_rule())
    if m.kind == "criteria":
        what = (
            "the programme's own criteria: it counts how many of the six headline "
            "problems show in a household's linked records"
        )
    elif m.kind == "scorecard":
        what = (
            "a vendor-style scorecard that adds up weighted points for events in a "
            "household's linked records"
        )
    elif m.kind == "learned":
        what = (
            f"a machine-learning model ({m.estimator.replace('_', ' ')}) trained on "
            "an earlier, separately simulated cohort to predict a later "
            "children's-social-care referral, as the council would observe it"
        )
    else:
        what = "an external model or score file brought by the auditor"
    return f"The council's model is {what}; it {rule}."


def linkage_text(scenario: Scenario) -> str:
    """How records are linked to the council's register, in one sentence."""
    link = scenario.linkage
    if link.method == "deterministic":
        keys = link.deterministic.keys
        ties = (
            "ambiguous matches are left unlinked"
            if link.deterministic.ties == "drop"
            else "ambiguous matches go to the first candidate"
        )
        return (
            f"Records are linked to the council's register with a cascade of "
            f"{plural(len(keys), 'match key')} (exact combinations of identifiers, "
            f"names, date of birth and postcode, strictest first); {ties}."
        )
    if link.method == "splink":
        return (
            "Records are linked to the council's register by probabilistic linkage "
            "(Splink), which scores how alike a record and a register entry are and "
            f"links pairs with a match probability of at least "
            f"{link.splink.match_threshold:g}."
        )
    return (
        "Records are linked to the council's register by their true identity (the "
        "'oracle': perfect linkage, for comparison)."
    )


def scenario_paragraphs(scenario: Scenario, n_areas: int) -> list[str]:
    """The scenario in plain words, as paragraphs of text (not yet escaped).

    Parameters
    ----------
    scenario : Scenario
    n_areas : int
        Areas generated.

    Returns
    -------
    list of str
    """
    pop = scenario.population
    audit = scenario.audit
    target = TARGET_LABELS.get(audit.target, audit.target)
    groups = join_words([group_label(c) for c in audit.group_columns])
    eligible = (
        f"A family counts as eligible when it truly has at least "
        f"{scenario.eligibility.min_needs} of the six headline problems."
    )
    boot = (
        f"Uncertainty is shown as {audit.confidence:.0%} confidence intervals from "
        f"{count(audit.n_boot)} bootstrap resamples of the families"
        if audit.n_boot
        else "No confidence intervals were computed (audit.n_boot is 0)"
    )
    replicates = (
        f", and the whole scenario was re-run {plural(audit.replicates, 'time')} "
        "with other seeds"
        if audit.replicates > 1
        else ""
    )
    return [
        f"This run simulates a council area of {count(pop.n_households)} families "
        f"with dependent children in {plural(n_areas, 'neighbourhood')} of "
        f"different deprivation, as of {scenario.time.reference_date:%d %B %Y}. "
        f"Agencies (health, schools, police, benefits and children's social care) "
        f"record what they see of each family over the previous "
        f"{count(scenario.time.observation_days)} days, with the errors real "
        "records contain.",
        f"{linkage_text(scenario)} {model_text(scenario)}",
        f"The audit judges each flag against the truth: whether the family is "
        f"{target}. {eligible} Results are broken down by {groups}. "
        f"{boot}{replicates}.",
    ]
