"""AuditConfig: defaults, and scenario-style errors for bad references and groupings."""

from __future__ import annotations

from contextlib import nullcontext as does_not_raise

import pytest
from pydantic import ValidationError

from simulator.schema.audit import AuditConfig


def test_defaults_audit_eligibility_by_deprivation_and_ethnicity():
    c = AuditConfig()
    assert c.target == "eligible"
    assert c.columns() == ("imd_quintile", "ethnicity", "tenure", "lone_parent")
    assert c.column_sets()[-1] == ("imd_quintile", "ethnicity")
    assert (c.n_boot, c.confidence, c.replicates) == (1000, 0.95, 1)


@pytest.mark.parametrize(
    ("data", "expectation"),
    [
        ({"reference": {"ethnicity": "asian", "lone_parent": True}}, does_not_raise()),
        ({"reference": {"imd_quintile": 1}}, does_not_raise()),
        (
            {"reference": {"ethnicity": "purple"}},
            pytest.raises(
                ValidationError, match="reference for 'ethnicity' must be one of"
            ),
        ),
        (
            {"reference": {"imd_quintile": "5"}},
            pytest.raises(ValidationError, match="reference for 'imd_quintile'"),
        ),
        (
            {"reference": {"lone_parent": 1}},
            pytest.raises(ValidationError, match="reference for 'lone_parent'"),
        ),
        (
            {"reference": {"moved_recently": True}},
            pytest.raises(
                ValidationError, match="'moved_recently', which is not audited"
            ),
        ),
        (
            {"group_columns": ["tenure", "tenure"]},
            pytest.raises(ValidationError, match="lists a column twice"),
        ),
        (
            {"intersections": [["tenure"]]},
            pytest.raises(ValidationError, match="at least two different columns"),
        ),
        ({"group_columns": []}, pytest.raises(ValidationError, match="at least 1")),
        (
            {"n_boot": 20_001},
            pytest.raises(ValidationError, match="less than or equal"),
        ),
        ({"confidence": 1.0}, pytest.raises(ValidationError, match="less than 1")),
        ({"target": "need_health"}, pytest.raises(ValidationError, match="'eligible'")),
        ({"bootstrap": 10}, pytest.raises(ValidationError, match="Extra inputs")),
    ],
)
def test_bad_settings_are_refused(data, expectation):
    with expectation:
        AuditConfig.model_validate(data)


def test_a_deprivation_reference_needs_its_column_audited():
    c = AuditConfig(
        group_columns=("ethnicity",),
        intersections=(("imd_decile", "ethnicity"),),
        reference={"imd_decile": 1},
    )
    assert c.columns() == ("ethnicity", "imd_decile")
