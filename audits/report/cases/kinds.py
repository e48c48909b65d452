"""The kinds of case file, and what one case file holds (data, not words).

A case file's tables hold codes and values: where each record's link put it
(:data:`LINKED_TO`), whose record it truly is (:data:`ABOUT`), its data errors as
error names. :mod:`~audits.report.cases.explain` words them at the end, so rewording
the report never changes which records are chosen or what is said about them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

CANDIDATES = 200
"""Households of each kind examined for a telling example (the first in the run's
shuffled order: :func:`~audits.report.cases.select.shuffled`)."""
MAX_RECORDS = 20
"""Records listed in a case file at most (the most telling first)."""

HOUSEHOLD, OTHER_HOUSEHOLD, UNLINKED = "household", "other_household", "unlinked"
LINKED_TO = (HOUSEHOLD, OTHER_HOUSEHOLD, UNLINKED)
"""Where a record's link put it: one of the family's council households (the flagged
ones, for a wrong flag), another council household, or nowhere."""
OTHER_FAMILY, RECORDED_AS_MEMBER, WRONG_MEMBER, MEMBER_ELSEWHERE, FAMILY = (
    "other_family",
    "recorded_as_member",
    "wrong_member",
    "member_elsewhere",
    "family",
)
ABOUT = (OTHER_FAMILY, RECORDED_AS_MEMBER, WRONG_MEMBER, MEMBER_ELSEWHERE, FAMILY)
"""Whose record it truly is: another family's; this family's, recorded against another
member and linked to that member (a data error, the link matched the record); this
family's but linked to the wrong member of its household; this family's but linked
into another household; this family's, linked right (or not linked)."""


@dataclass(frozen=True)
class Category:
    """A kind of case file: which error, which causes, and its title."""

    key: str
    error: str
    causes: tuple[str, ...] | None
    title: str
    deprived_first: bool = False
    """Examine families in the most deprived areas first (then by id)."""


CATEGORIES = (
    Category(
        "fp_linkage",
        "false_positive",
        ("linkage",),
        "Wrongly flagged: another family's records were linked to this one",
    ),
    Category(
        "fp_data_error",
        "false_positive",
        ("data_error",),
        "Wrongly flagged: an error in the records",
    ),
    Category(
        "fp_visibility",
        "false_positive",
        ("visibility",),
        "Wrongly flagged: seen more often than other families",
        deprived_first=True,
    ),
    Category(
        "fp_model",
        "false_positive",
        ("model",),
        "Wrongly flagged by the model itself",
    ),
    Category(
        "fn_linkage",
        "false_negative",
        ("linkage",),
        "Missed: linkage sent its records elsewhere",
    ),
    Category(
        "fn_data_error",
        "false_negative",
        ("data_error",),
        "Missed: errors in its records kept them from it",
    ),
    Category(
        "fn_spine",
        "false_negative",
        ("spine",),
        "Missed: the council's register does not hold all of it",
    ),
    Category(
        "fn_visibility",
        "false_negative",
        ("visibility",),
        "Missed: its problems were never seen",
    ),
    Category(
        "fn_model",
        "false_negative",
        ("model",),
        "Missed by the model itself: its problems were on record",
    ),
)
"""Case-file kinds, in the order shown, when the run has an attribution."""
PLAIN_CATEGORIES = (
    Category("fp", "false_positive", None, "Wrongly flagged"),
    Category("fn", "false_negative", None, "Missed"),
)
"""Case-file kinds without an attribution (causes unknown)."""


@dataclass(frozen=True)
class CaseFile:
    """One synthetic family wrongly flagged or missed, with the evidence.

    Attributes
    ----------
    category : Category
    household_id : int
    cause : str or None
        The attribution's cause (a rung), if known.
    family : dict
        The family as it truly is: ``surname``, ``imd_decile``, ``ethnicity``,
        ``tenure``, ``lone_parent``, ``n_children``, ``moved_recently``, ``needs``
        (list of need names), ``eligible``, ``harm``, ``in_target``.
    members : DataFrame
        The family's people: ``role``, ``sex``, ``age``, ``first_name``,
        ``last_name``, ``on_register`` (whether the council's index, the spine,
        holds them).
    spine : DataFrame
        The council households holding its members (for a wrong flag, the flagged
        ones), highest score first: ``spine_household_id``, ``score``, ``flagged``,
        ``drivers`` (tuple of the model's driving features), ``n_people``,
        ``n_other_family`` (people from other families held there),
        ``other_errors`` (tuple of error names on those people's register entries)
        and ``own_errors`` (on the family's own entries).
    records : DataFrame
        Every record counted against those households or truly about the family,
        the evidence first: ``source``, ``event_type``, ``persistent_absence``,
        ``event_date``, ``first_name``, ``last_name``, ``dob`` (as recorded),
        ``linked_to`` (a :data:`LINKED_TO` code), ``match_key``, ``about`` (an
        :data:`ABOUT` code), ``background`` (recorded with no problem behind it),
        ``errors`` (tuple of error names on the record), ``telling``, ``need``.
    register_rows : int
        Register rows (GP registrations, school census) linked to the households
        and not listed.
    """

    category: Category
    household_id: int
    cause: str | None
    family: dict
    members: pd.DataFrame
    spine: pd.DataFrame
    records: pd.DataFrame
    register_rows: int

    @property
    def wrongly_flagged(self) -> bool:
        """True for a wrong flag, False for a missed family."""
        return self.category.error == "false_positive"

    @property
    def shown_records(self) -> pd.DataFrame:
        """The records listed in the case file: the first :data:`MAX_RECORDS`."""
        return self.records.head(MAX_RECORDS)

    @property
    def n_records_hidden(self) -> int:
        """Records left out of the listing (beyond :data:`MAX_RECORDS`)."""
        return max(len(self.records) - MAX_RECORDS, 0)
