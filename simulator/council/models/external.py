"""Bring your own model: a plug-in class, a vendor's score file, or a skops file.

- :class:`PluginModel` imports ``"package.module:Class"``, builds it with its
  parameters, and checks every score it returns. Importing a plug-in runs its code:
  name only code you trust.
- :class:`ScoreFileModel` reads a CSV or Parquet file with ``spine_household_id`` and
  ``score``, one row per spine household, and refuses it with every problem listed
  (row numbers count data rows from 1, as a person reading the CSV would).
- :class:`SkopsModel` loads a fitted scikit-learn classifier saved with
  ``skops.io.dump``; types skops does not trust are refused unless listed in
  ``trusted``. Pickle and joblib files are never loaded (unpickling runs code).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from simulator.council.models.base import (
    ModelBase,
    RiskModel,
    check_scores,
    check_view,
    import_object,
)
from simulator.council.models.learned import (
    numeric_features,
    occlusion_contributions,
    probability,
)
from simulator.errors import InputDataError, ModelError
from simulator.vocabulary import INDEX

SCORE_COLUMNS = (INDEX, "score")
"""The columns a score file must have (others are ignored)."""
MAX_LISTED = 10
"""Problems of one kind listed in an error before 'and N more'."""
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pck", ".sav")
_PICKLE_MAGIC = b"\x80"
_ZIP_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"


# ------------------------------------------------------------------------ plug-in


class PluginModel(ModelBase):
    """An auditor's own model class, named by import path.

    Parameters
    ----------
    plugin : str
        ``"package.module:Class"``; the class implements the model protocol
        (:class:`~simulator.council.models.base.RiskModel`).
    params : dict, optional
        Keyword parameters of the class.
    search_path : str, optional
        A directory searched for the plug-in's module after ``sys.path`` (the
        scenario file's directory).

    Attributes
    ----------
    model_ : object
        The fitted plug-in.
    """

    row_wise: ClassVar[bool] = False
    """A plug-in may score each household against the others: the whole view."""

    def __init__(
        self,
        *,
        plugin: str,
        params: dict[str, Any] | None = None,
        search_path: str | None = None,
    ):
        self.plugin = plugin
        self.params = params
        self.search_path = search_path

    def _build(self) -> Any:
        cls = import_object(self.plugin, search_path=self.search_path)
        if not isinstance(cls, type):
            raise ModelError(f"{self.plugin!r} is not a class")
        try:
            model = cls(**dict(self.params or {}))
        except TypeError as e:
            raise ModelError(
                f"cannot build {self.plugin} with params {self.params or {}}: {e}"
            ) from e
        if not isinstance(model, RiskModel):
            raise ModelError(
                f"{self.plugin} does not implement the model protocol: it needs "
                "fit(view, labels) and score(view) methods"
            )
        return model

    def fit(self, view: pd.DataFrame, labels: pd.Series | None = None) -> PluginModel:
        """Build the plug-in and fit it (hidden columns are refused first)."""
        check_view(view, self.plugin)
        model = self._build()
        model.fit(view, labels)
        self.model_ = model
        return self

    def _model(self) -> Any:
        return self.model_ if hasattr(self, "model_") else self._build()

    def score(self, view: pd.DataFrame) -> pd.Series:
        """The plug-in's scores, checked (a Series, the view's index, finite)."""
        check_view(view, self.plugin)
        return check_scores(self._model().score(view), view, self.plugin)

    def explain(self, view: pd.DataFrame) -> pd.DataFrame:
        """The plug-in's ``explain(view)`` if it has one; else no contributions."""
        check_view(view, self.plugin)
        model = self._model()
        if callable(getattr(model, "explain", None)):
            out = model.explain(view)
            if isinstance(out, pd.DataFrame) and out.index.equals(view.index):
                return out
            raise ModelError(
                f"{self.plugin}: explain must return a DataFrame with the view's index"
            )
        return pd.DataFrame(index=view.index)


# --------------------------------------------------------------------- score file


def _refuse_pickle(path: Path, head: bytes) -> None:
    if path.suffix.lower() in PICKLE_SUFFIXES or head.startswith(_PICKLE_MAGIC):
        raise InputDataError(
            f"{path}: looks like a pickle or joblib file; linkaudit never loads "
            "pickles (loading one can run arbitrary code). Write scores as CSV or "
            "Parquet, and models with skops.io.dump"
        )


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(8)
    except FileNotFoundError:
        raise InputDataError(f"{path}: no such file") from None
    except OSError as e:
        raise InputDataError(f"{path}: cannot read the file ({e.strerror})") from e


