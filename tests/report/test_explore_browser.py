"""The explorer page in headless Chromium: moving a slider shows that point's numbers.

The page holds every point's panel; its script shows the one the sliders point at.
Here a script moves the sliders as a user would (setting the value and sending the
``input`` event), then records which panel is visible and the figures it shows; they
must be the numbers precomputed for that point (:attr:`PointResult.numbers`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from audits.report.explore_page import band_text, estimate_text
from simulator.cli_sweep import parse_vary
from simulator.pipeline.explore import explore, explore_page
from simulator.schema.loading import apply_overrides, read_yaml
from tests.report.test_browser import MIN_FONT_PX, chromium, text_measures

CLASSROOM = Path(__file__).parents[2] / "scenarios" / "classroom.yaml"
VARIES = (
    "model.min_problems=2,3",
    "agencies.police.events.incident.background_rate=0.03,0.12,0.3",
)
BIG = ("selection_rate", "wrongly_flagged_per_10k", "fnr")
"""The headline figures of a panel, in the order shown."""
MOVE = """<script>
function move(id, value) {
  var a = document.getElementById(id);
  a.value = String(value);
  a.dispatchEvent(new Event("input", {bubbles: true}));
}
move("axis-0", %d);
move("axis-1", %d);
var shown = Array.prototype.filter.call(
  document.querySelectorAll("section[data-point]"),
  function (s) { return s.getClientRects().length > 0; });
document.body.setAttribute("data-visible",
  shown.map(function (s) { return s.getAttribute("data-point"); }).join(","));
document.body.setAttribute("data-figures", Array.prototype.map.call(
  shown[0].querySelectorAll("ul.big .figure, ul.big .ci"),
  function (e) { return e.textContent; }).join("|"));
document.body.setAttribute("data-output",
  document.getElementById("value-1").textContent);
</script>"""


@pytest.fixture(scope="module")
def exploration():
    data = apply_overrides(read_yaml(CLASSROOM), ["population.n_households=500"])
    return explore(data, [parse_vary(v) for v in VARIES], replicates=1)


@pytest.fixture(scope="module")
def page(exploration) -> str:
    return explore_page(exploration)


def _moved(page: str, first: int, second: int, tmp_path: Path) -> str:
    path = tmp_path / "moved.html"
    path.write_text(
        page.replace("</body>", MOVE % (first, second) + "</body>"), "utf-8"
    )
    return chromium(["--dump-dom", path.as_uri()], tmp_path / "profile").stdout.decode()


def _attribute(dom: str, name: str) -> str:
    return re.search(rf'{name}="([^"]*)"', dom).group(1)


@pytest.mark.parametrize(("first", "second"), [(1, 2), (0, 1)])
def test_moving_the_sliders_shows_that_points_numbers(
    exploration, page, tmp_path, first, second
):
    dom = _moved(page, first, second, tmp_path)
    point = first * 3 + second  # the first setting varies slowest
    assert _attribute(dom, "data-visible") == str(point)
    assert _attribute(dom, "data-shown-point") == str(point)
    assert _attribute(dom, "data-output") == ["0.03", "0.12", "0.3"][second]
    rates = exploration.results[point].numbers["overall"]["rates"]
    expected = []
    for m in BIG:
        expected += [estimate_text(m, rates[m]), f"({band_text(m, rates[m])})"]
    assert _attribute(dom, "data-figures").split("|") == expected
    others = [r.numbers["overall"]["rates"] for r in exploration.results]
    assert sum(o == rates for o in others) < len(others)  # the points differ


def test_the_embedded_data_are_the_points_numbers(exploration, page):
    blob = re.search(
        r'<script type="application/json" id="explore-data">(.*?)</script>', page, re.S
    ).group(1)
    data = json.loads(blob)
    assert [p["numbers"] for p in data["points"]] == [
        json.loads(json.dumps(r.numbers)) for r in exploration.results
    ]
    assert [a["path"] for a in data["axes"]] == [v.split("=")[0] for v in VARIES]


@pytest.mark.parametrize("width", [1024, 390])
def test_text_is_large_and_nothing_overflows(page, tmp_path, width):
    smallest, overflow = text_measures(page, width, tmp_path)
    assert smallest >= MIN_FONT_PX
    assert not overflow
