"""Failures of a command as one ``linkaudit:`` line each, and interrupts that unwind.

SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` (a ``KeyboardInterrupt``), so
every ``with`` block unwinds: the output being written is removed
(:mod:`simulator.output_dirs`) and the command says so. Further signals are ignored
while it unwinds. Every other failure is one line naming the path and what to do;
the traceback only with ``-v``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from simulator.errors import LinkauditError, ScenarioError

EXIT_INVALID = 2
"""The exit code of an invalid scenario (or command line)."""
EXIT_SIGNAL_BASE = 128
"""An interrupted command exits 128 + the signal's number, as shells do."""
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """A signal (SIGINT, SIGTERM, SIGHUP) stopped the command; outputs unwind."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_held: list[int] | None = None
"""Signals received inside :func:`interrupts_held` (None: outside one)."""


def _raise_interrupted(signum: int, frame: object) -> None:
    """Stop the command; further signals are ignored while its output unwinds."""
    if _held is not None:
        _held.append(signum)
        return
    for sig in HANDLED_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """An interrupt received in this block stops the command when the block ends.

    For steps that must not stop halfway, such as starting a worker process: the
    signal handler runs in the main thread whichever thread the signal reached, so
    blocking signals in this thread alone would not hold it back.
    """
    global _held
    if _held is not None:  # already held by an enclosing block
        yield
        return
    _held = []
    try:
        yield
    finally:
        received, _held = _held, None
    if received:
        _raise_interrupted(received[0], None)


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {sig: signal.getsignal(sig) for sig in HANDLED_SIGNALS}
    for sig in HANDLED_SIGNALS:
        signal.signal(sig, _raise_interrupted)
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _error(message: str) -> None:
    print(f"linkaudit: {message}", file=sys.stderr)  # noqa: T201


def _interrupted(signum: int) -> int:
    from simulator.output_dirs import removed_partials

    name = signal.Signals(signum).name
    removed = "; ".join(f"removed the partial output {p}" for p in removed_partials)
    _error(f"interrupted by {name}; {removed or 'nothing was written'}")
    return EXIT_SIGNAL_BASE + signum


def run_command(
    command: Callable[[Any], int], args: Any, *, verbose: bool = False
) -> int:
    """Run ``command(args)``; every failure becomes one ``linkaudit:`` line.

    Returns the exit code: the command's, 2 for an invalid scenario (its problems
    one per line), 128 + the signal's number after an interrupt, 1 for any other
    failure (with ``verbose``, the traceback is printed before the line).
    """
    try:
        with _signals_interrupt():
            return command(args)
    except ScenarioError as e:
        for line in e.problems:
            print(line, file=sys.stderr)  # noqa: T201
        return EXIT_INVALID
    except LinkauditError as e:
        _error(str(e))
        return 1
    except BrokenPipeError:
        # The reader went away (e.g. `linkaudit schema | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt as e:
        return _interrupted(e.signum if isinstance(e, Interrupted) else signal.SIGINT)
    except OSError as e:
        if verbose:
            traceback.print_exc()
        where = e.filename or "linkaudit"
        _error(f"{where}: {e.strerror or e}; check the path and try again")
        return 1
    except Exception as e:  # the last resort: one line, the traceback with -v
        if verbose:
            traceback.print_exc()
        first = (str(e).splitlines() or [""])[0]
        _error(
            f"unexpected error ({type(e).__name__}: {first}); rerun with -v for the "
            "traceback and report it"
        )
        return 1
