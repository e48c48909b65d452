"""The ``audit.headline`` scenario section: the question a scenario asks.

The console, ``audit/summary.json`` and the top of the report lead with one
comparison: a rate of one group against a reference group. By default it is the
false positive rate of the most deprived fifth of areas against the least deprived;
a scenario names its own here. Two kinds of rate can lead:

- a **flag metric** (:data:`FLAG_METRICS`, the audit's rates of
  :data:`audits.confusion.RATES`): who is flagged, and who wrongly, by an audited
  group column (``audit.group_columns``);
- a **linkage metric** (:data:`LINK_METRICS`): how well one source's records (or
  every source's, by default) are linked, by group of the families they are about;
  any group column may be used (link quality is measured for all of them).

Plain data only (the schema imports no stage); the names are checked here, with the
closest name suggested for a misspelling (:mod:`~simulator.schema.spelling`), and the
grouping against the audit section by :class:`~simulator.schema.audit.AuditConfig`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from simulator.schema.section import Section
from simulator.schema.spelling import did_you_mean
from simulator.vocabulary import GROUP_COLUMNS, GROUP_VALUES, OVERALL, RATES, SOURCES

FLAG_METRICS: tuple[str, ...] = RATES
"""The audit's rates (:data:`simulator.vocabulary.RATES`)."""
LINK_METRICS: tuple[str, ...] = (
    "link_recall",
    "link_precision",
    "missed_link_rate",
    "false_link_rate",
)
"""Link quality's rates by group: recall (correct links / linkable records),
precision (correct / linked), the missed-link rate (missed / linkable, 1 - recall)
and the false-link rate (false / linked, 1 - precision)."""
METRICS: tuple[str, ...] = FLAG_METRICS + LINK_METRICS
LINKED_SOURCES: tuple[str, ...] = tuple(s for s in SOURCES if s != "spine")
"""The agencies whose records are linked to the council's index."""


def _one_of(kind: str, value: object, names: tuple[str, ...]) -> str:
    """``value`` if it is one of ``names``; else a ValueError saying which are."""
    if isinstance(value, str) and value in names:
        return value
    raise ValueError(
        f"unknown {kind} {value!r}; the {kind}s are {', '.join(names)}"
        + did_you_mean(str(value), names)
    )


def group_value(grouping: str, value: object) -> str:
    """A group's value as text (the audit's form), checked against the grouping's.

    ``1`` and ``"1"`` name the same IMD quintile, ``true`` and ``"True"`` the same
    lone-parent group.

    Examples
    --------
    >>> group_value("imd_quintile", 1)
    '1'
    >>> group_value("ethnicity", "Black")
    'black'
    """
    allowed = [str(v) for v in GROUP_VALUES[grouping]]
    text = str(value)
    for name in allowed:
        if text.lower() == name.lower():
            return name
    raise ValueError(
        f"{value!r} is not a group of {grouping}; its groups are "
        f"{', '.join(allowed)}" + did_you_mean(text, allowed)
    )


class HeadlineConfig(Section):
    """The comparison the scenario leads with: one group's rate against another's."""

    metric: str = Field(
        "fpr",
        description="The rate compared: a flag metric (selection_rate, tpr, fpr, "
        "fnr, precision, wrongly_flagged_per_10k) or a linkage metric (link_recall, "
        "link_precision, missed_link_rate, false_link_rate).",
        json_schema_extra={"enum": list(METRICS)},
    )
    source: str | None = Field(
        None,
        description="For a linkage metric: the agency whose records are judged "
        "(health, education, police, benefits, social_care); null for every "
        "source together. Not allowed with a flag metric.",
    )
    grouping: str = Field(
        "imd_quintile",
        description="The group column compared. A flag metric needs it in "
        "audit.group_columns; a linkage metric may use any group column.",
        json_schema_extra={"enum": list(GROUP_COLUMNS)},
    )
    group: str | int | bool = Field(
        "1", description="The group whose rate leads (a value of the grouping)."
    )
    reference: str | int | bool | None = Field(
        None,
        description="The group it is compared with; null for the audit's reference "
        "(audit.reference, else the least deprived, else the largest group).",
    )

    @field_validator("metric", mode="before")
    @classmethod
    def _known_metric(cls, v: object) -> str:
        return _one_of("metric", v, METRICS)

    @field_validator("source", mode="before")
    @classmethod
    def _known_source(cls, v: object) -> str | None:
        if v is None or v == OVERALL:
            return None
        return _one_of("source", v, LINKED_SOURCES)

    @field_validator("grouping", mode="before")
    @classmethod
    def _known_grouping(cls, v: object) -> str:
        return _one_of("grouping", v, GROUP_COLUMNS)

    @field_validator("group", "reference", mode="after")
    @classmethod
    def _known_group(cls, v: object, info: ValidationInfo) -> str | None:
        grouping = info.data.get("grouping")
        if v is None or grouping is None:  # no grouping: its own error says why
            return None if v is None else str(v)
        return group_value(grouping, v)

    @model_validator(mode="after")
    def _consistent(self) -> HeadlineConfig:
        if self.source is not None and self.metric in FLAG_METRICS:
            raise ValueError(
                f"source {self.source!r} is for a linkage metric "
                f"({', '.join(LINK_METRICS)}); a flag metric ({self.metric!r}) "
                "counts families, whatever source their records came from"
            )
        if self.reference is not None and self.reference == self.group:
            raise ValueError(
                f"group and reference are both {self.group!r}: compare two groups"
            )
        return self

    @property
    def is_linkage(self) -> bool:
        """Whether the metric is link quality's (else the audit's flags)."""
        return self.metric in LINK_METRICS

    def described(self) -> dict[str, Any]:
        """The spec as plain data, ``kind`` first (``flags`` or ``linkage``)."""
        out: dict[str, Any] = {"kind": "linkage" if self.is_linkage else "flags"}
        out |= self.model_dump(mode="json")
        if not self.is_linkage:
            del out["source"]
        return out


def unaudited_grouping(headline: HeadlineConfig, audited: tuple[str, ...]) -> str:
    """Why a flag headline's grouping is not usable, or ``""`` if it is.

    Examples
    --------
    >>> h = HeadlineConfig(metric="fpr", grouping="tenure", group="owner")
    >>> unaudited_grouping(h, ("imd_quintile",))[:40]
    "grouping 'tenure' is not audited: add it"
    """
    if headline.is_linkage or headline.grouping in audited:
        return ""
    return (
        f"grouping {headline.grouping!r} is not audited: add it to "
        f"audit.group_columns ({', '.join(audited)}), or use a linkage metric"
    )
