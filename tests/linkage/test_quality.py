"""Link quality against the truth: hand-computed outcomes, and errors versus recall."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from world import make_world

from audits.link_quality import link_quality, summarise
from simulator.council.linkage import LinkageConfig, SplinkConfig, link

SPINE = pd.DataFrame(
    {
        "spine_person_id": [1, 2, 3, 4],
        "spine_household_id": [1, 1, 2, 2],
        "true_person_id": [10, 20, 30, 30],  # person 30 is on the spine twice
        "err_duplicate": [False, False, False, True],
    }
)
RECORDS = pd.DataFrame(
    {
        "record_id": [0, 1, 2, 3, 4, 5],
        "true_person_id": [10, 20, 30, 40, 40, 20],
        "true_household_id": [1, 1, 2, 3, 3, 1],
        "err_name_typo": [False, True, False, False, True, False],
    }
)
LINKS = pd.DataFrame(
    {
        "source": "police",
        "record_id": [0, 1, 2, 3, 4, 5],
        # right; wrong person; the duplicate row (right); absent person linked;
        # absent person unlinked; missed
        "spine_person_id": pd.array([1, 1, 4, 2, None, None], dtype="Int64"),
    }
)


def test_outcomes_and_rates_by_hand():
    q = link_quality(LINKS, {"police": RECORDS}, SPINE)
    got = q.records.set_index("record_id")["outcome"].astype(str).tolist()
    assert got == [
        "correct",
        "linked_wrong",
        "correct",
        "linked_absent",
        "unlinked_absent",
        "missed",
    ]
    o = q.overall.iloc[0]
    # linkable: records 0, 1, 2, 5; linked: 0, 1, 2, 3; correct: 0, 2.
    assert (o["n_linkable"], o["n_linked"], o["n_correct"]) == (4, 4, 2)
    assert (o["n_false"], o["n_missed"], o["n_missed_unlinked"]) == (2, 2, 1)
    assert o["precision"] == pytest.approx(0.5)
    assert o["recall"] == pytest.approx(0.5)
    errs = q.errors.set_index("record_id")
    assert errs.loc[1, "record_causes"] == "name_typo"
    assert errs.loc[1, "true_spine_person_id"] == 2
    assert errs.loc[3, "record_causes"] == ""


def test_group_breakdown_adds_up():
    households = pd.DataFrame(
        {"household_id": [1, 2, 3], "tenure": ["owner", "owner", "social_rent"]}
    )
    q = link_quality(LINKS, {"police": RECORDS}, SPINE, households)
    g = q.by_group
    assert set(g["group"]) == {"tenure"}
    assert g["n_records"].sum() == len(RECORDS)
    assert g["n_correct"].sum() == q.overall.iloc[0]["n_correct"]


def test_a_link_to_a_record_in_no_source_is_refused():
    from simulator.errors import InputDataError

    extra = pd.concat(
        [
            LINKS,
            pd.DataFrame(
                {
                    "source": ["police"],
                    "record_id": [99],
                    "spine_person_id": pd.array([1], dtype="Int64"),
                }
            ),
        ]
    )
    with pytest.raises(InputDataError, match="in no source"):
        link_quality(extra, {"police": RECORDS}, SPINE)


@pytest.mark.parametrize("method", ["deterministic", "splink"])
def test_more_errors_never_improve_recall_on_average(method):
    """Averaged over worlds, recall falls as every error rate rises."""
    recalls = {}
    for rate in (0.0, 0.03, 0.1):
        values = []
        for seed in range(2):
            w = make_world(400, seed, error_rate=rate)
            cfg = LinkageConfig(method=method, splink=SplinkConfig(max_pairs=100_000))
            links = link(w.sources, w.spine, cfg, seed=seed)
            q = link_quality(links, w.sources, w.spine)
            values.append(q.overall.iloc[0]["recall"])
        recalls[rate] = float(np.mean(values))
    assert recalls[0.0] >= recalls[0.03] >= recalls[0.1], recalls
    assert recalls[0.0] > recalls[0.1] + 0.02, recalls


def test_a_wrong_person_record_linked_as_recorded_is_a_data_error():
    # Record 0 concerns person 20 but carries person 10's identity (a wrong-person
    # record) and is linked to 10; record 1 carries 20's and is linked to 10.
    records = pd.DataFrame(
        {
            "record_id": [0, 1],
            "true_person_id": [20, 20],
            "true_identity_person_id": [10, 20],
            "true_household_id": [1, 1],
            "err_wrong_person": [True, False],
        }
    )
    links = pd.DataFrame(
        {
            "source": "police",
            "record_id": [0, 1],
            "spine_person_id": pd.array([1, 1], dtype="Int64"),
        }
    )
    q = link_quality(links, {"police": records}, SPINE)
    r = q.records.set_index("record_id")
    assert r["outcome"].astype(str).tolist() == ["correct", "linked_wrong"]
    assert r["wrong_subject"].tolist() == [True, False]
    o = q.overall.iloc[0]
    assert (o["n_correct"], o["n_false"], o["n_wrong_subject"]) == (1, 1, 1)
    assert o["precision"] == pytest.approx(0.5)  # the linker's: 1 of 2 as recorded
    assert o["subject_precision"] == pytest.approx(0.0)  # neither reached person 20
    # The false link's "true" spine row is the one carrying the record's identity.
    assert q.errors.set_index("record_id").loc[1, "true_spine_person_id"] == 2


def test_worlds_pooled_are_the_summed_counts_and_their_rates():
    """Two worlds' link quality pooled equals one measurement of both worlds'
    records together: counts summed, precision, recall, F1 and subject precision of
    the sums (a world linking every record right, and this file's by-hand world);
    the range is each world's own rate at its ends."""
    from audits.pooled_links import pool_quality, rate_range, tables_only

    households = pd.DataFrame(
        {"household_id": [1, 2, 3], "tenure": ["owner", "owner", "social_rent"]}
    )
    right = LINKS.assign(
        spine_person_id=pd.array([1, 2, 3, None, None, 2], dtype="Int64")
    )
    full = [
        link_quality(links, {"police": RECORDS}, SPINE, households)
        for links in (LINKS, right)
    ]
    worlds = [full[0], tables_only(full[1])]
    pooled = pool_quality(worlds)
    both = pd.concat([w.records for w in full], ignore_index=True)
    pd.testing.assert_frame_equal(
        pooled.overall.reset_index(drop=True),
        summarise(both).reset_index(drop=True),
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(
        pooled.by_source, summarise(both, ["source"]), check_dtype=False
    )
    assert pooled.by_group["n_records"].sum() == 2 * len(RECORDS)
    owner = pooled.by_group.set_index("value").loc["owner"]
    assert owner["n_correct"] == sum(
        w.by_group.set_index("value").loc["owner", "n_correct"] for w in worlds
    )
    assert pooled.causes["n_false"].sum() == sum(
        w.causes["n_false"].sum() for w in worlds
    )
    assert pool_quality(worlds[:1]) is worlds[0]
    spread = rate_range(worlds)
    recalls = sorted(w.overall["recall"].iloc[0] for w in full)
    assert recalls[0] < recalls[1]
    assert spread.loc["recall"].tolist() == recalls
