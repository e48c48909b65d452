"""Interrupts: a signal stops the command with 128 + its number, unless held."""

from __future__ import annotations

import os
import signal

import pytest

from simulator.failures import EXIT_SIGNAL_BASE, interrupts_held, run_command


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_held_interrupt_stops_the_command_when_the_block_ends(signum, capsys):
    steps: list[str] = []

    def command(_args: object) -> int:
        with interrupts_held():
            os.kill(os.getpid(), signum)
            steps.append("after the signal, inside the block")
        steps.append("after the block")  # never reached
        return 0

    assert run_command(command, None) == EXIT_SIGNAL_BASE + signum
    assert steps == ["after the signal, inside the block"]
    err = capsys.readouterr().err
    assert err.startswith(f"linkaudit: interrupted by {signal.Signals(signum).name}")


def test_an_interrupt_outside_a_held_block_stops_at_once():
    steps: list[str] = []

    def command(_args: object) -> int:
        with interrupts_held():
            steps.append("held block done")
        os.kill(os.getpid(), signal.SIGTERM)
        steps.append("after the signal")  # never reached
        return 0

    assert run_command(command, None) == EXIT_SIGNAL_BASE + signal.SIGTERM
    assert steps == ["held block done"]


def test_nested_blocks_hold_until_the_outermost_ends():
    steps: list[str] = []

    def command(_args: object) -> int:
        with interrupts_held():
            with interrupts_held():
                os.kill(os.getpid(), signal.SIGTERM)
            steps.append("outer block goes on")
        steps.append("after the blocks")  # never reached
        return 0

    assert run_command(command, None) == EXIT_SIGNAL_BASE + signal.SIGTERM
    assert steps == ["outer block goes on"]
