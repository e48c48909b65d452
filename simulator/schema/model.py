"""The scenario's ``model`` section: which risk model, its parameters, and its flags.

``ModelConfig`` is a union discriminated on ``kind``:

- ``criteria``: the programme's rule, at least ``min_problems`` of the six headline
  problems shown in the linked data (:class:`CriteriaConfig`);
- ``scorecard``: vendor-like weighted points with a threshold
  (:class:`ScorecardConfig`);
- ``learned``: a scikit-learn classifier trained on a history cohort's observed label
  (:class:`LearnedConfig`);
- ``external``: the auditor's own model class, a vendor's score file, or a fitted
  scikit-learn model saved with skops (:class:`ExternalConfig`).

Each has a ``flag`` rule (:class:`FlagRule`) that turns scores into flags; when it is
not given, :meth:`flag_rule` supplies the kind's default.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field, JsonValue, model_validator

from simulator.schema.section import Section
from simulator.schema.view import EventName

ImportPath = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*"
        r":[A-Za-z_][A-Za-z0-9_]*$"
    ),
]
"""``"package.module:Class"``."""

DEFAULT_TOP_PERCENT = 10.0
"""Default share of households flagged by models whose scores have no natural cut-off
(learned and external): an assumption, about the share the criteria flag in the
default scenario (13% of families are eligible); set ``flag`` to what the council can
afford."""


class FlagRule(Section):
    """How scores become flags: one of ``threshold``, ``top_percent`` or ``budget``.

    Households are ranked by score, highest first, ties broken by the lower
    ``spine_household_id`` (:func:`simulator.council.models.base.apply_flag_rule`).
    """

    threshold: float | None = Field(
        None, description="Flag every household whose score is at least this."
    )
    top_percent: Annotated[float, Field(gt=0.0, le=100.0)] | None = Field(
        None,
        description="Flag the highest-scoring households, floor(top_percent% of "
        "households) of them.",
    )
    budget: Annotated[int, Field(ge=0)] | None = Field(
        None,
        description="Flag this many highest-scoring households (all if there are "
        "fewer): the families the council can afford to work with.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> FlagRule:
        given = [
            k
            for k in ("threshold", "top_percent", "budget")
            if getattr(self, k) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "a flag rule needs exactly one of threshold, top_percent or budget, "
                f"got {', '.join(given) if given else 'none'}"
            )
        if self.threshold is not None and not math.isfinite(self.threshold):
            raise ValueError(f"threshold must be finite, got {self.threshold}")
        return self


# ----------------------------------------------------------------------- criteria


class Indicator(Section):
    """How one headline problem shows in the linked data.

    The problem shows when the linked events listed (plus, with
    ``persistent_absence``, the persistently absent pupils) number at least
    ``min_count``.
    """

    events: tuple[EventName, ...] = Field(
        default=(),
        description="Events that count, as 'source.event_type' (view columns "
        "'source_event_type').",
    )
    persistent_absence: bool = Field(
        False, description="Also count persistently absent pupils."
    )
    min_count: Annotated[int, Field(ge=1, le=1_000)] = Field(
        1, description="How many counted events (or pupils) show the problem."
    )

    @model_validator(mode="after")
    def _something_counts(self) -> Indicator:
        if not self.events and not self.persistent_absence:
            raise ValueError(
                "an indicator needs at least one event or persistent_absence: true"
            )
        return self


def _indicator(*events: str, persistent_absence: bool = False) -> Any:
    return Field(
        default_factory=lambda: Indicator(
            events=events, persistent_absence=persistent_absence
        )
    )


class Indicators(Section):
    """One indicator per headline problem (the Supporting Families outcomes framework).

    Defaults follow the programme's descriptors, with the events the simulated
    agencies record: crime and anti-social behaviour from police incidents; education
    from suspensions, permanent exclusions and persistent absence; children who need
    help from referrals and plans (not contacts alone); worklessness from out-of-work
    benefits (not housing benefit, which many working families claim); domestic abuse
    from police call-outs, A&E attendances and social-care referrals for it; health
    from mental-health contacts (A&E attendances are common without a problem).
    """

    crime_asb: Indicator = _indicator("police.incident", "police.anti_social_behaviour")
    education: Indicator = _indicator(
        "education.suspension",
        "education.permanent_exclusion",
        persistent_absence=True,
    )
    children_in_need: Indicator = _indicator(
        "social_care.referral",
        "social_care.child_in_need_plan",
        "social_care.child_protection_plan",
    )
    worklessness: Indicator = _indicator("benefits.out_of_work_benefit")
    domestic_abuse: Indicator = _indicator(
        "police.domestic_abuse_callout",
        "health.domestic_abuse_ae",
        "social_care.domestic_abuse_referral",
    )
    health: Indicator = _indicator("health.mental_health_contact")


class CriteriaConfig(Section):
    """The programme's rule: flag a family showing at least ``min_problems`` problems.

    The score is the number of problems shown (0 to 6); the default flag rule is
    ``threshold: min_problems``.
    """

    kind: Literal["criteria"] = "criteria"
    min_problems: Annotated[int, Field(ge=1, le=6)] = Field(
        2,
        description="Problems a family must show to be flagged (Troubled Families "
        "phase 2: 2 of 6).",
    )
    indicators: Indicators = Field(default_factory=Indicators)
    flag: FlagRule | None = Field(
        None, description="How scores become flags; default threshold: min_problems."
    )

    def flag_rule(self) -> FlagRule:
        """The flag rule, or the default: at least ``min_problems`` problems."""
        return self.flag or FlagRule(threshold=float(self.min_problems))


# ---------------------------------------------------------------------- scorecard


class ScoreItem(Section):
    """Points for one view feature.

    By default ``points`` per unit of the feature, counting at most ``cap`` units;
    with ``between: [low, high]``, ``points`` once when ``low <= value <= high``.
    """

    feature: str = Field(
        min_length=1, description="View column, e.g. 'police_incident'."
    )
    points: float = Field(description="Points per unit (or once, with 'between').")
    cap: Annotated[float, Field(gt=0.0)] | None = Field(
        3.0, description="Units counted at most; null for no cap."
    )
    between: tuple[float, float] | None = Field(
        None, description="Award the points once when low <= value <= high."
    )

    @model_validator(mode="after")
    def _check(self) -> ScoreItem:
        if not math.isfinite(self.points):
            raise ValueError(f"points must be finite, got {self.points}")
        if self.between is not None and not self.between[0] <= self.between[1]:
            raise ValueError(f"between must be [low, high], got {list(self.between)}")
        return self


def _items(*rows: tuple[str, float, float | None]) -> tuple[ScoreItem, ...]:
    return tuple(ScoreItem(feature=f, points=p, cap=c) for f, p, c in rows)


DEFAULT_SCORE_ITEMS = (
    *_items(
        ("police_domestic_abuse_callout", 3.0, 3.0),
        ("police_incident", 2.0, 3.0),
        ("police_anti_social_behaviour", 1.0, 3.0),
        ("social_care_child_protection_plan", 5.0, 1.0),
        ("social_care_child_in_need_plan", 4.0, 1.0),
        ("social_care_referral", 3.0, 2.0),
        ("social_care_contact", 1.0, 3.0),
        ("social_care_domestic_abuse_referral", 3.0, 1.0),
        ("education_permanent_exclusion", 4.0, 1.0),
        ("education_suspension", 2.0, 3.0),
        ("education_persistent_absence", 2.0, 2.0),
        ("benefits_out_of_work_benefit", 2.0, 1.0),
        ("benefits_housing_benefit", 1.0, 1.0),
        ("health_domestic_abuse_ae", 3.0, 1.0),
        ("health_mental_health_contact", 2.0, 2.0),
        ("health_ae_attendance", 1.0, 3.0),
        ("lone_adult", 1.0, 1.0),
    ),
    ScoreItem(feature="imd_decile", points=2.0, cap=None, between=(1.0, 2.0)),
)
"""An illustrative vendor-style points table (an assumption, not any real vendor's):
more points for what practitioners weigh more (plans, exclusions, domestic abuse), a
cap on repeated events, and points for a lone adult and a most-deprived area."""


class ScorecardConfig(Section):
    """A vendor-like weighted points score over view features, with a threshold."""

    kind: Literal["scorecard"] = "scorecard"
    items: tuple[ScoreItem, ...] = Field(
        DEFAULT_SCORE_ITEMS, min_length=1, description="The points table."
    )
    threshold: float = Field(
        8.0,
        description="Points at which a family is flagged (the default flags about "
        "as many families as the criteria do in the default scenario, about 10%).",
    )
    flag: FlagRule | None = Field(
        None, description="How scores become flags; default threshold: threshold."
    )

    @model_validator(mode="after")
    def _check(self) -> ScorecardConfig:
        names = [i.feature for i in self.items]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"features scored twice: {', '.join(repeated)}")
        return self

    def flag_rule(self) -> FlagRule:
        """The flag rule, or the default: at least ``threshold`` points."""
        return self.flag or FlagRule(threshold=self.threshold)


# ------------------------------------------------------------------------ learned

ESTIMATORS = {
    "logistic_regression": "sklearn.linear_model:LogisticRegression",
    "gradient_boosting": "sklearn.ensemble:HistGradientBoostingClassifier",
}
"""Short names of the built-in estimators."""

DEFAULT_PARAMS: dict[str, dict[str, JsonValue]] = {
    "sklearn.linear_model:LogisticRegression": {"max_iter": 1000},
    "sklearn.ensemble:HistGradientBoostingClassifier": {"max_iter": 100},
}
"""Parameters used for a built-in estimator when ``params`` is empty."""


class LearnedConfig(Section):
    """A scikit-learn classifier trained on a history cohort's observed label.

    The estimator is named by import path (``"module:Class"``) or short name
    (:data:`ESTIMATORS`). Only modules under ``allowed_modules`` are imported, so a
    scenario file cannot make the learned model run arbitrary code; an auditor's own
    code belongs in ``kind: external``.
    """

    kind: Literal["learned"] = "learned"
    estimator: str = Field(
        "logistic_regression",
        description="'logistic_regression', 'gradient_boosting' or an import path "
        "'module:Class' of a scikit-learn classifier.",
    )
    params: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="Keyword parameters of the estimator; random_state, if the "
        "estimator takes one and it is not given, comes from the scenario seed.",
    )
    features: tuple[str, ...] | None = Field(
        None, description="View columns to train on; null for all."
    )
    allowed_modules: tuple[str, ...] = Field(
        ("sklearn.",),
        description="Module prefixes an estimator may be imported from.",
    )
    flag: FlagRule | None = Field(
        None,
        description=f"How scores become flags; default top_percent: "
        f"{DEFAULT_TOP_PERCENT:g}.",
    )

    @model_validator(mode="after")
    def _check(self) -> LearnedConfig:
        path = ESTIMATORS.get(self.estimator, self.estimator)
        if ":" not in path:
            raise ValueError(
                f"estimator must be one of {sorted(ESTIMATORS)} or 'module:Class', "
                f"got {self.estimator!r}"
            )
        if not (path.partition(":")[0] + ".").startswith(self.allowed_modules):
            raise ValueError(
                f"estimator {path!r} is not in an allowed module "
                f"({', '.join(self.allowed_modules)}); add its package to "
                "allowed_modules, or use kind: external for your own model"
            )
        return self

    def flag_rule(self) -> FlagRule:
        """The flag rule, or the default: the top :data:`DEFAULT_TOP_PERCENT`."""
        return self.flag or FlagRule(top_percent=DEFAULT_TOP_PERCENT)


# ----------------------------------------------------------------------- external


class ExternalConfig(Section):
    """Bring your own: exactly one of ``plugin``, ``scores`` or ``skops``.

    - ``plugin``: a class ``"package.module:Class"`` implementing the model protocol,
      built with ``params`` (importing it runs its code: use scenario files you
      trust);
    - ``scores``: a CSV or Parquet file with ``spine_household_id`` and ``score``,
      one row per spine household (a vendor's output);
    - ``skops``: a fitted scikit-learn classifier saved with ``skops.io.dump``,
      applied to the view's columns named in its ``feature_names_in_``. Types skops
      does not trust are refused unless listed in ``trusted``. Pickle and joblib
      files are never loaded.

    Relative paths are resolved against the scenario file's directory.
    """

    kind: Literal["external"] = "external"
    plugin: ImportPath | None = Field(None, description="'package.module:Class'.")
    params: dict[str, JsonValue] = Field(
        default_factory=dict, description="Keyword parameters of the plug-in."
    )
    scores: str | None = Field(None, description="Score file (.csv or .parquet).")
    skops: str | None = Field(None, description="A .skops file of a fitted model.")
    trusted: tuple[str, ...] = Field(
        (),
        description="Types in the skops file to trust beyond skops' defaults, e.g. "
        "'sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor'.",
    )
    flag: FlagRule | None = Field(
        None,
        description=f"How scores become flags; default top_percent: "
        f"{DEFAULT_TOP_PERCENT:g}.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> ExternalConfig:
        given = [k for k in ("plugin", "scores", "skops") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "an external model needs exactly one of plugin, scores or skops, got "
                f"{', '.join(given) if given else 'none'}"
            )
        if self.params and not self.plugin:
            raise ValueError("params apply to a plugin only")
        if self.trusted and not self.skops:
            raise ValueError("trusted applies to a skops file only")
        return self

    def flag_rule(self) -> FlagRule:
        """The flag rule, or the default: the top :data:`DEFAULT_TOP_PERCENT`."""
        return self.flag or FlagRule(top_percent=DEFAULT_TOP_PERCENT)


ModelConfig = Annotated[
    CriteriaConfig | ScorecardConfig | LearnedConfig | ExternalConfig,
    Field(discriminator="kind"),
]
"""The scenario's ``model`` section, chosen by ``kind``."""
