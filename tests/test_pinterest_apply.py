"""pinops with `provider: pinterest`, end to end through the CLI against the Pinterest emulator."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PROJECT, Run, edit
from tests.emulators.pinterest import CLIENT_ID, CLIENT_SECRET, PinterestEmulator
from tests.emulators.server import Fault

# Recognisable, and shaped like no known credential, so that only the registry can mask it.
TOKEN = "RECOGNISABLE-access-7f3a9c21d4"
REFRESH = "RECOGNISABLE-refresh-5e8b0d6a93"
BOARDS = ("Recipes", "Weeknight Dinners", "Home Decor")
HTTPS_PIN = """\
id: bright-hallway
board: Home Decor
title: A Bright Hallway
description: Mirrors and a runner rug make a narrow hall feel wide.
link: https://example.com/home/bright-hallway
alt_text: A narrow hallway with a round mirror
image: https://cdn.example.com/hallway.jpg
"""
# The example repository's pins due now (one waits for publish_at), plus the https one.
PUBLISHED = 9


@pytest.fixture
def api() -> Iterator[PinterestEmulator]:
    # Videos are ready at the first poll: the provider's real poll interval is a second.
    with PinterestEmulator(
        access_tokens=(TOKEN,), refresh_token=REFRESH, processing_polls=0
    ) as emulator:
        for name in BOARDS:
            emulator.add_board(name)
        yield emulator


@pytest.fixture
def site(repo: Path, api: PinterestEmulator, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example repository, published to the emulated Pinterest with a token in the env."""
    (repo / "pinops.yaml").write_text(
        f"accounts:\n  main:\n    provider: pinterest\n    base_url: {api.base_url}\n",
        encoding="utf-8",
    )
    (repo / "pins" / "home" / "hallway.yaml").write_text(HTTPS_PIN, encoding="utf-8")
    monkeypatch.setenv("PINTEREST_ACCESS_TOKEN", TOKEN)
    for name in ("PINTEREST_REFRESH_TOKEN", "PINTEREST_CLIENT_ID", "PINTEREST_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PINTEREST_TOKEN_FILE", raising=False)
    return repo


def pins_titled(api: PinterestEmulator, title: str) -> list[str]:
    with api.lock:
        return [pin_id for pin_id, pin in api.pins.items() if pin["title"] == title]


@pytest.mark.usefixtures("site")
def test_the_example_pins_publish_and_a_second_run_writes_nothing(
    api: PinterestEmulator, pinops: Run
) -> None:
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    assert len(api.pins) == PUBLISHED
    sources = [r.json["media_source"]["source_type"] for r in api.requests("POST", "/v5/pins")]
    assert sorted(sources) == sorted(["image_base64"] * 7 + ["image_url", "video_id"])
    (video,) = [pin for pin in api.pins.values() if pin["creative_type"] == "VIDEO"]
    assert video["title"] == "How to Make Garlic Pasta in 15 Minutes"
    writes = len(api.writes())
    assert pinops("apply", "--yes").code == 0
    assert pinops("plan", "--detailed-exitcode").code == 0
    assert len(api.writes()) == writes


def test_a_title_edit_is_one_patch(api: PinterestEmulator, pinops: Run, site: Path) -> None:
    assert pinops("apply", "--yes").code == 0
    edit(site / "pins/recipes/summer-salad.yaml", "Crunchy Summer Salad", "Crisp Summer Salad")
    before = len(api.writes())
    assert pinops("apply", "--yes").code == 0
    (patch,) = api.writes()[before:]
    assert patch.method == "PATCH"
    assert patch.json == {"title": "Crisp Summer Salad with Lemon Dressing"}


def test_the_plan_names_the_published_pin_each_change_acts_on(
    api: PinterestEmulator, pinops: Run, site: Path
) -> None:
    assert pinops("apply", "--yes").code == 0
    (salad,) = pins_titled(api, "Crunchy Summer Salad with Lemon Dressing")
    edit(site / "pins/recipes/summer-salad.yaml", "Crunchy Summer Salad", "Crisp Summer Salad")
    text = pinops("plan").out
    assert f"      on pin {salad} https://www.pinterest.com/pin/{salad}/\n" in text
    changes = json.loads(pinops("plan", "--json").out)["changes"]
    (change,) = [c for c in changes if c["key"] == "summer-salad"]
    assert change["remote_url"] == f"https://www.pinterest.com/pin/{salad}/"


def test_an_image_change_creates_the_new_pin_before_deleting_the_old(
    api: PinterestEmulator, pinops: Run, site: Path
) -> None:
    assert pinops("apply", "--yes").code == 0
    (old,) = pins_titled(api, "Crunchy Summer Salad with Lemon Dressing")
    edit(site / "pins/recipes/summer-salad.yaml", "media/salad.jpg", "media/pasta.jpg")
    before = len(api.writes())
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    create, delete = api.writes()[before:]
    assert (create.method, create.path) == ("POST", "/v5/pins")
    assert (delete.method, delete.path) == ("DELETE", f"/v5/pins/{old}")
    (new,) = pins_titled(api, "Crunchy Summer Salad with Lemon Dressing")
    assert new != old


@pytest.mark.usefixtures("site")
def test_a_rate_limited_create_waits_for_retry_after(api: PinterestEmulator, pinops: Run) -> None:
    limit = Fault(kind="status", status=429, retry_after=0.3, method="POST", path="/v5/pins")
    api.faults.add(limit)
    assert pinops("apply", "--yes").code == 0
    limited, retried, *_ = api.requests("POST", "/v5/pins")
    assert limited.fault is not None and retried.fault is None
    assert retried.arrived - limited.arrived >= 0.3
    assert len(api.pins) == PUBLISHED


