"""The command line behaves as users expect: options anywhere, versions, help."""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path

import pytest

from simulator.cli import COMMANDS, _libraries_loading, main
from simulator.cli_parser import build_parser
from simulator.schema.scenario import Scenario


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """Every subcommand's parser, by name."""
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


@pytest.mark.parametrize(
    "argv",
    [
        ["-v", "run", "s.yaml"],
        ["run", "-v", "s.yaml"],
        ["run", "s.yaml", "-v"],
        ["run", "s.yaml", "--verbose", "-q"],
        ["-q", "-v", "run", "s.yaml"],
    ],
)
def test_global_options_are_accepted_before_or_after_the_subcommand(argv):
    args = build_parser().parse_args(argv)
    assert args.verbose is True
    assert args.quiet is ("-q" in argv)


def test_a_global_option_before_the_subcommand_is_not_undone_after_it():
    args = build_parser().parse_args(["-v", "-q", "validate", "s.yaml"])
    assert (args.verbose, args.quiet) == (True, True)
    args = build_parser().parse_args(["validate", "s.yaml"])
    assert (args.verbose, args.quiet) == (False, False)


def test_version_is_the_installed_distributions(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"linkaudit {version('linkaudit')}"


def test_every_subcommand_has_a_description_and_a_function(capsys):
    parsers = subcommands()
    assert set(parsers) == set(COMMANDS)
    for name, parser in parsers.items():
        assert parser.description and len(parser.description) > 40, name
        with pytest.raises(SystemExit):
            main([name, "--help"])
        out = capsys.readouterr().out
        assert " ".join(parser.description.split()[:4]) in " ".join(out.split())
        assert "-v, --verbose" in out, name


FROZEN_AT_EXIT = textwrap.dedent(
    """
    import atexit, gc, sys
    freeze, freezes = gc.freeze, []
    gc.freeze = lambda: freezes.append(freeze())
    def report():  # registered first: the last handler
        print("frozen:", len(freezes), gc.get_freeze_count() > 0)
    atexit.register(report)
    from simulator.cli import main
    print("codes:", [main(["validate", sys.argv[1]]) for _ in range(2)])
    """
)


def test_the_collector_is_frozen_at_exit_once_however_often_main_runs(tmp_path):
    """Its last collections would walk every object the libraries made (0.4 s)."""
    missing = tmp_path / "missing.yaml"
    done = subprocess.run(
        [sys.executable, "-c", FROZEN_AT_EXIT, str(missing)],
        cwd=Path(__file__).resolve().parents[2],  # this tree's linkaudit
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == [
        "codes: [1, 1]",
        "frozen: 1 True",
    ]
    assert done.stderr.count(f"linkaudit: {missing}: no such file") == 2


def test_the_collector_is_off_while_libraries_load_and_as_it_was_after():
    was = gc.isenabled()
    try:
        for before in (True, False):
            (gc.enable if before else gc.disable)()
            with _libraries_loading():
                assert not gc.isenabled()
            assert gc.isenabled() is before
    finally:
        (gc.enable if was else gc.disable)()


def test_validate_lists_the_settings_that_differ_from_the_defaults(tmp_path, capsys):
    default = Scenario()
    path = tmp_path / "s.yaml"
    path.write_text(
        f"seed: 7\npopulation: {{n_households: 5000}}\n"
        f"linkage: {{method: {default.linkage.method}}}\n",
        encoding="utf-8",
    )
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    i = out.index("  2 setting(s) differ from the defaults:")
    assert out[i + 1 : -1] == [
        f"    seed: 7 (default {default.seed})",
        "    population.n_households: 5,000 (default "
        f"{default.population.n_households:,})",
    ]
    assert out[-1].startswith("  estimate on this machine: about ")
    path.write_text("{}\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    assert "  every setting has its default value" in capsys.readouterr().out
