"""A scikit-learn classifier trained on what the council could observe.

The model is trained on a *history cohort*: the same scenario generated again with
another seed, linked the same way, its view built at the same reference date, and its
label what the council observes afterwards (a later children's-social-care referral
linked to the family, :func:`simulator.council.view.observed_labels`), never the truth.
The
label therefore carries the same visibility bias and linkage errors as the features.
The pipeline builds the cohort; this module fits and scores.

Any classifier with ``predict_proba`` can be named by import path; by default only
scikit-learn's modules may be imported (``LearnedConfig.allowed_modules``). Features
are standardised first (a ``StandardScaler``; harmless for trees), and the score is
the predicted probability of the label. scikit-learn is imported only when a learned
model is fitted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from simulator.council.models.base import (
    ModelBase,
    check_labels,
    check_view,
    import_object,
    require_columns,
)
from simulator.errors import InputDataError, ModelError
from simulator.schema.model import DEFAULT_PARAMS, ESTIMATORS

_EPS = 1e-12


def positive_column(estimator: Any) -> int:
    """Column of ``predict_proba`` for the positive class (True or 1; else the last)."""
    classes = list(getattr(estimator, "classes_", []))
    for positive in (True, 1):
        for i, c in enumerate(classes):
            if c is positive or (not isinstance(c, str) and c == positive):
                return i
    return len(classes) - 1


def probability(estimator: Any, frame: pd.DataFrame) -> np.ndarray:
    """The estimator's probability of the positive class for each row."""
    proba = np.asarray(estimator.predict_proba(frame), dtype=np.float64)
    return proba[:, positive_column(estimator)]


def _log_odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


def occlusion_contributions(
    predict: Callable[[pd.DataFrame], np.ndarray],
    frame: pd.DataFrame,
    reference: np.ndarray,
) -> pd.DataFrame:
    """Each feature's contribution to the log-odds, by replacing it with a reference.

    For feature ``j``, the contribution is ``logit(p(x)) - logit(p(x with x_j :=
    reference_j))``, one feature at a time. For a model linear in the log-odds (a
    logistic regression, standardised or not) this is exactly ``coef_j * (x_j -
    reference_j)`` on the model's scale. For other models (trees, boosting) it is a
    permutation-free, one-at-a-time approximation: it ignores interactions, and the
    contributions need not add up to the score. It costs one prediction per feature.

    Parameters
    ----------
    predict : callable
        Frame -> probability of the positive class.
    frame : DataFrame
        The features, in the model's order.
    reference : numpy.ndarray
        One reference value per feature (the training means).

    Returns
    -------
    DataFrame
        Same index and columns as ``frame``.
    """
    x = frame.to_numpy(dtype=np.float64, copy=True)
    base = _log_odds(predict(frame))
    out = np.empty_like(x)
    columns = list(frame.columns)
    for j in range(x.shape[1]):  # one pass per feature, vectorised over households
        original = x[:, j].copy()
        x[:, j] = reference[j]
        out[:, j] = base - _log_odds(
            predict(pd.DataFrame(x, index=frame.index, columns=columns))
        )
        x[:, j] = original
    return pd.DataFrame(out, index=frame.index, columns=columns)


def numeric_features(view: pd.DataFrame, columns: list[str], who: str) -> pd.DataFrame:
    """The view's ``columns`` as float64; an error names non-numeric ones."""
    require_columns(view, columns, who)
    frame = view[columns]
    bad = [
        c
        for c in columns
        if not (
            pd.api.types.is_numeric_dtype(frame[c])
            or pd.api.types.is_bool_dtype(frame[c])
        )
    ]
    if bad:
        raise InputDataError(
            f"{who}: feature column(s) {', '.join(bad)} are not numeric"
        )
    out = frame.astype(np.float64)
    if out.isna().to_numpy().any():
        raise InputDataError(f"{who}: the view has missing feature values")
    return out


