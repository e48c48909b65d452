"""The settings of an audit of a table the user already has (``audit --table``).

A :class:`TableAudit` is a :class:`~simulator.schema.audit.GroupAudit` (groupings,
reference groups, intervals, any column names) plus the table's own columns: the 0/1
outcome, the score and the rule that turns it into flags (or a column of 0/1
decisions), an optional id (ties at the cut) and an optional weight. Plain data, so
it is recorded as it is in the audit's ``summary.json``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from simulator.schema.audit import GroupAudit
from simulator.schema.model import FlagRule

DEFAULT_MAX_BYTES = 4 * 1024**3
"""The largest table file read by default (4 GiB); ``--max-size`` changes it."""


class TableAudit(GroupAudit):
    """What to audit in a table: outcome, decisions, groups, weights, intervals."""

    target: str = Field(
        ..., min_length=1, description="The 0/1 outcome column flags are judged on."
    )
    score: str | None = Field(
        None, description="A numeric score column; with `flag`, it gives the flags."
    )
    flag: FlagRule | None = Field(
        None, description="How scores become flags (threshold, top_percent, budget)."
    )
    flagged: str | None = Field(None, description="A column of 0/1 decisions.")
    id: str | None = Field(
        None,
        description="A unique id column: ties at a top_percent or budget cut "
        "go to the lower id (else to the earlier row).",
    )
    weight: str | None = Field(
        None,
        description="A column of non-negative row weights: every count is the sum "
        "of its rows' weights.",
    )
    max_bytes: Annotated[int, Field(gt=0)] = Field(
        DEFAULT_MAX_BYTES, description="The largest file read, in bytes."
    )

    @model_validator(mode="after")
    def _one_decision(self) -> TableAudit:
        if self.flag is not None and self.score is None:
            raise ValueError("a flag rule needs a score column")
        if (self.flag is None) == (self.flagged is None):
            raise ValueError(
                "give either a score column with a flag rule, or a flagged column "
                "of 0/1 decisions (not both)"
            )
        return self

    def used(self) -> tuple[str, ...]:
        """Every column of the table the audit reads, without repeats."""
        named = [self.id, self.target, self.score, self.flagged, self.weight]
        return tuple(dict.fromkeys([c for c in named if c] + list(self.columns())))
