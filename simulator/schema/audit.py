"""The ``audit`` scenario section: what is audited, against which groups, how precisely.

Plain data only (no pandas, no fairlearn), so the scenario imports it cheaply.
:class:`GroupAudit` holds what every audit needs (groupings, reference groups,
intervals) for any column names: an audit of a table the user already has
(:mod:`audits.table`) uses it as it is. :class:`AuditConfig`, the scenario's section,
narrows it to the simulation's targets, group columns and values
(:mod:`simulator.vocabulary`). Reference groups default to the least deprived for the
deprivation columns (IMD decile 10, IMD quintile 5) and to the largest group in the
audited data for every other column; an intersection's reference combines its
columns' references.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from simulator.schema.headline import HeadlineConfig, unaudited_grouping
from simulator.schema.section import Section
from simulator.vocabulary import GROUP_VALUES, GroupColumn

Target = Literal["eligible", "harm"]
"""The truth a flag is judged against: meets the criteria, or comes to harm."""

MAX_BOOT = 20_000
"""Upper bound on bootstrap resamples (memory and time grow linearly with it)."""


ReferenceValue = str | int | float | bool
"""A group's value as a column holds it (text, a number or a flag)."""


class GroupAudit(Section):
    """What any audit needs: target, groupings, reference groups and intervals.

    Column names and group values are free: :class:`AuditConfig` narrows them to the
    simulation's, and an audit of a table (:func:`audits.table.audit_table`) names
    the table's own columns.
    """

    target: str = Field(
        "eligible",
        min_length=1,
        description="What a flag is judged against (the name of the 0/1 outcome).",
    )
    group_columns: tuple[str, ...] = Field(
        ...,
        min_length=1,
        description="Columns whose groups are compared one at a time.",
    )
    intersections: tuple[tuple[str, ...], ...] = Field(
        (),
        description="Combinations of columns whose joint groups are compared.",
    )
    reference: dict[str, ReferenceValue] = Field(
        default_factory=dict,
        description="Reference value per column; default: the largest group.",
    )
    n_boot: Annotated[int, Field(ge=0, le=MAX_BOOT)] = Field(
        1000, description="Bootstrap resamples for the confidence intervals (0: none)."
    )
    confidence: Annotated[float, Field(gt=0.5, lt=1.0)] = Field(
        0.95, description="Coverage of the percentile bootstrap intervals."
    )
    replicates: Annotated[int, Field(ge=1, le=100)] = Field(
        1,
        description="Runs of the whole scenario with different seeds; the audit "
        "pools them (rates of the counts summed across runs) and reports the "
        "spread between them.",
    )
    min_group_size: Annotated[int, Field(ge=0, le=1_000_000)] = Field(
        50, description="Groups with fewer households are reported with a warning."
    )

    @field_validator("group_columns")
    @classmethod
    def _distinct_columns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError(f"group_columns lists a column twice: {list(v)}")
        return v

    @field_validator("intersections")
    @classmethod
    def _proper_intersections(
        cls, v: tuple[tuple[str, ...], ...]
    ) -> tuple[tuple[str, ...], ...]:
        for cols in v:
            if len(cols) < 2 or len(set(cols)) != len(cols):
                raise ValueError(
                    "each intersection must list at least two different columns, "
                    f"got {list(cols)}"
                )
        return v

    @model_validator(mode="after")
    def _valid_references(self) -> Any:
        problems = self.reference_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def reference_problems(self) -> list[str]:
        """What is wrong with ``reference``: columns it names that are not audited."""
        used = set(self.columns())
        return [
            f"reference names {column!r}, which is not audited (group_columns "
            "or intersections)"
            for column in self.reference
            if column not in used
        ]

    def columns(self) -> tuple[str, ...]:
        """Every column the audit reads, group columns first, without repeats."""
        seen = dict.fromkeys(self.group_columns)
        for cols in self.intersections:
            seen.update(dict.fromkeys(cols))
        return tuple(seen)

    def column_sets(self) -> tuple[tuple[str, ...], ...]:
        """The groupings reported: each group column alone, then each intersection."""
        return tuple((c,) for c in self.group_columns) + tuple(self.intersections)


class AuditConfig(GroupAudit):
    """How flags are audited: target, groups, reference groups and intervals."""

    target: Target = Field(
        "eligible",
        description="What a flag is judged against: 'eligible' (meets the programme "
        "criteria on perfect data) or 'harm' (an adverse outcome in the follow-up).",
    )
    group_columns: tuple[GroupColumn, ...] = Field(
        ("imd_quintile", "ethnicity", "tenure", "lone_parent"),
        min_length=1,
        description="Household attributes whose groups are compared one at a time.",
    )
    intersections: tuple[tuple[GroupColumn, ...], ...] = Field(
        (("imd_quintile", "ethnicity"),),
        description="Combinations of attributes whose joint groups are compared "
        "(e.g. [imd_quintile, ethnicity]).",
    )
    reference: dict[GroupColumn, str | int | bool] = Field(
        default_factory=dict,
        description="Reference value per column; default: the least deprived "
        "(imd_decile 10, imd_quintile 5), else the largest group in the data.",
    )
    headline: HeadlineConfig | None = Field(
        None,
        description="The scenario's own question, which the console, the summary "
        'and the report lead with (docs/audit.md, "The headline"); null for the '
        "false positive rate of the most deprived fifth of areas against the least "
        "deprived.",
    )

    @field_validator("headline")
    @classmethod
    def _headline_audited(
        cls, v: HeadlineConfig | None, info: ValidationInfo
    ) -> HeadlineConfig | None:
        audited = info.data.get("group_columns")
        if v is not None and audited is not None:
            problem = unaudited_grouping(v, tuple(audited))
            if problem:
                raise ValueError(problem)
        return v

    def reference_problems(self) -> list[str]:
        """Columns not audited, and values that are not the column's own."""
        used = set(self.columns())
        problems = super().reference_problems()
        for column, value in self.reference.items():
            allowed = GROUP_VALUES[column]
            if column in used and (
                value not in allowed or type(value) is not type(allowed[0])
            ):
                problems.append(
                    f"reference for {column!r} must be one of {list(allowed)}, "
                    f"got {value!r}"
                )
        return problems
