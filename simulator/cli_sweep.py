"""The command-line side of ``linkaudit sweep``: what is typed in, what is printed.

The pipeline (:mod:`simulator.pipeline.sweep`) takes parameters as
:class:`~simulator.pipeline.sweep.Vary` values and metric names as strings; what the
user typed (``--vary PATH=V1,V2,...``, ``--metric``) is parsed and checked here, with
messages that name the argument, and :func:`text_table` is the table printed.
"""

from __future__ import annotations

import pandas as pd
import yaml

from audits.headline import MOST_DEPRIVED
from simulator.errors import ScenarioError
from simulator.pipeline.sweep import (
    METRICS,
    Vary,
    param_columns,
    summarise,
    value_order,
)
from simulator.schema.yaml_loader import load_yaml, yaml_problem
from simulator.vocabulary import DEPRIVATION

_OPENERS, _CLOSERS = "[{(", "]})"


def _split_top_level(raw: str) -> list[str]:
    """Split at commas outside brackets, braces and quotes (YAML flow values)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(raw):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(raw[start:i])
            start = i + 1
    parts.append(raw[start:])
    return parts


def parse_vary(text: str) -> Vary:
    """Parse ``path.to.field=V1,V2,...`` into a path and YAML-parsed values.

    Values are split at commas outside brackets and quotes, so a value may be a YAML
    list or mapping: ``model.flag={budget: 500},{top_percent: 5}``.

    Parameters
    ----------
    text : str
        The argument of ``--vary``.

    Returns
    -------
    Vary
        ``(path, values)``.

    Raises
    ------
    ScenarioError
        Naming the argument: no ``=``, an empty field name, an empty or repeated
        value, a value that is not YAML, fewer than two values, or ``seed`` (use
        replicates).

    Examples
    --------
    >>> parse_vary("agencies.police.errors.name_typo=0,0.02,0.05")
    Vary(path='agencies.police.errors.name_typo', values=(0, 0.02, 0.05))
    """
    where = f"--vary {text}"
    if "=" not in text:
        raise ScenarioError(
            [f"{where}: expected path.to.field=V1,V2,..., found no '='"]
        )
    path, raw = (s.strip() for s in text.split("=", 1))
    keys = path.split(".")
    if not all(keys):
        raise ScenarioError([f"{where}: empty field name in {path!r}"])
    if path == "seed":
        raise ScenarioError(
            [f"{where}: the seed is varied by --replicates, not by --vary"]
        )
    pieces = [p.strip() for p in _split_top_level(raw)]
    if any(not p for p in pieces):
        raise ScenarioError(
            [f"{where}: empty value (values are separated by commas, e.g. 0,0.1,0.2)"]
        )
    values = []
    for piece in pieces:
        try:
            values.append(load_yaml(piece))
        except yaml.YAMLError as e:
            raise ScenarioError(
                [f"{where}: value {piece!r} is not valid YAML ({yaml_problem(e)})"]
            ) from e
    if len(values) < 2:
        raise ScenarioError(
            [f"{where}: give at least two values to compare, e.g. {path}=0,0.1"]
        )
    repeated = [p for i, p in enumerate(pieces) if values.index(values[i]) != i]
    if repeated:
        raise ScenarioError([f"{where}: value {repeated[0]!r} is given twice"])
    return Vary(path, tuple(values))


def check_metric(metric: str) -> str:
    """Return ``metric`` as typed after ``--metric`` if a sweep has it.

    Raises
    ------
    ScenarioError
        Listing the choices.
    """
    if metric not in METRICS:
        raise ScenarioError(
            [f"sweep: --metric must be one of {', '.join(METRICS)}, got {metric!r}"]
        )
    return metric


def text_table(
    table: pd.DataFrame, metric: str, summary: pd.DataFrame | None = None
) -> str:
    """A small text table: the pooled metric by point (rows) and group (columns).

    With a deprivation group column, a last column gives the pooled ratio of the
    most deprived group to the reference group (the ratio of the two columns beside
    it, :func:`simulator.pipeline.sweep.summarise`), or says why it is undefined; a
    note under the table says so, and counts replicates whose own ratio is
    undefined. ``summary`` is ``summarise(table, metric)`` if the caller has it.
    """
    if summary is None:
        summary = summarise(table, metric)
    params = param_columns(table)
    wide = summary.pivot_table(
        index=params, columns="value", values="estimate", sort=False, dropna=False
    )
    group = str(table["group"].iloc[0])
    wide.columns = [str(c) for c in wide.columns]
    wide = wide[value_order(list(wide.columns), group)]
    digits = 1 if metric == "wrongly_flagged_per_10k" else 4
    wide = wide.round(digits)
    notes = []
    if group in DEPRIVATION:
        most = summary[summary["value"] == MOST_DEPRIVED].set_index(params)
        most = most.reindex(wide.index)
        ref = most["reference"].dropna().unique()
        name = f"{MOST_DEPRIVED} vs {'/'.join(ref)}" if len(ref) == 1 else "ratio"
        ratio = most["ratio"].round(digits)
        wide[name] = (
            ratio.astype(object)
            .where(ratio.notna(), most["ratio_note"].replace("", "undefined"))
            .to_numpy()
        )
        notes.append(
            f"{name}: the ratio of the pooled rates ({MOST_DEPRIVED} / reference; "
            "counts summed over replicates)"
        )
        undefined = int(most["ratio_undefined"].fillna(0).sum())
        if undefined:
            notes.append(
                f"{undefined} replicate(s) had no defined ratio of their own "
                "(reference rate 0); their counts are included in the pooled rates"
            )
    return "\n".join(
        [wide.to_string(), *notes, *_spread_table(summary, params, group, digits)]
    )


def _spread_table(
    summary: pd.DataFrame, params: list[str], group: str, digits: int
) -> list[str]:
    """Each point's band, per group and for the deprivation ratio.

    The bootstrap interval with one replicate, the smallest to largest replicate
    with more (:func:`simulator.pipeline.sweep.summarise`): the chart's bands, as
    text.
    """
    reps = int(summary["replicates"].max()) if len(summary) else 0

    def band(low: pd.Series, high: pd.Series) -> pd.Series:
        text = low.round(digits).astype(str) + " to " + high.round(digits).astype(str)
        return text.where(low.notna() & high.notna(), "n/a")

    shown = summary.assign(band=band(summary["low"], summary["high"]))
    wide = shown.pivot(index=params, columns="value", values="band")
    wide.columns = [str(c) for c in wide.columns]
    wide = wide[value_order(list(wide.columns), group)]
    if group in DEPRIVATION:
        most = shown[shown["value"] == MOST_DEPRIVED].set_index(params)
        wide["ratio"] = band(most["ratio_low"], most["ratio_high"]).reindex(wide.index)
    what = (
        "95% bootstrap interval"
        if reps <= 1
        else f"smallest to largest of {reps} replicates"
    )
    return ["", f"at every point, {what}:", wide.to_string()]
