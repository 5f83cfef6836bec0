"""Provider answers are checked against the provider's document before they are recorded: an
off-spec answer is a clear error for that pin, the state stays readable, no two records share a
remote id, and a pin not yet published is followed until it is one."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Run, state
from tests.emulators.pinterest import PinterestEmulator
from tests.emulators.posting import point_repo_at
from tests.emulators.server import Fault
from tests.emulators.zernio import ACCOUNT_ID, API_KEY, ZernioEmulator

BOARDS = ("Recipes", "Weeknight Dinners", "Home Decor")
TOKEN = "RECOGNISABLE-access-2b9e44c1f0"
# The example repository's pins due now; one more waits for its publish_at.
DUE = 8


@pytest.fixture
def pinterest(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PinterestEmulator]:
    with PinterestEmulator(access_tokens=(TOKEN,), processing_polls=0) as api:
        for name in BOARDS:
            api.add_board(name)
        (repo / "pinops.yaml").write_text(
            f"accounts:\n  main:\n    provider: pinterest\n    base_url: {api.base_url}\n"
        )
        monkeypatch.setenv("PINTEREST_ACCESS_TOKEN", TOKEN)
        for name in ("PINTEREST_REFRESH_TOKEN", "PINTEREST_CLIENT_ID", "PINTEREST_CLIENT_SECRET"):
            monkeypatch.delenv(name, raising=False)
        yield api


@pytest.fixture
def zernio(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ZernioEmulator]:
    with ZernioEmulator() as api:
        for name in BOARDS:
            api.add_board(name)
        monkeypatch.setenv("ZERNIO_API_KEY", API_KEY)
        point_repo_at(repo, "zernio", api.base_url, ACCOUNT_ID)
        yield api


def remote_ids(repo: Path) -> list[str]:
    return [r["pin_id"] for r in state(repo).values() if r.get("pin_id")]


def test_an_off_spec_pin_id_is_not_recorded_and_the_pin_is_adopted_later(
    pinterest: PinterestEmulator, pinops: Run, repo: Path
) -> None:
    def off_spec(body: Any) -> Any:
        return {**body, "id": "string"}

    pinterest.faults.add(Fault(kind="rewrite", method="POST", path="/v5/pins", rewrite=off_spec))
    first = pinops("apply", "--yes")
    assert first.code == 1
    assert "answered the create with pin id 'string', which is not a Pinterest pin id" in first.out
    assert "string" not in (repo / "pinops.state.json").read_text()
    # The state stays readable, and the pin that was made is found instead of posted again.
    plan = pinops("plan")
    assert plan.code == 0, plan.err
    assert "= adopt" in plan.out
    assert pinops("apply", "--yes").code == 0
    assert len(pinterest.pins) == DUE
    assert sorted(remote_ids(repo)) == sorted(pinterest.pins)
    assert pinops("plan", "--detailed-exitcode").code == 0


def test_one_post_id_for_every_create_is_recorded_once(
    zernio: ZernioEmulator, pinops: Run, repo: Path
) -> None:
    first: list[Any] = []

    def same_post(body: Any) -> Any:
        if not first:
            first.append(copy.deepcopy(body))
        return first[0]

    zernio.faults.add(
        Fault(kind="rewrite", method="POST", path="/api/v1/posts", times=None, rewrite=same_post)
    )
    result = pinops("apply", "--yes")
    assert result.code == 1
    assert "which 'calm-bedroom' already holds: not recorded twice" in result.out
    post_ids = [r["post_id"] for r in state(repo).values() if r.get("post_id")]
    assert len(post_ids) == len(set(post_ids)) == 1
    # The creates that were answered wrongly are settled by the next run, not left or doubled.
    zernio.faults.clear()
    assert pinops("apply", "--yes").code == 0, pinops("plan").out
    zernio.publish_scheduled()
    records = state(repo)
    assert len(records) == DUE + 1
    post_ids = [r["post_id"] for r in records.values()]
    assert len(set(post_ids)) == len(post_ids)
    assert len(zernio.posts) == DUE + 1


def test_a_publish_now_create_answered_scheduled_is_followed_to_its_pin(
    zernio: ZernioEmulator, pinops: Run, repo: Path
) -> None:
    def scheduled(body: Any) -> Any:
        post = copy.deepcopy(body["post"])
        if post["status"] != "published":
            return body
        post["status"] = "scheduled"
        entry = post["platforms"][0]
        entry["status"] = "scheduled"
        for name in ("platformPostId", "platformPostUrl", "publishedAt"):
            entry.pop(name, None)
        post.pop("publishedAt", None)
        return {**body, "post": post}

    zernio.faults.add(
        Fault(kind="rewrite", method="POST", path="/api/v1/posts", times=None, rewrite=scheduled)
    )
    assert pinops("apply", "--yes").code == 0
    followed = {k: r for k, r in state(repo).items() if r["status"] == "pending"}
    assert len(followed) == DUE
    zernio.faults.clear()
    plan = pinops("plan", "--detailed-exitcode")
    assert plan.code == 2
    assert "No changes" not in plan.out
    assert plan.out.count("= adopt") == DUE
    assert pinops("apply", "--yes").code == 0
    records = state(repo)
    assert {k: r["status"] for k, r in records.items() if k in followed} == dict.fromkeys(
        followed, "published"
    )
    posts = {r["post_id"] for r in followed.values()}
    assert sorted(r["pin_id"] for k, r in records.items() if k in followed) == sorted(
        pin for pin, post in zernio.pins.items() if post in posts
    )
    assert pinops("plan", "--detailed-exitcode").code == 0
    json.loads((repo / "pinops.state.json").read_text())
