"""Every docstring example in the simulator and audits packages runs as written."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import audits
import simulator

SKIP = {"simulator.cli"}
"""Modules whose examples need a terminal or files (none have examples now)."""


def modules_with_examples() -> list[str]:
    """Every module of both packages whose docstrings hold an example."""
    finder = doctest.DocTestFinder()
    names = []
    for package in (simulator, audits):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if info.name in SKIP:
                continue
            module = importlib.import_module(info.name)
            if any(t.examples for t in finder.find(module)):
                names.append(info.name)
    return sorted(names)


def test_the_packages_have_examples():
    assert len(modules_with_examples()) >= 10


@pytest.mark.parametrize("name", modules_with_examples())
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
        verbose=False,
    )
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of {result.attempted} failed"
