"""A plug-in module beside the scenario file is found without PYTHONPATH."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from simulator.council.models import ExternalConfig, make_model

PLUGIN = '''
import pandas as pd


class CountModel:
    """Scores a household by its number of linked events."""

    def __init__(self, weight=1.0):
        self.weight = weight

    def fit(self, view, labels=None):
        return self

    def score(self, view):
        return pd.Series(self.weight * view["n_events"].astype(float), index=view.index)
'''


def test_a_plugin_beside_the_scenario_is_imported_from_its_directory(tmp_path):
    (tmp_path / "beside_plugin.py").write_text(PLUGIN, encoding="utf-8")
    view = pd.DataFrame(
        {"n_events": [0, 3, 1]},
        index=pd.Index([1, 2, 3], name="spine_household_id"),
    )
    config = ExternalConfig(plugin="beside_plugin:CountModel", params={"weight": 2.0})
    model = make_model(config, base_dir=tmp_path)
    scores = model.fit(view, None).score(view)
    np.testing.assert_array_equal(scores.to_numpy(), [0.0, 6.0, 2.0])
    assert str(tmp_path) not in sys.path  # only searched while importing