def read_score_file(path: str | Path) -> pd.DataFrame:
    """Read a score file's rows as they are written (CSV cells as text).

    Raises
    ------
    InputDataError
        If the file is missing, a pickle, neither CSV nor Parquet, or unreadable.
    """
    path = Path(path)
    head = _head(path)
    _refuse_pickle(path, head)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
        if suffix in (".parquet", ".pq"):
            if not head.startswith(_PARQUET_MAGIC):
                raise InputDataError(f"{path}: not a Parquet file")
            return pd.read_parquet(path)
    except InputDataError:
        raise
    except Exception as e:  # pandas and pyarrow raise many kinds
        raise InputDataError(f"{path}: cannot read the score file ({e})") from e
    raise InputDataError(
        f"{path}: a score file must be .csv or .parquet, got {suffix or 'no suffix'!r}"
    )


def _as_text(values: pd.Series) -> np.ndarray:
    return values.astype(object).to_numpy()


def _parse_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Numbers and a mask of empty cells (empty text, None or NaN)."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        return numbers, np.isnan(numbers)
    text = values.astype("str").str.strip()
    empty = (text.isna() | (text == "")).to_numpy(dtype=bool)
    numbers = pd.to_numeric(text.where(~empty), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    lowered = text.str.lower().to_numpy(dtype=object, na_value="")
    empty = empty | np.isin(lowered, ("nan", "na", "null", "none"))
    return numbers, empty


def _listed(kind: list[str]) -> list[str]:
    if len(kind) <= MAX_LISTED:
        return kind
    return [*kind[:MAX_LISTED], f"... and {len(kind) - MAX_LISTED} more like these"]


def validate_scores(
    raw: pd.DataFrame, households: pd.Index, origin: str | Path
) -> pd.Series:
    """Check a score file's rows against the view's households.

    Parameters
    ----------
    raw : DataFrame
        The file's rows (:func:`read_score_file`).
    households : pandas.Index
        The view's ``spine_household_id`` values.
    origin : str or Path
        The file, named in errors.

    Returns
    -------
    Series of float
        The scores, indexed like ``households``.

    Raises
    ------
    InputDataError
        Naming the file, and each bad row (1-based data row) and its problem:
        missing columns, ids that are not integers or not spine households of the
        view, repeated ids, missing or non-numeric or infinite scores, and view
        households with no score.
    """
    missing = [c for c in SCORE_COLUMNS if c not in raw.columns]
    if missing:
        raise InputDataError(
            f"{origin}: missing column(s) {', '.join(missing)}; a score file has "
            f"columns {' and '.join(SCORE_COLUMNS)}, one row per spine household "
            f"(found columns: {', '.join(map(str, raw.columns)) or 'none'})"
        )
    rows = np.arange(1, len(raw) + 1)
    ids_raw, scores_raw = raw[INDEX], raw["score"]
    ids, id_empty = _parse_numbers(ids_raw)
    scores, score_empty = _parse_numbers(scores_raw)
    id_text, score_text = _as_text(ids_raw), _as_text(scores_raw)
    problems: list[str] = []

    bad = id_empty
    problems += _listed([f"row {r}: {INDEX} is missing" for r in rows[bad]])
    not_int = ~id_empty & (np.isnan(ids) | ~np.isfinite(ids) | (ids != np.round(ids)))
    problems += _listed(
        [
            f"row {r}: {INDEX} {v!r} is not an integer"
            for r, v in zip(rows[not_int], id_text[not_int], strict=True)
        ]
    )
    ok_id = ~id_empty & ~not_int
    int_ids = np.where(ok_id, np.nan_to_num(ids), -1).astype(np.int64)
    series = pd.Series(int_ids)
    dup = ok_id & series.duplicated(keep="first").to_numpy()
    if dup.any():
        first_row = (
            pd.Series(rows[ok_id], index=int_ids[ok_id]).groupby(level=0).first()
        )
        problems += _listed(
            [
                f"row {r}: {INDEX} {i} is repeated (first at row {first_row[i]})"
                for r, i in zip(rows[dup], int_ids[dup], strict=True)
            ]
        )
    known = households.get_indexer(int_ids) >= 0
    unknown = ok_id & ~known
    problems += _listed(
        [
            f"row {r}: {INDEX} {i} is not a spine household of the view"
            for r, i in zip(rows[unknown], int_ids[unknown], strict=True)
        ]
    )
    problems += _listed([f"row {r}: score is missing" for r in rows[score_empty]])
    not_num = ~score_empty & np.isnan(scores)
    problems += _listed(
        [
            f"row {r}: score {v!r} is not a number"
            for r, v in zip(rows[not_num], score_text[not_num], strict=True)
        ]
    )
    infinite = np.isinf(scores)
    problems += _listed(
        [
            f"row {r}: score {v!r} is not finite"
            for r, v in zip(rows[infinite], score_text[infinite], strict=True)
        ]
    )
    absent = ~households.isin(int_ids[ok_id])
    if absent.any():
        few = ", ".join(str(h) for h in households[absent][:5])
        problems.append(
            f"{int(absent.sum())} spine household(s) of the view have no row, e.g. "
            f"{few}{', ...' if absent.sum() > 5 else ''}"
        )
    if problems:
        raise InputDataError(
            f"{origin}: the score file is not valid:\n  " + "\n  ".join(problems)
        )
    return pd.Series(scores, index=pd.Index(int_ids, name=INDEX)).reindex(households)


class ScoreFileModel(ModelBase):
    """Scores from a file a vendor (or anyone) wrote: nothing to fit.

    Parameters
    ----------
    path : str
        A CSV or Parquet file with ``spine_household_id`` and ``score`` (other
        columns are ignored), one row per spine household of the view scored.
    """

    row_wise: ClassVar[bool] = False
    """The file must name every household of the view scored: the whole view."""

    def __init__(self, *, path: str):
        self.path = path

    def score(self, view: pd.DataFrame) -> pd.Series:
        """The file's scores, in the view's order, after every check."""
        check_view(view, "score file model")
        raw = read_score_file(self.path)
        scores = validate_scores(raw, view.index, self.path)
        return pd.Series(scores.to_numpy(), index=view.index, name="score")


# -------------------------------------------------------------------------- skops


def check_skops(path: Path, trusted: tuple[str, ...] = ()) -> list[str]:
    """Check a skops file without loading it; return the types it needs trusted.

    Reads only the file's head and skops' schema (nothing is unpickled or built).

    Raises
    ------
    InputDataError
        If the file is missing, a pickle, not a skops file, or holds types not
        trusted.
    """
    import skops.io as sio

    head = _head(path)
    _refuse_pickle(path, head)
    if not head.startswith(_ZIP_MAGIC):
        raise InputDataError(
            f"{path}: not a skops file (skops files are zip archives); linkaudit "
            "loads models only from skops files, never pickles"
        )
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as e:
        raise InputDataError(f"{path}: cannot read as a skops file ({e})") from e
    refused = [t for t in untrusted if t not in trusted]
    if refused:
        raise InputDataError(
            f"{path}: refusing to load: the file holds type(s) skops does not trust: "
            f"{', '.join(refused)}. If you made the file yourself or have reviewed "
            "these types, list them under the model's 'trusted'"
        )
    return list(untrusted)


def load_skops(path: str | Path, trusted: tuple[str, ...] = ()) -> Any:
    """Load a fitted scikit-learn model from a skops file, refusing untrusted types.

    Parameters
    ----------
    path : str or Path
        A file written by ``skops.io.dump``.
    trusted : tuple of str
        Types to trust beyond skops' defaults (as ``get_untrusted_types`` names
        them).

    Raises
    ------
    InputDataError
        If the file is a pickle, not a skops file, or holds types not trusted.
    """
    import skops.io as sio

    path = Path(path)
    untrusted = check_skops(path, trusted)
    try:
        return sio.load(path, trusted=list(untrusted))
    except Exception as e:
        raise InputDataError(f"{path}: cannot load the skops file ({e})") from e


class SkopsModel(ModelBase):
    """A fitted scikit-learn classifier from a skops file, applied to the view.

    The classifier must have been fitted on a DataFrame whose columns are view
    columns (its ``feature_names_in_``); it is wrapped in
    ``sklearn.frozen.FrozenEstimator`` so nothing refits it.

    Parameters
    ----------
    path : str
        The ``.skops`` file.
    trusted : tuple of str
        Types to trust beyond skops' defaults.

    Attributes
    ----------
    estimator_ : sklearn.frozen.FrozenEstimator
        The loaded classifier (set by ``fit``; ``score`` loads it if needed).
    """

    def __init__(self, *, path: str, trusted: tuple[str, ...] = ()):
        self.path = path
        self.trusted = trusted

    def _load(self) -> Any:
        from sklearn.frozen import FrozenEstimator

        est = load_skops(self.path, tuple(self.trusted))
        if not hasattr(est, "predict_proba"):
            raise InputDataError(
                f"{self.path}: the model ({type(est).__name__}) has no predict_proba"
            )
        if not hasattr(est, "feature_names_in_"):
            raise InputDataError(
                f"{self.path}: the model was fitted without feature names; fit it on "
                "a DataFrame whose columns are view columns (see docs/models.md)"
            )
        return FrozenEstimator(est)

    def fit(self, view: pd.DataFrame, labels: pd.Series | None = None) -> SkopsModel:
        """Load the model (it is already fitted; nothing is learned)."""
        check_view(view, "skops model")
        self.estimator_ = self._load()
        return self

    def _frame(self, est: Any, view: pd.DataFrame) -> pd.DataFrame:
        names = [str(c) for c in est.feature_names_in_]
        missing = [c for c in names if c not in view.columns]
        if missing:
            raise InputDataError(
                f"{self.path}: the model was fitted on feature(s) the view does not "
                f"have: {', '.join(missing)}"
            )
        return numeric_features(view, names, "skops model")

    def score(self, view: pd.DataFrame) -> pd.Series:
        """The classifier's probability of the positive class."""
        check_view(view, "skops model")
        est = self.estimator_ if hasattr(self, "estimator_") else self._load()
        x = self._frame(est, view)
        return pd.Series(probability(est, x), index=view.index, name="score")

    def explain(self, view: pd.DataFrame) -> pd.DataFrame:
        """Log-odds contributions by occlusion, with the view's means as reference.

        See :func:`simulator.council.models.learned.occlusion_contributions`.
        """
        check_view(view, "skops model")
        est = self.estimator_ if hasattr(self, "estimator_") else self._load()
        x = self._frame(est, view)
        return occlusion_contributions(
            lambda f: probability(est, f), x, x.to_numpy().mean(axis=0)
        )


# ------------------------------------------------------------ checks, no loading


def find_module_file(module: str, search_path: str | Path | None) -> Path | None:
    """Where ``module`` would be imported from, found without running any code.

    Looks on ``sys.path`` and then in ``search_path``, as
    :func:`~simulator.council.models.base.import_object` does, walking the dotted
    name one package at a time (``importlib.util.find_spec`` would import the
    parent packages). None if not found.
    """
    from importlib.machinery import PathFinder

    paths = [*sys.path, *([] if search_path is None else [str(search_path)])]
    spec = None
    for part in module.split("."):
        name = part if spec is None else f"{spec.name}.{part}"
        spec = PathFinder.find_spec(name, paths)
        if spec is None:
            return None
        paths = list(spec.submodule_search_locations or [])
    return Path(spec.origin) if spec and spec.origin else None


def external_inputs(config: Any, base_dir: str | Path | None) -> list[Path]:
    """The files an external model section names (score, skops or plug-in file)."""
    from simulator.council.models.base import resolve_model_path
    from simulator.schema.model import ExternalConfig

    if not isinstance(config, ExternalConfig):
        return []
    if config.plugin:
        found = find_module_file(config.plugin.partition(":")[0], base_dir)
        return [] if found is None else [found]
    return [resolve_model_path(config.scores or config.skops or "", base_dir)]


def check_external(config: Any, base_dir: str | Path | None) -> None:
    """Check that what a model section names exists and opens safely.

    A learned model's estimator module must be found; a score file is read (CSV or
    Parquet only, never a pickle) and must have the score columns; a skops file's
    types are checked without loading it; a plug-in's module must be found (it is
    not imported: importing runs its code, which ``run`` does, not ``validate``).

    Raises
    ------
    InputDataError, ModelError
        Naming the file or import path and what is wrong.
    """
    from simulator.council.models.base import resolve_model_path
    from simulator.schema.model import ESTIMATORS, ExternalConfig, LearnedConfig

    if isinstance(config, LearnedConfig):
        path = ESTIMATORS.get(config.estimator, config.estimator)
        module = path.partition(":")[0]
        if module not in sys.modules and find_module_file(module, None) is None:
            raise ModelError(
                f"model.estimator {config.estimator!r}: module {module} is not found; "
                "check the spelling, or install the package"
            )
        return
    if not isinstance(config, ExternalConfig):
        return
    if config.plugin:
        module = config.plugin.partition(":")[0]
        if module not in sys.modules and find_module_file(module, base_dir) is None:
            raise ModelError(
                f"model.plugin {config.plugin!r}: module {module} is not found on "
                f"the Python path nor beside the scenario ({base_dir}); install it "
                "or put it beside the scenario file"
            )
        return
    if config.scores:
        path = resolve_model_path(config.scores, base_dir)
        raw = read_score_file(path)
        missing = [c for c in SCORE_COLUMNS if c not in raw.columns]
        if missing:
            raise InputDataError(
                f"{path}: missing column(s) {', '.join(missing)}; a score file has "
                f"columns {' and '.join(SCORE_COLUMNS)}"
            )
        return
    check_skops(resolve_model_path(config.skops or "", base_dir), config.trusted)


__all__ = [
    "PluginModel",
    "check_external",
    "check_skops",
    "external_inputs",
    "find_module_file",
    "ScoreFileModel",
    "SkopsModel",
    "load_skops",
    "read_score_file",
    "validate_scores",
]
