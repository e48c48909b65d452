"""The HTML shell: inline CSS, no JavaScript, no external URL; and small builders.

Text is escaped where it enters the page: every builder escapes plain ``str``
arguments, and only :class:`Html` (markup built here) passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from audits.report.text import esc


class Html(str):
    """Markup that is already safe to insert (built by this module's helpers)."""

    __slots__ = ()


def html(value: object) -> Html:
    """``value`` as markup: :class:`Html` unchanged, anything else escaped.

    Examples
    --------
    >>> html("<b>"), html(Html("<b>"))
    ('&lt;b&gt;', '<b>')
    """
    return value if isinstance(value, Html) else Html(esc(value))


def join(parts: Iterable[object], sep: str = "\n") -> Html:
    """Concatenate pieces of markup (plain strings are escaped)."""
    return Html(sep.join(html(p) for p in parts))


def tag(name: str, content: object = "", **attrs: object) -> Html:
    """``<name attrs>content</name>``; attribute values and plain content escaped.

    A trailing underscore in an attribute name is dropped (``class_``).

    Examples
    --------
    >>> tag("p", "a < b", class_="note")
    '<p class="note">a &lt; b</p>'
    """
    attributes = "".join(
        f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"'
        for k, v in attrs.items()
        if v is not None
    )
    return Html(f"<{name}{attributes}>{html(content)}</{name}>")


def p(*parts: object, class_: str | None = None) -> Html:
    """A paragraph of pieces joined by spaces."""
    return tag("p", join(parts, " "), class_=class_)


def ul(items: Iterable[object], class_: str | None = None) -> Html:
    """A bulleted list."""
    return tag("ul", join(tag("li", i) for i in items), class_=class_)


def table(
    headers: Sequence[object],
    rows: Iterable[Sequence[object]],
    *,
    numeric: Iterable[int] = (),
    caption: object | None = None,
    class_: str | None = None,
    row_classes: Sequence[str | None] | None = None,
) -> Html:
    """A table; ``numeric`` columns are right-aligned.

    Examples
    --------
    >>> table(["a", "n"], [["x", "1,000"]], numeric=[1])  # doctest: +ELLIPSIS
    '<div class="table-wrap"><table><thead><tr><th>a</th><th class="num">n</th>...'
    """
    right = set(numeric)

    def cells(row: Sequence[object], cell: str) -> Html:
        return join(
            (
                tag(cell, value, class_="num" if i in right else None)
                for i, value in enumerate(row)
            ),
            "",
        )

    head = tag("thead", tag("tr", cells(headers, "th")))
    body_rows = [
        tag(
            "tr",
            cells(r, "td"),
            class_=row_classes[i] if row_classes is not None else None,
        )
        for i, r in enumerate(rows)
    ]
    cap = tag("caption", caption) if caption is not None else Html("")
    return tag(
        "div",
        tag("table", join([cap, head, tag("tbody", join(body_rows, ""))], "")),
        class_="table-wrap" if class_ is None else f"table-wrap {class_}",
    )


def figure(svg: str, what: object, read: object) -> Html:
    """A chart with its "what this shows" and "how to read it" sentences."""
    caption = join(
        [
            tag("span", "What this shows: ", class_="label"),
            what,
            Html(" "),
            tag("span", "How to read it: ", class_="label"),
            read,
        ],
        "",
    )
    return tag("figure", join([Html(svg), tag("figcaption", caption)]))


def top(title: str, subtitle: str) -> Html:
    """The page's header: its title and a one-sentence subtitle."""
    return tag(
        "header",
        join([tag("h1", title), tag("p", subtitle, class_="subtitle")]),
        class_="top",
    )


def note(*parts: object, kind: str = "note") -> Html:
    """A highlighted box (``kind``: note, synthetic, warning)."""
    return tag("div", join(parts), class_=f"box {kind}")


def contents(entries: Iterable[tuple[str, str]]) -> Html:
    """The table of contents: each (anchor, title) as a link, in order."""
    return tag(
        "nav",
        join(
            [
                tag("strong", "Contents"),
                tag(
                    "ol",
                    join(
                        tag("li", tag("a", title, href=f"#{anchor}"))
                        for anchor, title in entries
                    ),
                ),
            ]
        ),
        class_="toc",
    )


def section(anchor: str, title: str, *parts: object) -> Html:
    """A numbered-by-CSS section with an anchor for the table of contents."""
    return tag("section", join([tag("h2", title), *parts]), id=anchor)


CSS = """
:root { --ink: #1d1d1f; --muted: #555; --line: #d6d6d6; --accent: #0072B2;
  --ref: #009E73; --warn: #b3261e; --paper: #ffffff; --tint: #f5f7fa; }
* { box-sizing: border-box; }
html { font-size: 16px; }
body { margin: 0; color: var(--ink); background: #eef1f4;
  font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif;
  line-height: 1.55; }
main { max-width: 1040px; margin: 0 auto; padding: 1.5rem 2rem 3rem;
  background: var(--paper); }
header.top { border-bottom: 3px solid var(--accent); margin-bottom: 1rem; }
h1 { font-size: 1.9rem; line-height: 1.25; margin: 0.4rem 0 0.3rem; }
.subtitle { color: var(--muted); margin: 0 0 1rem; }
h2 { font-size: 1.45rem; margin: 2.6rem 0 0.6rem; padding-top: 0.6rem;
  border-top: 1px solid var(--line); }
h3 { font-size: 1.15rem; margin: 1.6rem 0 0.4rem; }
h4 { font-size: 1rem; margin: 1rem 0 0.3rem; }
p { margin: 0.5rem 0 0.8rem; }
.box { border-radius: 6px; padding: 0.8rem 1rem; margin: 1rem 0; }
.box p { margin: 0.3rem 0; }
.box.synthetic { background: #fff4d6; border: 2px solid #e0a800; font-size: 1.02rem; }
.box.note { background: var(--tint); border-left: 4px solid var(--accent); }
.box.warning { background: #fdecea; border-left: 4px solid var(--warn); }
.glance { display: grid; grid-template-columns: repeat(3, 1fr);
  gap: 0.8rem; margin: 1rem 0; }
.stat { background: var(--tint); border-radius: 6px; padding: 0.7rem 0.9rem; }
.stat .n { display: block; font-size: 1.6rem; font-weight: bold; }
.stat .what { color: var(--muted); font-size: 1rem; }
.stat.bad .n { color: var(--warn); }
nav.toc { background: var(--tint); border-radius: 6px; padding: 0.6rem 1rem;
  margin: 1rem 0; }
nav.toc ol { margin: 0.3rem 0; padding-left: 1.4rem; columns: 2; }
a { color: var(--accent); }
figure { margin: 1.2rem 0 1.6rem; }
svg.chart { display: block; width: 100%; height: auto; margin: 0 auto; }
figcaption { font-size: 1rem; color: #333; background: var(--tint);
  padding: 0.5rem 0.8rem; border-radius: 0 0 6px 6px; }
figcaption .label { font-weight: bold; }
.table-wrap { overflow-x: auto; margin: 0.6rem 0 1rem; }
table { border-collapse: collapse; font-size: 1rem; min-width: 50%; }
caption { text-align: left; font-weight: bold; padding: 0.3rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: 0.3rem 0.6rem;
  text-align: left; vertical-align: top; }
th { background: var(--tint); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
tr.reference td { background: #e6f4ee; }
tr.other td { background: #fdecea; }
tr.lost td { background: #efeaf8; }
tr.small td { color: var(--muted); font-style: italic; }
.ci { display: block; color: var(--muted); font-size: 1rem; }
p.small { font-size: 1rem; color: var(--muted); }
.records td { font-size: 1rem; }
.tag { white-space: nowrap; }
.case { border: 1px solid var(--line); border-radius: 8px; margin: 1.4rem 0;
  padding: 0.2rem 1.1rem 0.8rem; background: #fcfcfd; }
.case h3 { margin-top: 0.9rem; }
.case .explain { font-size: 1.02rem; background: var(--tint); padding: 0.6rem 0.8rem;
  border-radius: 6px; }
.tag { display: inline-block; font-size: 1rem; font-weight: bold;
  border-radius: 4px; padding: 0.05rem 0.4rem; margin-right: 0.3rem;
  vertical-align: middle; }
.tag.synthetic { background: #e0a800; color: #000; }
.tag.fp { background: var(--warn); color: #fff; }
.tag.fn { background: #5b3fa0; color: #fff; }
.tag.other { background: var(--warn); color: #fff; }
.tag.background { background: #E69F00; color: #000; }
.tag.lost { background: #5b3fa0; color: #fff; }
.card { display: grid; grid-template-columns: 1fr 1fr; gap: 0.2rem 1.4rem; }
.card dl { margin: 0.3rem 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 0.8rem;
  margin: 0.4rem 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
dl.glossary dt { font-weight: bold; margin-top: 0.7rem; }
dl.glossary dd { margin: 0.1rem 0 0 1.2rem; }
details { margin: 0.6rem 0 1rem; }
summary { cursor: pointer; color: var(--accent); }
footer { margin-top: 3rem; color: var(--muted); font-size: 1rem;
  border-top: 1px solid var(--line); padding-top: 0.6rem; }
@media (max-width: 700px) { main { padding: 1rem; } nav.toc ol { columns: 1; }
  .card { grid-template-columns: 1fr; } }
@media print { body { background: #fff; } main { max-width: none; } }
"""


def page(title: str, body: object) -> Html:
    """The whole document: doctype, head with inline CSS, and ``body``.

    Nothing is loaded from anywhere: no scripts, stylesheets, fonts or images
    outside the file.
    """
    return Html(
        "<!DOCTYPE html>\n"
        '<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="linkaudit">\n'
        f"<title>{esc(title)}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n<main>\n{html(body)}\n</main>\n"
        "</body>\n</html>\n"
    )
