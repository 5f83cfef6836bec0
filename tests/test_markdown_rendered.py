"""The comment as a reviewer reads it: rendered by a CommonMark renderer with GitHub's extensions
(tables, strikethrough, links), compared as the text a reader sees."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from reconciler import markdown_results
from reconciler.cli import main
from reconciler.errors import Location, Problem
from tests.mediafiles import write_jpeg

CONFIG = """\
pins: pins/
state: pinops.state.json
accounts:
  main:
    provider: sandbox
    boards: ["Chef's <Picks> | #1"]
"""

TITLE = "Chef's Knife #1 | <script>alert(1)</script> @chef"
DESCRIPTION = "Care: see [guide](https://evil.example) *now* ~~old~~ `x` & &amp; @team #12 \\o/"
LINK = "https://example.com/knives_2024?a=1&b=2#care"
PINS = f"""\
pins:
  - id: knife
    board: "Chef's <Picks> | #1"
    title: {json.dumps(TITLE)}
    description: {json.dumps(DESCRIPTION)}
    link: {LINK}
    dominant_color: "#C8553D"
    alt_text: "A knife's edge, <b>sharp</b>"
    image: media/knife.jpg
"""


class _Reader(HTMLParser):
    """What a browser shows: the text, and the tags and links it makes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []
        self.links: list[str] = []
        self.unlinked: list[str] = []  # text GitHub would scan for mentions and issue numbers
        self._inside: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        if tag not in ("br", "img", "hr"):
            self._inside.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._inside:
            del self._inside[len(self._inside) - 1 - self._inside[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if not {"a", "code"} & set(self._inside):
            self.unlinked.append(data)


def read(text: str) -> _Reader:
    reader = _Reader()
    reader.feed(MarkdownIt("gfm-like").render(text))
    reader.close()
    return reader


def seen(reader: _Reader) -> str:
    """The text as it reads: zero-width spaces are invisible."""
    return re.sub(r"\s+", " ", "".join(reader.text).replace("\u200b", ""))


def test_comment_reads_as_written_and_formats_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "content"
    (root / "pins/media").mkdir(parents=True)
    (root / "pinops.yaml").write_text(CONFIG, encoding="utf-8")
    (root / "pins/food.yaml").write_text(PINS, encoding="utf-8")
    write_jpeg(root / "pins/media/knife.jpg", 1000, 1500)
    capsys.readouterr()
    assert main(["-C", str(root), "plan", "--format", "markdown"]) == 0
    reader = read(capsys.readouterr().out)
    text = seen(reader)
    assert f"on Chef's <Picks> | #1: {TITLE}" in text
    assert f"| title | {TITLE} 69/100 |" not in text  # a table, not a line of pipes
    for value in (TITLE, DESCRIPTION, LINK, "#C8553D", "A knife's edge, <b>sharp</b>"):
        assert value in text, value
    assert "&#" not in text and "&amp;amp;" not in text
    # Nothing from the manifest became markup: the only tags are the comment's own.
    assert set(reader.tags) <= {"h2", "h3", "p", "strong", "details", "summary", "code", "b"} | {
        "table", "thead", "tbody", "tr", "th", "td", "sub", "br", "a", "img"
    }  # fmt: skip
    assert "script" not in reader.tags and "s" not in reader.tags and "em" not in reader.tags
    # Web addresses link to themselves as written, fragment and all; no text hides a link.
    assert reader.links == ["https://evil.example", LINK]
    # No one is mentioned and no issue linked: GitHub would see "@\u200bchef" and "#\u200b12".
    unlinked = "".join(reader.unlinked)
    assert not re.search(r"@\w|#\d", unlinked)
    assert "@\u200bchef" in unlinked and "#\u200b12" in unlinked


def test_problems_read_as_written() -> None:
    problem = Problem(
        Location("pins/it's #1.yaml", 3, 5), "title 'Chef's | <i>Knife</i>' @chef", "see #12"
    )
    reader = read(markdown_results.problems([problem]))
    assert "pins/it's #1.yaml:3:5 error: title 'Chef's | <i>Knife</i>' @chef (see #12)" in seen(
        reader
    )
    assert "i" not in reader.tags
