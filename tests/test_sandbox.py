"""The sandbox account's SQLite database: many pins, an account kept as JSON by an earlier pinops,
`pinops sandbox`, and `pinops apply` processes killed while they publish to it."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.providers.base import PinContent
from reconciler.providers.sandbox import SandboxProvider, board_id, pin_id
from tests.conftest import Run, edit, sandbox_pins, state

BOARDS = ("Recipes", "Home Decor")
RECIPES = board_id("Recipes")


def pin(n: int, description: str | None = None) -> PinContent:
    return PinContent(
        board_id=RECIPES,
        title=f"Recipe {n}",
        link=f"https://example.com/{n}",
        description=description,
    )


def integrity(path: Path) -> str:
    with closing(sqlite3.connect(path)) as db:
        result: str = db.execute("PRAGMA integrity_check").fetchone()[0]
        return result


def test_many_pins_get_distinct_ids_and_stay_findable(tmp_path: Path) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    sandbox = SandboxProvider(tmp_path, "main", BOARDS)
    ids = [str(sandbox.create(pin(n), "unused").pin_id) for n in range(3000)]
    assert ids == [pin_id("main", n) for n in range(1, 3001)]
    assert len(set(ids)) == 3000 and all(len(i) == 19 and i.isdigit() for i in ids)
    sandbox.update(ids[10], pin(10, description="Now with basil"), frozenset({"description"}))
    sandbox.delete(ids[20])
    sandbox.close()

    files = sorted(p.name for p in (tmp_path / ".pinops/sandbox").iterdir())
    assert files == ["main.sqlite3"]  # the write-ahead log is folded in when it closes
    assert integrity(tmp_path / ".pinops/sandbox/main.sqlite3") == "ok"
    again = SandboxProvider(tmp_path, "main", BOARDS)
    try:
        assert again.get(ids[20]) is None
        found = again.get(ids[10])
        assert found is not None and found.description == "Now with basil"
        [matches] = again.find([pin(2999)], since)
        assert [p.pin_id for p in matches] == [ids[2999]]
        assert again.create(pin(3000), "unused").pin_id == pin_id("main", 3001)
    finally:
        again.close()
    assert len(sandbox_pins(tmp_path)) == 3000


def test_reading_an_account_nothing_was_published_to_leaves_no_file(tmp_path: Path) -> None:
    sandbox = SandboxProvider(tmp_path, "main", BOARDS)
    assert sandbox.get("1") is None
    assert sandbox.find([pin(1)], datetime.now(UTC)) == [[]]
    sandbox.delete("1")
    sandbox.close()
    assert not (tmp_path / ".pinops").exists()


def test_an_account_kept_as_json_moves_into_the_database(tmp_path: Path) -> None:
    legacy = tmp_path / ".pinops/sandbox/main.json"
    legacy.parent.mkdir(parents=True)
    old = {
        "id": "1000000000000000007",
        "board_id": RECIPES,
        "board_section_id": None,
        "title": "Old pasta",
        "description": None,
        "link": "https://example.com/pasta",
        "alt_text": None,
        "dominant_color": "#C8553D",
        "media": {"kind": "image", "url": None, "sha256": "ab" * 32},
        "created_at": "2026-01-15T09:30:00Z",
    }
    legacy.write_text(json.dumps({"next_id": 1000000000000000009, "pins": {old["id"]: old}}))
    sandbox = SandboxProvider(tmp_path, "main", BOARDS)
    try:
        moved = sandbox.get("1000000000000000007")
        assert moved is not None and moved.title == "Old pasta"
        assert moved.created_at == "2026-01-15T09:30:00Z"
        assert sandbox.create(pin(1), "unused").pin_id == pin_id("main", 1)
    finally:
        sandbox.close()
    assert not legacy.exists()
    assert sandbox_pins(tmp_path)["1000000000000000007"]["media_sha256"] == "ab" * 32


def test_a_database_from_before_account_digits_keeps_its_pins_ids(tmp_path: Path) -> None:
    """A state file records the ids an earlier sandbox gave; they still name the same pins, and
    the pins published from now on take ids none of them has."""
    path = tmp_path / ".pinops/sandbox/main.sqlite3"
    path.parent.mkdir(parents=True)
    earlier = "1000000000000000001"
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE account (next_id INTEGER NOT NULL)")
        db.execute("INSERT INTO account VALUES (1000000000000000002)")
        db.execute(
            "CREATE TABLE pins (id TEXT PRIMARY KEY, board_id TEXT NOT NULL, board_section_id"
            " TEXT, title TEXT, description TEXT, link TEXT, alt_text TEXT, dominant_color TEXT,"
            " media_kind TEXT, media_url TEXT, media_sha256 TEXT, created_at TEXT NOT NULL)"
        )
        db.execute(
            "INSERT INTO pins (id, board_id, title, created_at) VALUES (?, ?, 'Old pasta', ?)",
            (earlier, RECIPES, "2026-01-15T09:30:00Z"),
        )
        db.commit()
    sandbox = SandboxProvider(tmp_path, "main", BOARDS)
    try:
        found = sandbox.get(earlier)
        assert found is not None and found.title == "Old pasta"
        assert sandbox.create(pin(1), "unused").pin_id == pin_id("main", 1)
    finally:
        sandbox.close()
    assert list(sandbox_pins(tmp_path)) == [earlier, pin_id("main", 1)]


def test_pinops_sandbox_lists_boards_and_pins(pinops: Run, repo: Path) -> None:
    assert pinops("apply", "--yes").code == 0
    listed = pinops("sandbox")
    assert listed.code == 0, listed.err
    lines = listed.out.splitlines()
    assert lines[0] == "main: 8 pins in .pinops/sandbox/main.sqlite3"
    assert f"  Home Decor (board {board_id('Home Decor')})" in lines
    assert (
        f"    {pin_id('main', 1)}  Cozy Living Room Ideas for Small Spaces  "
        "https://example.com/home/cozy-living-room"
    ) in lines
    shown = json.loads(pinops("sandbox", "--json").out)
    pins = [p for board in shown["main"]["boards"] for p in board["pins"]]
    assert {p["id"] for p in pins} == {r["pin_id"] for r in state(repo).values()}
    assert shown["main"]["database"] == ".pinops/sandbox/main.sqlite3"


def test_pinops_sandbox_opens_no_other_provider(
    pinops: Run, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PINTEREST_ACCESS_TOKEN", raising=False)
    edit(repo / "pinops.yaml", "policy:", "  shop:\n    provider: pinterest\npolicy:")
    listed = pinops("sandbox")
    assert listed.code == 0, listed.err
    assert listed.out.startswith("main: 0 pins in .pinops/sandbox/main.sqlite3\n")
    assert "shop" not in listed.out


def test_pinops_sandbox_without_a_sandbox_account_says_so(pinops: Run, repo: Path) -> None:
    config = repo / "pinops.yaml"
    config.write_text(config.read_text().replace("provider: sandbox", "provider: pinterest"))
    result = pinops("sandbox")
    assert result.code == 1
    assert "no account in pinops.yaml uses the sandbox provider" in result.err


def published(repo: Path) -> int:
    """How many pins the account holds, read while a process may be creating its database."""
    try:
        return len(sandbox_pins(repo))
    except sqlite3.OperationalError:  # the file is there, its tables not yet
        return 0


@pytest.mark.slow
def test_sigkill_mid_apply_keeps_the_account_whole_and_each_pin_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    count = 400
    repo = tmp_path / "site"
    (repo / "pins").mkdir(parents=True)
    (repo / "pinops.yaml").write_text(
        "accounts:\n  main:\n    provider: sandbox\n    boards: [Recipes]\n", encoding="utf-8"
    )
    lines = ["defaults:", "  board: Recipes", "pins:"]
    for n in range(count):
        lines += [
            f"  - id: pin-{n:04d}",
            f"    title: Recipe number {n}",
            f"    link: https://example.com/recipes/{n}",
            f"    image: https://images.example.com/{n}.jpg",
        ]
    (repo / "pins/many.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    database = repo / ".pinops/sandbox/main.sqlite3"
    chosen = random.Random(20261204)
    kills = 0
    while kills < 8 and published(repo) < count - 20:
        target = published(repo) + chosen.randint(1, 10)
        process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "-C", str(repo), "apply", "--yes"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            if published(repo) >= target:
                break
            time.sleep(0.002)
        time.sleep(chosen.random() * 0.005)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
    assert kills >= 5
    assert integrity(database) == "ok"
    for _ in range(5):
        code = main(["-C", str(repo), "apply", "--yes"])
        if code == 0 and "No changes" in capsys.readouterr().out:
            break
    pins = sandbox_pins(repo)
    assert len(pins) == count
    assert [t for t, seen in Counter(p["title"] for p in pins.values()).items() if seen > 1] == []
    records = state(repo)
    assert {r["pin_id"] for r in records.values()} == set(pins)
    assert all("intent" not in r for r in records.values())


def test_two_sandbox_accounts_publish_with_distinct_ids(pinops: Run, repo: Path) -> None:
    """Pinterest's pin ids are unique across users; two sandbox accounts' must be too, or the
    second account's pins would be refused as ids another record already holds."""
    edit(
        repo / "pinops.yaml",
        "policy:",
        "  brand:\n    provider: sandbox\n    boards: [Home Decor]\npolicy:",
    )
    edit(
        repo / "pins/home/living-spaces.yaml",
        "  board: Home Decor\n",
        "  board: Home Decor\n  account: brand\n",
    )
    result = pinops("apply", "--yes")
    assert result.code == 0, result.out + result.err
    main_pins, brand_pins = sandbox_pins(repo, "main"), sandbox_pins(repo, "brand")
    assert main_pins and brand_pins
    assert not set(main_pins) & set(brand_pins)
    records = state(repo)
    for account, published in (("main", main_pins), ("brand", brand_pins)):
        ours = [
            r["pin_id"] for r in records.values() if r["account"] == account and r.get("pin_id")
        ]
        assert sorted(ours) == sorted(published)
    assert all("intent" not in record for record in records.values())
    again = pinops("plan", "--detailed-exitcode")
    assert again.code == 0, again.out + again.err
