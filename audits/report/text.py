"""Plain-language labels and number formats shared by the report's sections.

Every figure a reader sees goes through one of the formatters here, so numbers carry
thousands separators, rates read as percentages and missing values read as "n/a"
(never "nan"). Labels turn the code's names (``imd_quintile``, ``err_stale_address``,
``police.incident``) into words.
"""

from __future__ import annotations

import html
import math
from typing import Any

NA = "n/a"
"""What an undefined figure (NaN, None) reads as."""

NEED_LABELS = {
    "crime_asb": "crime or anti-social behaviour",
    "education": "poor school attendance or exclusion",
    "children_in_need": "children who need help",
    "worklessness": "worklessness",
    "domestic_abuse": "domestic abuse",
    "health": "health problems",
}
"""The six headline problems, in the scenario's order."""

GROUP_LABELS = {
    "imd_quintile": "deprivation (IMD quintile)",
    "imd_decile": "deprivation (IMD decile)",
    "ethnicity": "ethnicity",
    "tenure": "housing tenure",
    "lone_parent": "lone-parent family",
    "moved_recently": "moved in the last year",
}
VALUE_LABELS = {
    "tenure": {
        "owner": "owner-occupier",
        "private_rent": "private renter",
        "social_rent": "social renter",
    },
    "lone_parent": {"True": "lone parent", "False": "two parents"},
    "moved_recently": {"True": "moved", "False": "did not move"},
    "ethnicity": {
        "white": "White",
        "asian": "Asian",
        "black": "Black",
        "mixed": "Mixed",
        "other": "Other",
    },
}
METRIC_LABELS = {
    "selection_rate": "share of families flagged",
    "tpr": "share of families in need who were found (true positive rate)",
    "fpr": "share of families not in need who were flagged (false positive rate)",
    "fnr": "share of families in need who were missed (false negative rate)",
    "precision": "share of flagged families who were in need (precision)",
    "wrongly_flagged_per_10k": "families wrongly flagged per 10,000",
}
SHORT_METRIC_LABELS = {
    "selection_rate": "share flagged",
    "tpr": "true positive rate",
    "fpr": "false positive rate",
    "fnr": "false negative rate",
    "precision": "precision",
    "wrongly_flagged_per_10k": "wrongly flagged per 10,000",
}
RUNG_DESCRIPTIONS = {
    "model": "every true problem recorded and nothing else, everyone on the council's "
    "register, no data errors, true links",
    "spine": "+ the people missing from the council's register (the spine)",
    "visibility": "+ who agencies see, and events recorded with no problem behind them",
    "data_error": "+ the scenario's data errors (typos, out-of-date addresses, ...)",
    "linkage": "+ the council's own linkage: the real run",
}
SOURCE_LABELS = {
    "health": "health",
    "education": "education",
    "police": "police",
    "benefits": "benefits",
    "social_care": "children's social care",
    "spine": "council register (spine)",
}
EVENT_LABELS = {
    "health.gp_registration": "GP registration",
    "health.ae_attendance": "A&E attendance",
    "health.mental_health_contact": "mental-health contact",
    "health.domestic_abuse_ae": "A&E visit for domestic abuse",
    "education.pupil_census": "school census entry",
    "education.suspension": "school suspension",
    "education.permanent_exclusion": "permanent exclusion from school",
    "police.incident": "police incident",
    "police.anti_social_behaviour": "anti-social behaviour report",
    "police.domestic_abuse_callout": "domestic-abuse call-out",
    "benefits.out_of_work_benefit": "out-of-work benefit claim",
    "benefits.housing_benefit": "housing benefit claim",
    "social_care.contact": "social-care contact",
    "social_care.referral": "social-care referral",
    "social_care.followup_referral": "later social-care referral",
    "social_care.child_in_need_plan": "child-in-need plan",
    "social_care.child_protection_plan": "child protection plan",
    "social_care.domestic_abuse_referral": "domestic-abuse referral",
}
ERROR_LABELS = {
    "duplicate": "duplicate record",
    "wrong_person": "recorded against another family member",
    "stale_address": "out-of-date address",
    "name_swap": "first and last names swapped",
    "nickname": "nickname used",
    "transliteration": "name transliterated differently",
    "surname_change": "surname changed",
    "name_typo": "typo in a name",
    "name_ocr": "scanning error in a name",
    "name_phonetic": "name spelt as it sounds",
    "first_name_missing": "first name missing",
    "dob_day_month_swap": "day and month of birth swapped",
    "dob_digit": "wrong digit in the date of birth",
    "dob_year": "wrong year of birth",
    "dob_missing": "date of birth missing",
    "sex_wrong": "sex recorded wrongly",
    "postcode_typo": "typo in the postcode",
    "postcode_missing": "postcode missing",
    "nhs_missing": "NHS number missing",
    "nhs_wrong": "wrong NHS number",
    "upn_missing": "pupil number missing",
    "upn_wrong": "wrong pupil number",
    "ni_missing": "National Insurance number missing",
    "ni_wrong": "wrong National Insurance number",
}
SIDE_LABELS = {
    "record": "on the agency's record",
    "true_spine": "on the person's own register entry",
    "linked_spine": "on the register entry it was wrongly linked to",
}
ROLE_LABELS = {"adult1": "adult", "adult2": "adult", "child": "child"}
SEX_LABELS = {"F": "female", "M": "male"}
TARGET_LABELS = {
    "eligible": "eligible for the programme (enough true problems)",
    "harm": "coming to harm in the follow-up period",
}


