"""Plans are recorded for every child of a family seen to need help."""

from __future__ import annotations

import numpy as np


def test_a_seen_familys_plans_cover_each_of_its_children(default_data):
    care = default_data.sources["social_care"]
    people = default_data.people
    for event in ("child_in_need_plan", "child_protection_plan"):
        rows = care[(care["event_type"] == event) & care["true_from_need"]]
        assert len(rows) > 0, event
        seen = rows["true_household_id"].unique()
        children = people[
            (people["role"] == "child") & people["household_id"].isin(seen)
        ]
        planned = rows[["true_household_id", "true_person_id"]].drop_duplicates()
        assert set(planned["true_person_id"]) == set(children["person_id"]), event
        # One family's plans carry its own children only, and households stay sorted.
        hh_of = people.set_index("person_id")["household_id"]
        np.testing.assert_array_equal(
            hh_of.reindex(planned["true_person_id"]).to_numpy(),
            planned["true_household_id"].to_numpy(),
        )
    assert care["true_household_id"].is_monotonic_increasing
