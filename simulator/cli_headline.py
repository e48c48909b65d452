"""The audit's headline as console lines: counts, rates and the headline comparison.

The comparison (``summary["headline"]["comparison"]``, :mod:`audits.headline`) gives
both rates, their difference and their ratio, each with its interval; with replicate
worlds, the spread between them. An unstable ratio is printed last with the plain
reason it is not to be quoted, after the rates and their difference: a finding is
never dropped.
"""

from __future__ import annotations

from typing import Any

from audits.headline import question


def headline_lines(summary: dict) -> list[str]:
    """The audit summary's headline as console lines (``linkaudit run``, ``audit``)."""
    h = summary["headline"]

    def est(key: str) -> float | None:
        value = h.get(key)
        return value.get("estimate") if isinstance(value, dict) else value

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.1f}%"

    worlds = h.get("replicates", 1)
    if worlds > 1:  # counts are the first world's, rates pooled over every world
        per_10k = 10_000 * h["wrongly_flagged"] / h["families"]
        counted, pooled = f" (the first of {worlds} worlds)", f" (pooled over {worlds})"
    else:
        per_10k, counted, pooled = est("wrongly_flagged_per_10k"), "", ""
    lines = [
        f"audit (target: {h['target']}): {h['families']:,} families, "
        f"{h['families_in_target']:,} in the target group{counted}",
        f"  flagged {h['families_flagged']:,}; "
        f"wrongly flagged {h['wrongly_flagged']:,} "
        f"({'n/a' if per_10k is None else f'{per_10k:.0f}'} per 10,000 families); "
        f"missed {h['missed']:,}",
        f"  precision {pct(est('precision'))}, true positive rate {pct(est('tpr'))}, "
        f"false positive rate {pct(est('fpr'))}{pooled}",
    ]
    comparison = h.get("comparison")
    if comparison:
        lines += _comparison_lines(comparison)
    elif h.get("unavailable"):
        lines.append(f"  {question(h['spec'])}: not computed: {h['unavailable']}")
    return lines


def _comparison_lines(c: dict) -> list[str]:
    """The headline comparison: rates, difference and ratio, each with its interval.

    An unstable ratio is still printed (a finding is never dropped), after the
    rates and their difference and with the plain reason it is not to be quoted.
    """
    per_10k = c["metric"] == "wrongly_flagged_per_10k"  # a count, not a share
    scale, unit = (1, "per 10,000 families") if per_10k else (100, "percentage points")

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{scale * x:.1f}{'' if per_10k else '%'}"

    def points(x: float | None) -> str:
        return "n/a" if x is None else f"{scale * x:.1f}"

    def ci(lo: float | None, hi: float | None, fmt: Any) -> str:
        if lo is None or hi is None:
            return ""
        return f" ({100 * c['confidence']:.0f}% CI {fmt(lo)} to {fmt(hi)})"

    def times(x: float | None) -> str:
        return "undefined" if x is None else f"{x:.2f}x"

    g, ref = c["group_rate"], c["reference_rate"]
    worlds = c.get("replicates", 1)
    pooled = f", pooled over {worlds} worlds" if worlds > 1 else ""
    head = f"  {question(c)}{pooled}:"
    rates = (
        f"    {pct(g['estimate'])}{ci(g['ci_low'], g['ci_high'], pct)} against "
        f"{pct(ref['estimate'])}{ci(ref['ci_low'], ref['ci_high'], pct)}"
    )
    diff = (
        f"    difference {points(c['difference'])} {unit}"
        f"{ci(c['difference_ci_low'], c['difference_ci_high'], points)}"
    )
    if c["ratio_stable"]:
        ratio = [
            f"    ratio {times(c['ratio'])}"
            f"{ci(c['ratio_ci_low'], c['ratio_ci_high'], lambda x: f'{x:.2f}')}"
        ]
        lines = [head, *ratio, diff, rates]
    else:
        shown = "no ratio" if c["ratio"] is None else f"ratio {times(c['ratio'])}"
        ratio = [f"    {shown}, not to be quoted: {c['ratio_note']}"]
        lines = [head, rates, diff, *ratio]
    if worlds > 1:
        lines.append(_spread_line(c))
    return lines


def _spread_line(c: dict) -> str:
    """Each world's own difference and ratio: the spread between worlds."""
    diffs = [x for x in c["difference_per_replicate"] if x is not None]
    ratios = [x for x in c["ratio_per_replicate"] if x is not None]
    if not diffs:
        return "    between worlds: no world has both groups of its own"
    scale = 1 if c["metric"] == "wrongly_flagged_per_10k" else 100
    low, high = scale * min(diffs), scale * max(diffs)
    text = f"    between worlds: difference {low:.1f} to {high:.1f}"
    text += "" if scale == 1 else " points"
    if ratios:
        text += f", ratio {min(ratios):.2f}x to {max(ratios):.2f}x"
    undefined = len(c["ratio_per_replicate"]) - len(ratios)
    if undefined:
        text += f" ({undefined} world(s) with no ratio of their own)"
    return text