def esc(value: Any) -> str:
    """Escape any value for HTML text or a quoted attribute.

    Examples
    --------
    >>> esc("<script>alert('x')</script>")
    '&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;'
    """
    return html.escape(str(value), quote=True)


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(math.isnan(x))
    except TypeError:
        return False


def count(n: Any) -> str:
    """A whole number with thousands separators.

    Examples
    --------
    >>> count(1234567), count(float("nan"))
    ('1,234,567', 'n/a')
    """
    return NA if _missing(n) else f"{int(n):,}"


def pooled_count(row: Any, column: str) -> str:
    """A count pooled over worlds: the mean per world, and the range of one world.

    ``row`` holds ``column`` (the mean per world) and ``<column>_low``,
    ``<column>_high`` (the smallest and largest world:
    :func:`audits.pooled_attribution.pool_counts`). When they agree (one world) the
    count reads as a whole number, as it always did.

    Examples
    --------
    >>> pooled_count({"total": 12.0, "total_low": 12, "total_high": 12}, "total")
    '12'
    >>> pooled_count({"total": 12.5, "total_low": 10, "total_high": 15}, "total")
    '12.5 (10 to 15)'
    """
    mean = row[column]
    low, high = row.get(f"{column}_low", mean), row.get(f"{column}_high", mean)
    if _missing(mean) or low == high:
        return count(mean)
    return f"{num(mean)} ({interval(low, high, count)})"


def pct(x: Any, digits: int = 1) -> str:
    """A proportion as a percentage.

    Examples
    --------
    >>> pct(0.01234), pct(0.5, 0)
    ('1.2%', '50%')
    """
    return NA if _missing(x) else f"{100 * float(x):,.{digits}f}%"


def num(x: Any, digits: int = 1) -> str:
    """A number with a fixed number of decimals and thousands separators.

    Examples
    --------
    >>> num(12345.678), num(2.0, 2)
    ('12,345.7', '2.00')
    """
    return NA if _missing(x) else f"{float(x):,.{digits}f}"


def ratio(x: Any) -> str:
    """A ratio such as "2.3 times".

    Examples
    --------
    >>> ratio(2.345), ratio(0.456), ratio(float("nan"))
    ('2.3×', '0.46×', 'n/a')
    """
    if _missing(x):
        return NA
    return f"{float(x):,.{2 if abs(float(x)) < 1 else 1}f}×"


def interval(low: Any, high: Any, fmt: Any = pct) -> str:
    """An interval "low to high" in one of the formats above.

    Examples
    --------
    >>> interval(0.01, 0.02)
    '1.0% to 2.0%'
    """
    if _missing(low) or _missing(high):
        return NA
    return f"{fmt(low)} to {fmt(high)}"


