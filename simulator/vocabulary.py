"""The names every layer shares: groups, needs, sources, errors, columns and sentinels.

Plain Python (no pandas, no pydantic), so the scenario schema, the hidden world, the
council and the audit can all import it without importing each other. Each list is
derived once from its ``Literal`` type with :func:`typing.get_args`, so a type used in
the schema and the tuple iterated by the stages cannot drift apart.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

# ------------------------------------------------------------------ the population

Need = Literal[
    "crime_asb",
    "education",
    "children_in_need",
    "worklessness",
    "domestic_abuse",
    "health",
]
"""One of the six headline problems of the Supporting Families programme."""
NEEDS: tuple[str, ...] = get_args(Need)
"""The six headline problems, in a fixed order (the order of ``need_*`` columns)."""

Ethnicity = Literal["white", "asian", "black", "mixed", "other"]
"""The ONS 5-group ethnicity classification."""
ETHNICITIES: tuple[str, ...] = get_args(Ethnicity)

Tenure = Literal["owner", "private_rent", "social_rent"]
"""Housing tenure of a family."""
TENURES: tuple[str, ...] = get_args(Tenure)

TraitColumn = Literal[
    "ethnicity", "tenure", "imd_decile", "imd_quintile", "lone_parent", "moved_recently"
]
"""A household attribute drawn with the population: group factors (visibility,
errors, consent) can depend on it."""
CONSENT_COLUMN = "withholds_consent"
"""The truth households' column of families who withhold consent to sharing their
records (present only when the scenario's ``consent`` section is on)."""
GroupColumn = Literal[
    "ethnicity",
    "tenure",
    "imd_decile",
    "imd_quintile",
    "lone_parent",
    "moved_recently",
    "withholds_consent",
]
"""A household attribute that defines groups (a column of the truth households)."""
GROUP_COLUMNS: tuple[str, ...] = get_args(GroupColumn)
"""Every group column, in the order the outcomes table carries them (those present)."""

GROUP_VALUES: dict[str, tuple[Any, ...]] = {
    "ethnicity": ETHNICITIES,
    "tenure": TENURES,
    "imd_decile": tuple(range(1, 11)),
    "imd_quintile": tuple(range(1, 6)),
    "lone_parent": (True, False),
    "moved_recently": (True, False),
    CONSENT_COLUMN: (True, False),
}
"""The values each group column takes in the truth table, in their natural order."""

DEPRIVATION: tuple[str, ...] = ("imd_quintile", "imd_decile")
"""The deprivation group columns, searched in this order for the most vs least
deprived headline (value 1 is the most deprived)."""
LEAST_DEPRIVED: dict[str, int] = {"imd_decile": 10, "imd_quintile": 5}
"""The least deprived value of each deprivation column."""

Rate = Literal[
    "selection_rate", "tpr", "fpr", "fnr", "precision", "wrongly_flagged_per_10k"
]
"""One of the audit's rate metrics (each a function of a group's confusion counts)."""
RATES: tuple[str, ...] = get_args(Rate)
"""The audit's rate metrics, in report order (:data:`audits.confusion.RATES`, the
flag metrics a scenario's headline may name)."""

# --------------------------------------------------------------- sources and errors

Source = Literal["health", "education", "police", "benefits", "social_care", "spine"]
"""A record source; ``spine`` is the council's family index."""
SOURCES: tuple[str, ...] = get_args(Source)
"""Every record source, in a fixed order."""
Agency = Literal["health", "education", "police", "benefits", "social_care"]
"""A source where families are seen (every source but the spine)."""
AGENCIES: tuple[str, ...] = get_args(Agency)
"""The sources linked to the spine, in the order of :data:`SOURCES`."""

ErrorName = Literal[
    "duplicate",
    "wrong_person",
    "stale_address",
    "name_swap",
    "nickname",
    "transliteration",
    "surname_change",
    "name_typo",
    "name_ocr",
    "name_phonetic",
    "first_name_missing",
    "dob_day_month_swap",
    "dob_digit",
    "dob_year",
    "dob_missing",
    "sex_wrong",
    "postcode_typo",
    "postcode_missing",
    "nhs_missing",
    "nhs_wrong",
    "upn_missing",
    "upn_wrong",
    "ni_missing",
    "ni_wrong",
]
"""One kind of recording error a source makes."""
ERROR_NAMES: tuple[str, ...] = get_args(ErrorName)
"""Every error kind, in the order applied; ``err_<name>`` columns follow this order.
The fields of ``simulator.schema.agencies.ErrorRates`` and the appliers of
``simulator.world.corruption`` list them in the same order (a test checks both)."""

# ----------------------------------------------------------------- columns and ids

INDEX = "spine_household_id"
"""The council's family id: the index of the family view, scores and flags."""

CARRIED_IDENTITY = "true_identity_person_id"
"""Hidden column of records and spine rows: the person whose identifiers the row
carries. It is ``true_person_id`` except on a wrong-person row (``err_wrong_person``),
which carries another member's name, date of birth, sex and numbers; link quality
judges the linker against it (:mod:`audits.link_quality`)."""

HIDDEN_PREFIXES: tuple[str, ...] = ("true_", "err_")
"""Prefixes of the simulator's hidden truth columns, which the council never reads."""


def is_hidden(column: str) -> bool:
    """True for the simulator's hidden truth columns (``true_*`` and ``err_*``)."""
    return column.startswith(HIDDEN_PREFIXES)


# ----------------------------------------------------------------------- sentinels

OVERALL = "overall"
"""The label of rows about every family or every source together: the ``group`` and
``value`` of the overall metrics, the ``value`` of a sweep's overall rows, the
``group`` and ``value`` of the attribution tables' totals and the ``source`` of
link quality's total row. One word, so output tables join."""
