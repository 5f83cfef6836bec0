"""Accounts applied side by side (`apply --parallel N`): each account stops on its own, progress and
the summary name the account, and a pin that moves between accounts is made by one worker."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.cli import main
from tests.conftest import Run, state
from tests.emulators.pinterest import PinterestEmulator
from tests.terminals import on_terminal

NAMES = ("acme", "globex", "initech")
TOKENS = {name: f"RECOGNISABLE-{name}-token-9a1f" for name in NAMES}


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[PinterestEmulator]:
    for name in NAMES:
        monkeypatch.setenv(f"{name.upper()}_TOKEN", TOKENS[name])
    with PinterestEmulator(access_tokens=TOKENS.values()) as emulator:
        emulator.add_board("Recipes")
        yield emulator


def revoked_later(api: PinterestEmulator, repo: Path, pinops: Run, per_account: int) -> None:
    """Three brands that published before (so their boards are known); then initech's token is
    revoked and `per_account` new pins are declared for each."""
    three_brands(repo, api.base_url, 1)
    assert pinops("apply", "--yes").code == 0
    api.expire_token(TOKENS["initech"])
    three_brands(repo, api.base_url, 1 + per_account)


def three_brands(repo: Path, base_url: str, per_account: int) -> None:
    (repo / "pinops.yaml").write_text(
        "accounts:\n"
        + "".join(
            f"  {name}:\n    provider: pinterest\n    base_url: {base_url}\n"
            f"    credentials:\n      access_token: {name.upper()}_TOKEN\n"
            for name in NAMES
        ),
        encoding="utf-8",
    )
    lines = ["defaults:", "  board: Recipes", "pins:"]
    for name in NAMES:
        for n in range(per_account):
            lines += [
                f"  - id: {name}-{n}",
                f"    account: {name}",
                f"    title: Pin {n} of {name}",
                f"    image: https://cdn.example.com/{name}/{n}.jpg",
            ]
    shutil.rmtree(repo / "pins")
    (repo / "pins").mkdir()
    (repo / "pins" / "brands.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_an_account_whose_token_is_refused_stops_alone(
    api: PinterestEmulator, repo: Path, pinops: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    revoked_later(api, repo, pinops, 4)
    summary = repo / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(repo / "outputs"))
    result = pinops("apply", "--yes", "--parallel", "3")
    assert result.code == 1
    records = state(repo)
    published = [f"{name}-{n}" for name in NAMES for n in range(5 if name != "initech" else 1)]
    assert sorted(records) == published
    # Progress and the summary name each account and count its own changes.
    assert "acme [4/4] + acme-4: created" in result.out
    assert re.search(r"initech \[1/4\] \+ initech-1: failed: .*Authentication", result.out)
    assert "initech [4/4] + initech-4: skipped (not attempted: " in result.out
    assert "  acme: 4 created\n  globex: 4 created\n  initech: 1 failed, 3 left\n" in result.out
    # So does the job summary, under its result line.
    assert (
        "\n- <code>acme</code>: 4 created\n- <code>globex</code>: 4 created\n"
        "- <code>initech</code>: 1 failed, 3 left\n"
    ) in summary.read_text(encoding="utf-8")


def test_a_run_of_one_account_at_a_time_says_the_same(
    api: PinterestEmulator, repo: Path, pinops: Run
) -> None:
    revoked_later(api, repo, pinops, 2)
    result = pinops("apply", "--yes", "--parallel", "1")
    assert result.code == 1
    records = sorted(state(repo))
    assert records == [
        "acme-0",
        "acme-1",
        "acme-2",
        "globex-0",
        "globex-1",
        "globex-2",
        "initech-0",
    ]
    assert "  acme: 2 created\n  globex: 2 created\n  initech: 1 failed, 1 left\n" in result.out


def test_an_account_whose_boards_cannot_be_read_fails_alone(
    api: PinterestEmulator, repo: Path, pinops: Run
) -> None:
    """The board lookup at the start of apply (nothing cached yet) is refused for one account:
    that account's pins fail, nothing of it is recorded, and the others publish."""
    api.expire_token(TOKENS["initech"])
    three_brands(repo, api.base_url, 2)
    result = pinops("apply", "--yes", "--parallel", "3")
    assert result.code == 1, result.out + result.err
    records = state(repo)
    assert sorted(records) == ["acme-0", "acme-1", "globex-0", "globex-1"]
    with api.lock:
        assert sorted(pin["title"] for pin in api.pins.values()) == [
            "Pin 0 of acme",
            "Pin 0 of globex",
            "Pin 1 of acme",
            "Pin 1 of globex",
        ]
    assert re.search(
        r"initech \[1/2\] \+ initech-0: failed: could not read the boards of account 'initech': "
        r".*Authentication",
        result.out,
    )
    assert "  acme: 2 created\n  globex: 2 created\n  initech: 2 failed\n" in result.out
    # The boards read are kept; the next run, with the token renewed, asks only initech's.
    assert set(json.loads((repo / "pinops.state.json").read_text())["boards"]) == {"acme", "globex"}
    api.access_tokens.add(TOKENS["initech"])
    again = pinops("apply", "--yes", "--parallel", "3")
    assert again.code == 0, again.out + again.err
    assert sorted(state(repo)) == [f"{name}-{n}" for name in NAMES for n in range(2)]


def test_a_pin_moved_to_another_account_is_replaced_by_one_worker(
    api: PinterestEmulator, repo: Path, pinops: Run
) -> None:
    three_brands(repo, api.base_url, 2)
    assert pinops("apply", "--yes").code == 0
    before = state(repo)
    manifest = repo / "pins" / "brands.yaml"
    text = manifest.read_text(encoding="utf-8")
    moved = text.replace("id: initech-0\n    account: initech", "id: initech-0\n    account: acme")
    manifest.write_text(moved, encoding="utf-8")
    result = pinops("apply", "--yes", "--parallel", "3", "--allow-destroy")
    assert result.code == 0, result.out + result.err
    after = state(repo)
    assert after["initech-0"]["account"] == "acme"
    assert after["initech-0"]["pin_id"] != before["initech-0"]["pin_id"]
    with api.lock:
        assert before["initech-0"]["pin_id"] not in api.pins  # the old pin was deleted
    assert "-/+ initech-0: replaced" in result.out


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_parallel_takes_a_whole_number_of_one_or_more(
    repo: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["-C", str(repo), "apply", "--yes", "--parallel", value])
    assert exited.value.code == 1
    message = f"argument --parallel: expected a whole number of 1 or more, got '{value}'"
    assert message in capsys.readouterr().err


def test_a_terminal_shows_a_bar_for_each_account_at_work(
    api: PinterestEmulator, repo: Path
) -> None:
    three_brands(repo, api.base_url, 3)
    session = on_terminal("-C", str(repo), "apply", "--yes", "--parallel", "3")
    assert session.code == 0, session.screen
    for name in NAMES:
        assert f"applying {name}" in session.screen
        assert f"{name} [3/3] + {name}-2: created" in session.screen
    assert "ETA" in session.screen