def group_label(column: str) -> str:
    """A group column in words.

    Examples
    --------
    >>> group_label("imd_quintile")
    'deprivation (IMD quintile)'
    """
    if " × " in column:
        return " × ".join(group_label(c) for c in column.split(" × "))
    return GROUP_LABELS.get(column, column.replace("_", " "))


def value_label(column: str, value: Any) -> str:
    """A group's value in words; deprivation values say which end is which.

    Examples
    --------
    >>> value_label("imd_quintile", 1), value_label("tenure", "owner")
    ('1 (most deprived)', 'owner-occupier')
    """
    if " × " in column:
        parts = str(value).split(" × ")
        cols = column.split(" × ")
        return " × ".join(value_label(c, v) for c, v in zip(cols, parts, strict=False))
    text = str(value)
    if column == "imd_quintile":
        return {"1": "1 (most deprived)", "5": "5 (least deprived)"}.get(text, text)
    if column == "imd_decile":
        return {"1": "1 (most deprived)", "10": "10 (least deprived)"}.get(text, text)
    return VALUE_LABELS.get(column, {}).get(text, text.replace("_", " "))


def need_label(name: str) -> str:
    """A headline problem, or a model feature, in words.

    Examples
    --------
    >>> need_label("crime_asb"), need_label("police_incident")
    ('crime or anti-social behaviour', 'police incident')
    """
    return NEED_LABELS.get(name, str(name).replace("_", " "))


FEATURE_LABELS = {
    "education_pupils": "pupils in the household",
    "education_persistent_absence": "persistent school absence",
    "education_max_absence_rate": "school absence rate",
    "n_events": "number of recorded events",
    "n_agencies": "number of agencies involved",
    "n_members": "household size",
    "n_adults": "number of adults",
    "n_children": "number of children",
    "n_school_age": "children of school age",
    "n_age_unknown": "members of unknown age",
    "lone_adult": "a lone adult",
    "imd_decile": "the area's deprivation",
    "imd_unknown": "an unknown area",
}
"""Words for the linked view's columns that are not events."""


def feature_label(name: str) -> str:
    """A model's driver in words: a headline problem, an event count or a feature.

    Examples
    --------
    >>> feature_label("crime_asb"), feature_label("social_care_referral")
    ('crime or anti-social behaviour', 'social-care referral')
    >>> feature_label("imd_decile"), feature_label("something_new")
    ("the area's deprivation", 'something new')
    """
    if name in NEED_LABELS:
        return NEED_LABELS[name]
    if name in FEATURE_LABELS:
        return FEATURE_LABELS[name]
    for key, label in EVENT_LABELS.items():  # a few dozen event kinds
        if key.replace(".", "_") == name:
            return label
    return str(name).replace("_", " ")


def event_label(source: str, event_type: str) -> str:
    """A record's event in words.

    Examples
    --------
    >>> event_label("police", "incident"), event_label("x", "new_thing")
    ('police incident', 'x: new thing')
    """
    return EVENT_LABELS.get(
        f"{source}.{event_type}", f"{source}: {event_type.replace('_', ' ')}"
    )


def error_label(name: str) -> str:
    """A data error kind (with or without its ``err_`` prefix) in words.

    Examples
    --------
    >>> error_label("err_stale_address")
    'out-of-date address'
    """
    name = name.removeprefix("err_")
    return ERROR_LABELS.get(name, name.replace("_", " "))


def join_words(items: list[str], last: str = "and") -> str:
    """Words joined as "a", "a and b", "a, b and c".

    Examples
    --------
    >>> join_words(["a", "b", "c"]), join_words([])
    ('a, b and c', '')
    """
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def plural(n: int, one: str, many: str | None = None) -> str:
    """A count and its noun: "1 family", "2 families" (thousands separated).

    Examples
    --------
    >>> plural(1, "family", "families"), plural(1200, "record")
    ('1 family', '1,200 records')
    """
    word = one if n == 1 else (many or f"{one}s")
    return f"{count(n)} {word}"
