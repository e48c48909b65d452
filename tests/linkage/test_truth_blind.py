"""The council side never reads the truth: links do not change when it changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.council.linkage import LinkageConfig, link
from simulator.frames import council_view
from simulator.vocabulary import is_hidden
from simulator.world.true_links import oracle_links


def scrambled(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The frame with every hidden column's values permuted (nonsense truth)."""
    out = frame.copy()
    for col in [c for c in frame.columns if is_hidden(c)]:  # columns, not rows
        out[col] = frame[col].to_numpy()[rng.permutation(len(frame))]
    return out


@pytest.mark.parametrize("method", ["deterministic", "splink"])
def test_links_ignore_hidden_columns(messy_data, links_of, method):
    base = links_of(messy_data, method)
    rng = np.random.default_rng(0)
    hidden_scrambled = link(
        {k: scrambled(v, rng) for k, v in messy_data.sources.items()},
        scrambled(messy_data.spine, rng),
        LinkageConfig(method=method),
        seed=7,
    )
    pd.testing.assert_frame_equal(base, hidden_scrambled)
    spine_view = council_view(messy_data.spine)
    assert not any(is_hidden(c) for c in spine_view.columns)
    hidden_removed = link(
        {k: council_view(v) for k, v in messy_data.sources.items()},
        spine_view,
        LinkageConfig(method=method),
        seed=7,
    )
    pd.testing.assert_frame_equal(base, hidden_removed)


def test_oracle_needs_the_truth(messy_data):
    from simulator.errors import InputDataError

    with pytest.raises(InputDataError, match="police: true_person_id"):
        oracle_links(
            {"police": council_view(messy_data.sources["police"])}, messy_data.spine
        )


@pytest.mark.parametrize("method", ["deterministic", "splink"])
def test_same_seed_same_links(messy_data, links_of, method):
    again = link(
        messy_data.sources, messy_data.spine, LinkageConfig(method=method), seed=7
    )
    pd.testing.assert_frame_equal(links_of(messy_data, method), again)
