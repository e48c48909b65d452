"""``--memory-limit``: its default, and its text (a share of RAM or a size) as bytes.

Apart from :mod:`simulator.pipeline.estimate`, which enforces it, so that the command
line's parser can check the option without importing the scenario's libraries: a
command's workers start (:func:`simulator.pipeline.parallel.start_workers`) only
once its arguments are parsed.
"""

from __future__ import annotations

DEFAULT_MEMORY_LIMIT = "80%"
"""The default ``--memory-limit``: 80% of the machine's RAM (the rest for the OS)."""

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1 << 10,
    "kb": 1000,
    "kib": 1 << 10,
    "m": 1 << 20,
    "mb": 1000**2,
    "mib": 1 << 20,
    "g": 1 << 30,
    "gb": 1000**3,
    "gib": 1 << 30,
    "t": 1 << 40,
    "tb": 1000**4,
    "tib": 1 << 40,
}


def memory_limit_bytes(text: str, total: int | None = None) -> int | None:
    """The memory a run may use: a share of RAM (``80%``) or a size (``16GiB``).

    ``0`` or ``none`` means no limit (``None``).

    Examples
    --------
    >>> memory_limit_bytes("50%", total=8 << 30) == 4 << 30
    True
    >>> memory_limit_bytes("1.5GiB"), memory_limit_bytes("none")
    (1610612736, None)

    Raises
    ------
    ValueError
        If ``text`` is neither.
    """
    from simulator.pipeline.timings import total_memory_bytes

    t = text.strip().lower().replace(" ", "")
    if t in ("0", "none"):
        return None
    if t.endswith("%"):
        share = float(t[:-1])
        if not 0 < share <= 100:
            raise ValueError(f"{text!r}: a share of RAM is above 0% and at most 100%")
        return int(share / 100 * (total or total_memory_bytes()))
    number = t.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = t[len(number) :]
    if unit not in _UNITS or not number:
        raise ValueError(
            f"{text!r}: give a share of RAM (80%) or a size (16GiB, 500MB), or 0"
        )
    return int(float(number) * _UNITS[unit])
