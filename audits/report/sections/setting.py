"""The setting: the scenario in words, and the population it simulates."""

from __future__ import annotations

from audits.report import charts
from audits.report.describe import scenario_paragraphs
from audits.report.inputs import ReportInputs
from audits.report.page import (
    Html,
    figure,
    join,
    p,
    table,
    tag,
)
from audits.report.population import Population, population
from audits.report.text import (
    NEED_LABELS,
    count,
    group_label,
    pct,
    plural,
    value_label,
)
from audits.run_tables import AREAS
from simulator.schema.settings import changed_settings

# ------------------------------------------------------------------- scenario


def scenario_section(inputs: ReportInputs) -> Html:
    """The scenario in words, and what differs from the defaults."""
    s = inputs.scenario
    parts: list[object] = [
        tag("p", join([tag("strong", "Scenario: "), s.name])),
    ]
    if s.description.strip():
        parts.append(tag("blockquote", s.description.strip(), class_="box note"))
    parts += [p(text) for text in scenario_paragraphs(s, inputs.tables.n_rows(AREAS))]
    changes = changed_settings(s)
    if changes:
        parts.append(tag("h3", "What this scenario changes from the defaults"))
        parts.append(
            p(
                "Every setting not listed has its default value, taken from public "
                "statistics (see the methodology)."
            )
        )
        parts.append(table(["setting", "this scenario", "default"], changes))
    else:
        parts.append(p("Every setting has its default value."))
    return join(parts)


# ----------------------------------------------------------------- population


def _shares(pop: Population, column: str) -> list[list[object]]:
    """Families by value of ``column``: label, count and share of all families."""
    counts = pop.counts[column]
    total = sum(counts.values())
    return [
        [value_label(column, v), count(counts.get(v, 0)), pct(counts.get(v, 0) / total)]
        for v in pop.order[column]
    ]


def population_section(inputs: ReportInputs) -> Html:
    """Who lives in the simulated area, and their true needs by deprivation."""
    pop = population(inputs.tables)
    n = pop.households
    eligible = pop.totals.get("eligible", 0)
    harmed = pop.totals.get("harm", 0)
    tables = [
        table(
            [group_label(column), "families", "share"],
            _shares(pop, column),
            numeric=[1, 2],
        )
        for column in pop.counts
    ]
    needs = [n_ for n_ in NEED_LABELS if f"need_{n_}" in pop.totals]
    prevalence = [
        [NEED_LABELS[k], count(pop.totals[f"need_{k}"]), pct(pop.share(f"need_{k}"))]
        for k in needs
    ]
    return join(
        [
            p(
                f"The simulated area has {plural(n, 'family', 'families')} with "
                f"{count(pop.people)} people. Areas are ranked by the "
                "Index of Multiple Deprivation (IMD): quintile 1 is the most deprived "
                "fifth of areas, quintile 5 the least deprived. In truth "
                f"{count(eligible)} families ({pct(eligible / max(n, 1))}) are "
                f"eligible for the programme and {count(harmed)} "
                f"({pct(harmed / max(n, 1))}) come to harm in the follow-up period."
            ),
            tag("div", join(tables), class_="card"),
            tag("h3", "True problems"),
            table(["problem", "families", "share"], prevalence, numeric=[1, 2]),
            figure(
                charts.population_chart(pop.by_quintile),
                "the share of families who truly have each of the six headline "
                "problems (left), and who are eligible or come to harm (right), in "
                "each fifth of areas from the most to the least deprived.",
                "lines falling from left to right mean a problem is more common in "
                "deprived areas. This is the truth, before any agency records "
                "anything: some of the differences the audit finds later are real "
                "differences in need, not errors.",
            ),
        ]
    )
