"""Make ``vendor_model.skops``: the fitted model the vendor-audit scenario audits.

It stands for a vendor's product: a logistic regression trained on *another*
council's linked data (the baseline scenario with a different seed), to predict what
that council could observe, a later referral to children's social care. The vendor
chose its features; two of them (the area's deprivation and housing benefit) say
more about poverty than about need. Nothing here reads the truth: the labels are
:func:`simulator.council.view.observed_labels`, as for ``kind: learned``.

Run from the repository root to remake the file (it is committed, so users need not):

    .venv/bin/python scenarios/vendor/make_vendor_model.py

The result depends on the simulator's version, so a remade file may differ slightly
from the committed one. It is saved with ``skops.io.dump`` (never a pickle).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from simulator.schema.loading import load_scenario

HERE = Path(__file__).resolve().parent
OUT = HERE / "vendor_model.skops"
TRAINING_SEED = 7
"""The other council: the baseline scenario drawn with another seed."""
FEATURES = [
    "police_incident",
    "police_anti_social_behaviour",
    "police_domestic_abuse_callout",
    "social_care_contact",
    "social_care_referral",
    "education_suspension",
    "education_persistent_absence",
    "benefits_out_of_work_benefit",
    "benefits_housing_benefit",
    "health_ae_attendance",
    "health_mental_health_contact",
    "lone_adult",
    "n_children",
    "imd_decile",
]
"""The vendor's features (view columns)."""


def training_data(seed: int = TRAINING_SEED) -> tuple[pd.DataFrame, pd.Series]:
    """The other council's linked view and its observed labels."""
    from simulator.council.view import observed_labels
    from simulator.pipeline.run import link_data, linked_view, stage_seed
    from simulator.world.generate import generate

    scenario = load_scenario(
        HERE.parent / "baseline.yaml", [f"seed={seed}", "population.n_households=20000"]
    )
    data = generate(scenario)
    links, _ = link_data(data, scenario.linkage, stage_seed(scenario, "linkage"))
    view = linked_view(data, links, scenario)
    labels = observed_labels(
        data.sources,
        links,
        reference_date=scenario.time.reference_date,
        households=view.index,
    )
    return view, labels


def main() -> None:
    """Fit the vendor's model and save it with skops."""
    view, labels = training_data()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(view[FEATURES].astype(float), labels.to_numpy())
    sio.dump(model, OUT)
    coefs = dict(zip(FEATURES, model[-1].coef_[0].round(3), strict=True))
    print(f"wrote {OUT} ({len(view):,} households, {int(labels.sum()):,} labelled)")  # noqa: T201
    print(coefs)  # noqa: T201


if __name__ == "__main__":
    main()