class LearnedModel(ModelBase):
    """A scikit-learn classifier fitted on a history cohort's observed labels.

    Parameters
    ----------
    estimator : str
        Import path ``"module:Class"`` of a classifier with ``predict_proba``, or a
        short name of :data:`~simulator.schema.model.ESTIMATORS`.
    params : dict, optional
        Keyword parameters of the estimator. If empty, a built-in estimator gets
        :data:`~simulator.schema.model.DEFAULT_PARAMS`.
    features : tuple of str, optional
        View columns to use; None for every column.
    allowed_modules : tuple of str
        Module prefixes the estimator may be imported from.
    random_state : int, optional
        Given to the estimator as ``random_state`` when it takes one and ``params``
        does not set it.

    Attributes
    ----------
    estimator_ : sklearn.pipeline.Pipeline
        The fitted ``StandardScaler`` + classifier.
    features_ : tuple of str
        The columns it was fitted on, in order.
    reference_ : numpy.ndarray
        Training means of the features (the reference of :meth:`explain`).
    """

    requires_fit = True

    def __init__(
        self,
        *,
        estimator: str = "logistic_regression",
        params: dict[str, Any] | None = None,
        features: tuple[str, ...] | None = None,
        allowed_modules: tuple[str, ...] = ("sklearn.",),
        random_state: int | None = None,
    ):
        self.estimator = estimator
        self.params = params
        self.features = features
        self.allowed_modules = allowed_modules
        self.random_state = random_state

    def _build(self) -> Any:
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        path = ESTIMATORS.get(self.estimator, self.estimator)
        cls = import_object(path, self.allowed_modules)
        params = dict(self.params or DEFAULT_PARAMS.get(path, {}))
        try:
            est = cls(**params)
        except TypeError as e:
            raise ModelError(f"cannot build {path} with params {params}: {e}") from e
        if not (callable(getattr(est, "fit", None)) and hasattr(est, "predict_proba")):
            raise ModelError(
                f"{path} is not a classifier with fit and predict_proba methods"
            )
        get = getattr(est, "get_params", None)
        if callable(get) and "random_state" in get() and "random_state" not in params:
            est.set_params(random_state=self.random_state)
        return Pipeline([("scale", StandardScaler()), ("model", est)])

    def fit(self, view: pd.DataFrame, labels: pd.Series | None = None) -> LearnedModel:
        """Fit on a history cohort's view and observed labels.

        Raises
        ------
        InputDataError
            If the view has hidden columns or non-numeric features, or the labels do
            not match the view.
        ModelError
            If the estimator cannot be built, or the labels hold one class only.
        """
        who = "learned model"
        check_view(view, who)
        y = check_labels(labels, view, who)
        columns = list(self.features) if self.features else list(view.columns)
        x = numeric_features(view, columns, who)
        if len(np.unique(y)) < 2:
            raise ModelError(
                f"{who}: every observed label is {bool(y[0]) if len(y) else 'absent'}"
                "; a classifier needs households with and without the outcome (use a "
                "larger history cohort)"
            )
        pipe = self._build()
        pipe.fit(x, y)
        self.estimator_ = pipe
        self.features_ = tuple(columns)
        self.reference_ = x.to_numpy().mean(axis=0)
        return self

    def score(self, view: pd.DataFrame) -> pd.Series:
        """The predicted probability of the observed label for each household."""
        self._check_fitted("estimator_")
        check_view(view, "learned model")
        x = numeric_features(view, list(self.features_), "learned model")
        return pd.Series(
            probability(self.estimator_, x), index=view.index, name="score"
        )

    def explain(self, view: pd.DataFrame) -> pd.DataFrame:
        """Contributions to the log-odds, feature by feature.

        See :func:`occlusion_contributions`: exact for logistic regression, a
        one-at-a-time approximation for trees.
        """
        self._check_fitted("estimator_")
        check_view(view, "learned model")
        x = numeric_features(view, list(self.features_), "learned model")
        return occlusion_contributions(
            lambda f: probability(self.estimator_, f), x, self.reference_
        )
