"""The report in a real headless browser (Chromium from Debian's packages).

``make test`` installs Chromium when it is missing; without it these tests fail
(they never skip), so a report that no browser has opened cannot pass.
"""

from __future__ import annotations

import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from audits.report.sections import SECTIONS

CHROMIUM = os.environ.get("LINKAUDIT_CHROMIUM", "/usr/bin/chromium")
"""The browser; ``make test`` installs Debian's ``chromium`` when it is missing."""
WIDTH, HEIGHT = 1280, 4000
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[bytes]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} not found: the report must be checked in a real browser. "
            "Run `make test` (it installs Debian's chromium as root), or "
            "`apt-get install -y --no-install-recommends chromium`, or set "
            "LINKAUDIT_CHROMIUM to a Chromium binary."
        )
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        timeout=180,
        check=True,
    )


class Dom(HTMLParser):
    """The headings, ids, element counts and external references of a DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.h2: list[str] = []
        self.ids: list[str] = []
        self.tags: dict[str, int] = {}
        self.external: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self._in_h2 = self._in_h2 or tag == "h2"
        for name, value in attrs:
            if name == "id" and value:
                self.ids.append(value)
            linked = name in ("src", "href", "xlink:href", "action", "poster")
            if linked and value and not value.startswith("#"):
                self.external.append(value)
        if tag == "h2":
            self.h2.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.h2[-1] += data


MEASURE = """<script>
const sizes = [];
for (const el of document.querySelectorAll("body *")) {
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (own && el.getClientRects().length) {
    sizes.push(parseFloat(getComputedStyle(el).fontSize));
  }
}
document.body.setAttribute("data-min-font", String(Math.min(...sizes)));
document.body.setAttribute("data-overflow",
  String(document.documentElement.scrollWidth > window.innerWidth));
</script>"""
"""Marks the smallest text size in px and whether the page overflows sideways."""
MIN_FONT_PX = 16.0
"""Smallest text size on a projected page (issue #12: at least 16 px)."""


def text_measures(page_html: str, width: int, tmp_path: Path) -> tuple[float, bool]:
    """The smallest text size (px) of ``page_html`` at ``width`` px; overflow."""
    page = tmp_path / "measure.html"
    page.write_text(page_html.replace("</body>", MEASURE + "</body>"), "utf-8")
    out = chromium(
        [f"--window-size={width},768", "--dump-dom", page.as_uri()],
        tmp_path / "profile",
    ).stdout.decode("utf-8")
    smallest = float(re.search(r'data-min-font="([\d.]+)"', out).group(1))
    return smallest, 'data-overflow="true"' in out


@pytest.fixture(scope="module")
def dom(report_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Dom:
    profile = tmp_path_factory.mktemp("chromium-dom")
    out = chromium(["--dump-dom", report_file.as_uri()], profile)
    parser = Dom()
    parser.feed(out.stdout.decode("utf-8"))
    return parser


@pytest.fixture(scope="module")
def screenshot(report_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    profile = tmp_path_factory.mktemp("chromium-shot")
    png = profile.parent / "report.png"
    chromium(
        [
            f"--screenshot={png}",
            f"--window-size={WIDTH},{HEIGHT}",
            report_file.as_uri(),
        ],
        profile,
    )
    return png


def test_the_browser_loads_every_section(dom, report_html):
    assert [h.strip() for h in dom.h2] == [s.title for s in SECTIONS]
    for s in SECTIONS:
        assert s.anchor in dom.ids
    assert dom.tags.get("svg", 0) == report_html.count("<svg ") >= 8
    assert dom.tags.get("figure", 0) == dom.tags["svg"]
    assert dom.tags.get("article", 0) >= 4  # case files
    assert dom.tags.get("script", 0) == 0 and dom.tags.get("img", 0) == 0


def test_nothing_is_fetched(dom, report_file):
    assert dom.external == []
    text = report_file.read_text(encoding="utf-8")
    assert not re.search(r"https?://", text)


def test_the_screenshot_shows_a_page(screenshot):
    from PIL import Image

    with Image.open(screenshot) as image:
        assert image.size == (WIDTH, HEIGHT)
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200  # text, charts, tints
    most = max(n for n, _ in colours)
    assert most < 0.8 * WIDTH * HEIGHT  # not one flat colour


def test_every_text_of_the_report_is_at_least_16_px(report_html, tmp_path):
    smallest, _ = text_measures(report_html, 1024, tmp_path)
    assert smallest >= MIN_FONT_PX
