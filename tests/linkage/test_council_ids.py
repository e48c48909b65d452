"""The council's identifiers carry no order from the truth.

Rows are generated in true household order; the council's ids are seeded permutations
(:mod:`simulator.world.ids`). So the ids are not monotone in the true household, and
what the council concludes (links, the view, flags) does not depend on the truth's
order: generating the ids after the households were put in another order gives the
same result, once results are keyed by what the council holds (identity values)
rather than by ids, which are only names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from linktools import CLEAN_HOUSEHOLDS, scenario
from scipy.stats import spearmanr

from simulator.council.linkage import LinkageConfig, link
from simulator.council.models import make_model
from simulator.frames import council_view
from simulator.pipeline.run import council_run
from simulator.world.generate import SyntheticData, generate, number
from simulator.world.records import IDENTITY_COLUMNS

SPEARMAN_BOUND = 0.05
"""|rho| of ids against the true household: 0 in expectation for a permutation, with a
standard error of 1 / sqrt(n - 1) (under 0.006 for these tables, so the bound is over
8 standard errors); row numbers in household order give rho near 1."""


def _ids_and_truth(data: SyntheticData) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Every council id column with the true household of its rows."""
    out = [
        (f"{name}.record_id", f["record_id"], f["true_household_id"])
        for name, f in data.sources.items()
    ]
    for col in ("spine_person_id", "spine_household_id"):
        out.append((f"spine.{col}", data.spine[col], data.spine["true_household_id"]))
    return [(n, np.asarray(a), np.asarray(t)) for n, a, t in out]


def test_ids_are_not_ordered_by_the_true_household(messy_data):
    for name, ids, household in _ids_and_truth(messy_data):
        rho = spearmanr(ids, household).statistic
        assert abs(rho) < SPEARMAN_BOUND, f"{name}: Spearman {rho:.3f}"
        assert np.array_equal(np.sort(np.unique(ids)), np.arange(len(np.unique(ids))))


def test_spine_households_are_still_shared_by_address(messy_data):
    spine = messy_data.spine
    per_address = spine.groupby(["address", "postcode"], dropna=False)[
        "spine_household_id"
    ].nunique()
    assert (per_address == 1).all()
    assert spine["spine_household_id"].nunique() == len(per_address)


def truth_permuted(data: SyntheticData, seed: int) -> SyntheticData:
    """The same rows with the true households in a random order, then numbered.

    Rows of each household keep their order; the ids are generated afresh by the
    generator's own numbering step, so they fall on other rows.
    """
    households = data.households["household_id"].to_numpy()
    rank = pd.Series(
        np.random.default_rng(seed).permutation(len(households)), index=households
    )

    def reorder(frame: pd.DataFrame) -> pd.DataFrame:
        key = rank.reindex(frame["true_household_id"].to_numpy()).to_numpy()
        return frame.take(np.argsort(key, kind="stable")).reset_index(drop=True)

    sources = {name: reorder(f) for name, f in data.sources.items()}
    spine = reorder(data.spine)
    number(sources, spine, data.scenario.seed)
    return replace(data, sources=sources, spine=spine)


def _joined(frame: pd.DataFrame) -> np.ndarray:
    """Each row's values as one string (missing values spelt out)."""
    cols = [frame[c].astype(object).where(frame[c].notna(), "<NA>") for c in frame]
    return np.array(["|".join(map(str, t)) for t in zip(*cols, strict=True)])


def _person_keys(spine: pd.DataFrame) -> pd.Series:
    """What the council holds about each spine person, by ``spine_person_id``."""
    held = council_view(spine)[list(IDENTITY_COLUMNS)]
    return pd.Series(_joined(held), index=spine["spine_person_id"].to_numpy())


def _household_keys(spine: pd.DataFrame) -> pd.Series:
    """Each spine household as the multiset of its members' identities."""
    people = pd.Series(
        _person_keys(spine).to_numpy(), index=spine["spine_household_id"].to_numpy()
    )
    return people.groupby(level=0).agg(lambda s: "||".join(sorted(s)))


def keyed_result(data: SyntheticData, council) -> dict[str, Counter]:
    """Links, view and flags as multisets of identity values, with no ids in them."""
    persons, households = _person_keys(data.spine), _household_keys(data.spine)
    links = []
    for name, frame in data.sources.items():
        record = _joined(council_view(frame).drop(columns="record_id"))
        lk = council.links[council.links["source"] == name].set_index("record_id")
        lk = lk.reindex(frame["record_id"].to_numpy())
        to = lk["spine_person_id"]
        linked = persons.reindex(to.dropna().astype(np.int64)).to_numpy()
        target = np.full(len(frame), "", dtype=object)
        target[to.notna().to_numpy()] = linked
        # A tie broken by the lowest id is a draw the seed fixes: only its size counts.
        tied = (lk["n_candidates"] > 1).to_numpy()
        target[tied] = [f"one of {n} tied" for n in lk["n_candidates"].to_numpy()[tied]]
        links += [(name, r, t) for r, t in zip(record, target, strict=True)]
    view = council.view.astype(float).round(12)
    rows = _joined(view)
    flags = council.flags.set_index("spine_household_id")
    return {
        "links": Counter(links),
        "view": Counter(zip(households.reindex(view.index), rows, strict=True)),
        "flags": Counter(
            zip(
                households.reindex(flags.index),
                flags["flagged"],
                flags["score"].round(12),
                strict=True,
            )
        ),
    }


def _people_by_id(data: SyntheticData) -> np.ndarray:
    """The true person of each police record, in record id order."""
    police = data.sources["police"]
    return police.sort_values("record_id")["true_person_id"].to_numpy()


@pytest.mark.parametrize("ties", ["drop", "first"])
def test_council_result_ignores_the_truths_order(seed, ties):
    """Keyed by identity values, the council's result is the same (``first``: but for
    which of several tied candidates a record went to, and what follows from it)."""
    sc = scenario(CLEAN_HOUSEHOLDS, seed, linkage={"deterministic": {"ties": ties}})
    data = generate(sc)
    other = truth_permuted(data, seed + 1)
    assert not np.array_equal(_people_by_id(data), _people_by_id(other))
    model = make_model(sc.model)
    a = keyed_result(data, council_run(data, sc, model))
    b = keyed_result(other, council_run(other, sc, model))
    parts = ("links", "view", "flags") if ties == "drop" else ("links",)
    for part in parts:
        assert a[part] == b[part], f"{part} differ: {len(a[part] - b[part])} rows"


def test_splink_links_depend_on_ids_not_row_order(messy_data, links_of):
    """Rows in another order but with the same ids: the very same links (Splink's
    profiles and random u sample follow the council's ids, not the file's rows)."""
    rng = np.random.default_rng(0)

    def shuffled(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.take(rng.permutation(len(frame))).reset_index(drop=True)

    again = link(
        {k: shuffled(v) for k, v in messy_data.sources.items()},
        shuffled(messy_data.spine),
        LinkageConfig(method="splink"),
        seed=7,
    )
    pd.testing.assert_frame_equal(links_of(messy_data, "splink"), again)
