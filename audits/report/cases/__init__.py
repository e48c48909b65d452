"""Case files: a few synthetic families wrongly flagged or missed, and why.

The teaching part of the report, in four steps kept apart: the kinds of case file and
what one holds (:mod:`~audits.report.cases.kinds`), the joins over the few households
considered (:mod:`~audits.report.cases.evidence`), choosing one telling family per
kind (:mod:`~audits.report.cases.select`), gathering its case file
(:mod:`~audits.report.cases.case_file`), and, last, the words
(:mod:`~audits.report.cases.explain`). Logic reads codes, never the words.
"""

from __future__ import annotations

from audits.report.cases.case_file import case_files, describe_case, gather
from audits.report.cases.explain import explanation, member_summary
from audits.report.cases.kinds import (
    CATEGORIES,
    MAX_RECORDS,
    PLAIN_CATEGORIES,
    CaseFile,
    Category,
)
from audits.report.cases.select import Examined, examine_cases, select_cases

__all__ = [
    "CATEGORIES",
    "MAX_RECORDS",
    "PLAIN_CATEGORIES",
    "CaseFile",
    "Category",
    "Examined",
    "case_files",
    "describe_case",
    "examine_cases",
    "gather",
    "explanation",
    "member_summary",
    "select_cases",
]