@pytest.mark.usefixtures("site")
def test_a_lost_create_response_is_adopted_not_posted_again(
    api: PinterestEmulator, pinops: Run
) -> None:
    api.faults.add(Fault(kind="lost_response", method="POST", path="/v5/pins"))
    first = pinops("apply", "--yes")
    assert first.code == 1
    assert "may have been acted on" in first.out + first.err
    assert len(api.pins) == PUBLISHED  # the lost one was made all the same
    plan = pinops("plan")
    assert "= adopt" in plan.out
    posts = len(api.requests("POST", "/v5/pins"))
    assert pinops("apply", "--yes").code == 0
    assert len(api.requests("POST", "/v5/pins")) == posts
    assert len(api.pins) == PUBLISHED
    assert pinops("plan", "--detailed-exitcode").code == 0


@pytest.mark.usefixtures("site")
def test_an_expired_token_is_refreshed_and_the_run_carries_on(
    api: PinterestEmulator, pinops: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    api.expire_token(TOKEN)
    monkeypatch.setenv("PINTEREST_REFRESH_TOKEN", REFRESH)
    monkeypatch.setenv("PINTEREST_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("PINTEREST_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("PINTEREST_TOKEN_FILE", str(tmp_path / "tokens.env"))
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    assert len(api.pins) == PUBLISHED
    assert len(api.requests("POST", "/v5/oauth/token")) == 1
    saved = (tmp_path / "tokens.env").read_text()
    assert f"PINTEREST_REFRESH_TOKEN={api.refresh_token}\n" in saved


@pytest.mark.usefixtures("site")
def test_a_rejected_token_is_a_clear_error(api: PinterestEmulator, pinops: Run) -> None:
    api.expire_token(TOKEN)
    result = pinops("apply", "--yes")
    assert result.code == 1
    assert "Pinterest answered 401" in result.err
    assert "set PINTEREST_ACCESS_TOKEN to a current token" in result.err
    assert "Traceback" not in result.err
    assert api.pins == {}


def test_a_pull_request_is_planned_with_no_credentials_and_no_state(
    api: PinterestEmulator, pinops: Run, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Boards new to the state are planned by name; apply, which has the token, resolves them."""
    monkeypatch.delenv("PINTEREST_ACCESS_TOKEN")
    result = pinops("plan", "--format", "markdown", "--detailed-exitcode")
    assert result.code == 2, result.err
    planned = json.loads(pinops("plan", "--json").out)["changes"]
    assert len(planned) == PUBLISHED + 1  # one waits for publish_at
    for change in planned:
        board = change["after"]["board"]
        assert f"<code>{change['key']}</code> on <b>{board}</b>" in result.out
    assert not (site / "pinops.state.json").exists()
    assert api.requests("GET", "/v5/boards") == []

    refused = pinops("apply", "--yes")
    assert refused.code == 1
    assert "error: PINTEREST_ACCESS_TOKEN is not set" in refused.err
    assert api.pins == {}
    monkeypatch.setenv("PINTEREST_ACCESS_TOKEN", TOKEN)
    assert pinops("apply", "--yes").code == 0
    assert len(api.pins) == PUBLISHED


def test_credentials_never_reach_output_logs_plans_or_state(
    api: PinterestEmulator,
    pinops: Run,
    site: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("PINTEREST_REFRESH_TOKEN", REFRESH)
    monkeypatch.setenv("PINTEREST_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("PINTEREST_CLIENT_SECRET", CLIENT_SECRET)
    api.expire_token(TOKEN)  # so that the refresh token and client secret are used too
    api.rotate_refresh_token = False  # each run refreshes anew with the same refresh token
    echoed = {"code": 1, "message": f"Invalid header Authorization: Bearer {TOKEN} ({REFRESH})"}
    api.faults.add(Fault(kind="status", status=400, body=echoed, method="POST", path="/v5/pins"))
    outputs = [
        pinops("--debug", "plan", "--out", str(site / "plan.json")),
        pinops("--debug", "apply", "--yes"),
        pinops("--debug", "plan", "--json"),
        pinops("--debug", "apply", "--yes"),
    ]
    assert (site / "plan.json").is_file()
    assert outputs[1].code == 1 and "[redacted]" in outputs[1].out + outputs[1].err
    assert len(api.pins) == PUBLISHED
    secrets = [TOKEN, REFRESH, CLIENT_SECRET, api.refresh_token, *api.access_tokens]
    texts = [caplog.text] + [result.out + result.err for result in outputs]
    texts += [
        path.read_text(encoding="utf-8", errors="replace")
        for path in site.rglob("*")
        if path.is_file() and "media" not in path.parts
    ]
    for secret in secrets:
        assert not [text for text in texts if secret in text], secret


def test_apply_runs_as_a_subprocess_with_the_token_from_the_environment(
    api: PinterestEmulator, site: Path
) -> None:
    env = {**os.environ, "PINTEREST_ACCESS_TOKEN": TOKEN}
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "-C", str(site), "apply", "--yes"],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert len(api.pins) == PUBLISHED
    assert TOKEN not in result.stdout + result.stderr


def test_a_video_url_is_refused_at_plan_time_for_pinterest(repo: Path, pinops: Run) -> None:
    config = repo / "pinops.yaml"
    config.write_text(config.read_text().replace("provider: sandbox", "provider: pinterest"))
    manifest = repo / "pins/recipes/pasta.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "video: ../media/pasta-howto.mp4", "video: https://cdn.example.com/howto.mp4"
        )
    )
    result = pinops("validate")
    assert result.code == 1
    assert "pins/recipes/pasta.yaml:" in result.err
    assert "takes videos as uploaded files, not URLs" in result.err
