"""The scenario in words: a few paragraphs of prose.

The table of settings that differ from the defaults comes from
:func:`simulator.schema.settings.changed_settings`.
"""

from __future__ import annotations

from audits.report.text import (
    TARGET_LABELS,
    count,
    group_label,
    join_words,
    plural,
)
from simulator.council.models import FlagRule
from simulator.schema.scenario import Scenario


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
