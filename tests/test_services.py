"""Each posting service to the letter of its own Pinterest page: `pinops validate` on a repository
with one account per service reports each probe pin as that service's page says, and each limit
names where it comes from (tests/test_docs.py holds the documentation's tables to the code)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.providers import capabilities, table
from tests.mediafiles import write_gif, write_jpeg, write_mp4, write_webp

SERVICES = table.SERVICES
# Services whose pages list 1:1 among the ratios they take.
SQUARE = {"crosspostify", "zernio", "relayapi"}
# Services with no field for alt text: every probe carries alt text, and is warned of it.
NO_ALT_TEXT = {"crosspostify", "postproxy"}

DESCRIPTION = "Garlic pasta with basil and butter, ready in fifteen minutes."
PROBE = """\
id: {id}
account: {account}
board: Recipes
title: Garlic pasta
description: {description}
link: {link}
alt_text: A bowl of garlic pasta
{extra}
"""

# probe -> (manifest fields, service -> [(severity, part of the message)]); an empty list: the
# service reports nothing about the probe beyond the alt-text warning of NO_ALT_TEXT.
PROBES: dict[str, tuple[dict[str, str], Callable[[str], list[tuple[str, str]]]]] = {
    "description-500": (
        {"description": "Garlic pasta " + "x" * 487, "extra": "image: ../media/tall.jpg"},
        lambda _: [],
    ),
    "description-501": (
        {"description": "Garlic pasta " + "x" * 488, "extra": "image: ../media/tall.jpg"},
        lambda s: [("error", f"description is 501 characters; {_name(s)} takes at most 500")],
    ),
    "video-without-cover": ({"extra": "video: ../media/clip.mp4"}, lambda _: []),
    "square": (
        {"extra": "image: ../media/square.jpg"},
        lambda s: [] if s in SQUARE else [("warning", "1000×1000 pixels, far from the 2:3")],
    ),
    "narrow": (
        {"extra": "image: ../media/narrow.jpg"},
        lambda s: [("error", "needs at least 200 pixels of width")] if s == "crosspostify" else [],
    ),
    "webp": (
        {"extra": "image: ../media/tall.webp"},
        lambda s: [("error", "image is WebP")] if s in ("crosspostify", "relayapi") else [],
    ),
    "gif": (
        {"extra": "image: ../media/tall.gif"},
        lambda s: (
            [("error", "image is GIF")] if s in ("crosspostify", "relayapi", "postpeer") else []
        ),
    ),
    "shortened-link": (
        {"link": "https://bit.ly/3xYz", "extra": "image: ../media/tall.jpg"},
        lambda s: (
            [("error", "bit.ly, which Zernio refuses")]
            if s == "zernio"
            else [("warning", "goes through the URL shortener bit.ly")]
        ),
    ),
    "section": (
        {"extra": "image: ../media/tall.jpg\nsection: Weeknight"},
        lambda _: [("error", "has no field for section")],
    ),
    "dominant-color": (
        {"extra": "image: ../media/tall.jpg\ndominant_color: '#6E7874'"},
        lambda s: [] if s == "postpeer" else [("warning", "has no field for dominant_color")],
    ),
}


def _name(service: str) -> str:
    return capabilities(service).name


@pytest.fixture
def probes(tmp_path: Path) -> Path:
    root = tmp_path / "probes"
    media = root / "pins/media"
    media.mkdir(parents=True)
    write_jpeg(media / "tall.jpg", 1000, 1500)
    write_jpeg(media / "square.jpg", 1000, 1000)
    write_jpeg(media / "narrow.jpg", 150, 225)
    write_webp(media / "tall.webp", 1000, 1500)
    write_gif(media / "tall.gif", 1000, 1500)
    write_mp4(media / "clip.mp4", 10)
    accounts = "".join(
        f"  {name}:\n    provider: {name}\n    account_id: acc-{name}\n" for name in SERVICES
    )
    (root / "pinops.yaml").write_text(f"pins: pins/\naccounts:\n{accounts}", encoding="utf-8")
    for service in SERVICES:
        folder = root / "pins" / service
        folder.mkdir()
        for probe, (fields, _) in PROBES.items():
            values = {"description": DESCRIPTION, "link": "https://example.com/pasta", **fields}
            text = PROBE.format(id=f"{service}-{probe}", account=service, **values)
            (folder / f"{probe}.yaml").write_text(text, encoding="utf-8")
    return root


def test_validate_reports_each_probe_as_its_service_page_says(
    probes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-C", str(probes), "validate", "--json"]) == 1
    reported = json.loads(capsys.readouterr().out)["problems"]
    for service in SERVICES:
        for probe, (_, expected) in PROBES.items():
            found = [
                (p["severity"], p["message"])
                for p in reported
                if p["file"] == f"pins/{service}/{probe}.yaml"
            ]
            wanted = expected(service)
            if service in NO_ALT_TEXT:
                wanted = [*wanted, ("warning", "has no field for alt_text")]
            assert len(found) == len(wanted), (service, probe, found)
            for severity, part in wanted:
                assert any(s == severity and part in m for s, m in found), (service, probe, found)


def test_a_section_on_a_posting_service_says_so_not_that_the_board_is_missing(
    probes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["-C", str(probes), "plan"])
    said = capsys.readouterr().err
    assert re.search(
        r"pins/zernio/section\.yaml:\d+:\d+: error: Zernio \(account 'zernio'\) has no field for "
        r"section: the pin would land on the board itself, outside any section \(remove section:",
        said,
    )
    assert "does not exist" not in said


def test_every_limit_of_every_service_names_where_it_comes_from() -> None:
    for service in SERVICES:
        caps = capabilities(service)
        keys = {key for key, _, _ in table.ROWS}
        assert set(caps.sources) == keys, service
        assert all(source.strip() for source in caps.sources.values()), service
