"""Crosspostify over real HTTP: the example repository published through a strict emulator of
what its docs confirm. It can neither change, delete nor list posts: changes are plan errors
unless policy.on_unsupported_change says otherwise, and a lost create is left for a person."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.errors import ProviderRejected, RateLimited
from reconciler.providers.base import Media, PinContent
from reconciler.providers.crosspostify import CrosspostifyProvider
from tests.conftest import (
    TARGETS,
    Run,
    edit,
    open_main,
    state,
)
from tests.emulators.crosspostify import ACCOUNT_ID, CrosspostifyEmulator
from tests.emulators.posting import point_repo_at
from tests.emulators.server import Fault
from tests.mediafiles import write_jpeg, write_webp

SERVICE = "crosspostify"
SALAD = "pins/recipes/summer-salad.yaml"


def provider(repo: Path) -> CrosspostifyProvider:
    return open_main(repo, CrosspostifyProvider)


def image_pin(api: CrosspostifyEmulator, repo: Path, title: str = "Title") -> PinContent:
    path = repo / "pins/media/salad.jpg"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    media = Media(kind="image", path=path, content_type="image/jpeg", sha256=digest)
    return PinContent(board_id=next(iter(api.boards[ACCOUNT_ID])), title=title, media=media)


def test_apply_uploads_then_posts(configured: Path, pinops: Run, api: CrosspostifyEmulator) -> None:
    result = pinops("apply", "--yes", "--show-plan")
    assert result.code == 0, result.err
    assert "scheduled for 2027-03-01T09:00:00Z" in result.out
    assert sorted(state(configured)) == TARGETS
    assert state(configured)["calm-bedroom"]["status"] == "scheduled"
    records = state(configured).values()
    assert {record["post_id"] for record in records} == set(api.posts)
    assert not [record for record in records if "pin_id" in record]  # none is ever reported
    assert len(api.media) == 8  # seven images and the video; pasta.jpg went up once
    posts = api.requests("POST", "/post/")
    assert [request.path for request in posts].count("/post/video") == 1
    for request in posts:
        body = request.json
        assert (
            set(body) - {"scheduledDate"} == {"mediaId", "posts"} and body["mediaId"] in api.media
        )
        for post in body["posts"]:
            assert set(post) <= {"accountId", "boardId", "title", "caption", "link"}
            assert post["accountId"] == ACCOUNT_ID and post["boardId"] in api.boards[ACCOUNT_ID]
    scheduled = [r.json for r in posts if "scheduledDate" in r.json]
    assert [body["scheduledDate"] for body in scheduled] == ["2027-03-01T09:00:00Z"]
    salad = next(r.json["posts"][0] for r in posts if "salad" in r.json["posts"][0]["link"])
    assert salad["title"] == "Crunchy Summer Salad with Lemon Dressing"
    assert salad["caption"].startswith("Cucumber, radish")


def test_a_change_is_a_plan_error_with_the_ways_out(
    configured: Path, pinops: Run, api: CrosspostifyEmulator
) -> None:
    assert pinops("apply", "--yes").code == 0
    edit(configured / SALAD, "Crunchy Summer", "Crisp Summer")
    writes = len(api.writes())
    result = pinops("apply", "--yes")
    assert result.code == 1
    assert "the provider cannot change or delete published pins" in result.err
    assert "on_unsupported_change" in result.err and "summer-salad" in result.err
    assert len(api.writes()) == writes


def test_republish_posts_a_new_pin_and_leaves_the_old_one(
    configured: Path, pinops: Run, api: CrosspostifyEmulator
) -> None:
    assert pinops("apply", "--yes").code == 0
    old = state(configured)["summer-salad"]["post_id"]
    edit(configured / SALAD, "Crunchy Summer", "Crisp Summer")
    policy = "on_unsupported_change: republish"
    point_repo_at(
        configured, "crosspostify", api.base_url, ACCOUNT_ID, pace="100/second", policy=policy
    )
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    new = state(configured)["summer-salad"]["post_id"]
    assert new != old and {old, new} <= set(api.posts)
    assert not api.requests("DELETE")


def test_ignore_keeps_the_published_pin(
    configured: Path, pinops: Run, api: CrosspostifyEmulator
) -> None:
    assert pinops("apply", "--yes").code == 0
    edit(configured / SALAD, "Crunchy Summer", "Crisp Summer")
    point_repo_at(
        configured,
        "crosspostify",
        api.base_url,
        ACCOUNT_ID,
        pace="100/second",
        policy="on_unsupported_change: ignore",
    )
    writes = len(api.writes())
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    assert "kept as published (on_unsupported_change: ignore)" in result.out
    assert len(api.writes()) == writes


@pytest.mark.parametrize(
    "fault",
    [
        Fault(kind="lost_response", method="POST", path="/post/"),
        Fault(kind="status", status=500, method="POST", path="/post/"),
    ],
)
@pytest.mark.usefixtures("configured")
def test_a_create_that_may_have_happened_is_left_for_a_person(
    pinops: Run, api: CrosspostifyEmulator, fault: Fault
) -> None:
    api.faults.add(fault)
    result = pinops("apply", "--yes")
    assert result.code == 1
    assert "it may have been acted on" in result.out + result.err or "500" in result.out
    posts = len(api.posts)
    plan = pinops("plan")
    assert "? unresolved calm-bedroom" in plan.out
    assert "Crosspostify has no post listing to look for the pin in" in plan.out
    assert pinops("apply", "--yes").code == 0
    assert len(api.posts) == posts  # never posted again blindly
    assert len(api.requests("POST", "/post/")) == 8  # easy-pasta's two boards in one


def test_a_killed_run_leaves_a_person_only_the_create_it_was_sending(
    configured: Path, pinops: Run, api: CrosspostifyEmulator
) -> None:
    """A lost create here is settled by hand, so no intent is ever written ahead of the create
    being sent (as it is for services that can be searched or replayed): a kill leaves one."""
    api.faults.add(Fault(kind="delay", seconds=1.0, method="POST", path="/post/"))
    argv = [sys.executable, "-m", "reconciler", "-C", str(configured), "apply", "--yes"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not api.requests("POST", "/post/") and time.monotonic() < deadline:
        time.sleep(0.001)
    process.kill()
    process.wait()
    assert pinops("plan").out.count("? unresolved") == 1


def test_a_pin_on_several_boards_is_one_call(
    configured: Path, pinops: Run, api: CrosspostifyEmulator
) -> None:
    """One `posts[]` entry per board, in one call: one post of the 3-a-minute budget."""
    assert pinops("apply", "--yes").code == 0
    [both] = [r.json for r in api.requests("POST", "/post/") if len(r.json["posts"]) > 1]
    names = {board_id: board["name"] for board_id, board in api.boards[ACCOUNT_ID].items()}
    assert [names[post["boardId"]] for post in both["posts"]] == ["Recipes", "Weeknight Dinners"]
    records = state(configured)
    assert (
        records["easy-pasta@Recipes"]["post_id"]
        == records["easy-pasta@Weeknight Dinners"]["post_id"]
        in api.posts
    )


def test_a_board_written_as_its_crosspostify_id_is_not_looked_up(
    configured: Path, pinops: Run, api: CrosspostifyEmulator
) -> None:
    """Its page's ids look like `board_living_room_456`: such a value is an id, not a name."""
    api.add_board("Living Room", board_id="board_living_room_456")
    edit(
        configured / "pins/home/living-spaces.yaml",
        "board: Home Decor",
        "board: board_living_room_456",
    )
    assert pinops("apply", "--yes").code == 0
    posted = [r.json["posts"] for r in api.requests("POST", "/post/")]
    assert [{"boardId": "board_living_room_456"}] in [
        [{"boardId": post["boardId"]} for post in posts] for posts in posted
    ]
    assert state(configured)["cozy-living-room"]["board_id"] == "board_living_room_456"


def test_the_emulator_holds_to_its_page(api: CrosspostifyEmulator, configured: Path) -> None:
    """scheduledDate in UTC with a Z, at least ~10 minutes ahead; JPG or PNG, 200 px wide."""
    cross = provider(configured)
    media_id = cross.media_id(image_pin(api, configured).media or Media(kind="image"))
    board = next(iter(api.boards[ACCOUNT_ID]))
    post = {"mediaId": media_id, "posts": [{"accountId": ACCOUNT_ID, "boardId": board}]}
    for when, said in (
        ("2027-01-01T09:00:00+01:00", "ISO 8601 with 'Z' suffix"),
        ("2020-01-01T09:00:00Z", "at least 10 minutes in the future"),
    ):
        with pytest.raises(ProviderRejected, match=re.escape(said)):
            cross.client.request("POST", "/post/image", json={**post, "scheduledDate": when})
    for name, data in (
        ("a.webp", write_webp(configured / "a.webp", 1000, 1500).read_bytes()),
        ("a.jpg", write_jpeg(configured / "a.jpg", 150, 225).read_bytes()),
    ):
        upload = cross.client.request("POST", "/media", files={"file": (name, data, "")})
        narrow = {**post, "mediaId": upload.json()["mediaId"]}
        with pytest.raises(ProviderRejected, match=r"JPG or PNG|200px wide"):
            cross.client.request("POST", "/post/image", json=narrow)
    cross.close()


def test_429_is_retried_with_backoff(configured: Path, api: CrosspostifyEmulator) -> None:
    cross = provider(configured)
    api.faults.add(Fault(kind="status", status=429, method="POST", path="/post/", times=2))
    published = cross.create(image_pin(api, configured), "a" * 32)
    assert published.post_id in api.posts and published.pin_id is None
    assert [bool(r.fault) for r in api.requests("POST", "/post/")] == [True, True, False]
    api.faults.add(Fault(kind="status", status=429, method="POST", path="/post/", times=None))
    with pytest.raises(RateLimited, match="Too many requests hit the API too quickly"):
        cross.create(image_pin(api, configured), "b" * 32)
    cross.close()


def test_posts_are_paced_to_the_account_limit(configured: Path) -> None:
    with CrosspostifyEmulator(posts_per_minute=3, minute=0.5) as api:
        api.add_board("Recipes")
        point_repo_at(configured, "crosspostify", api.base_url, ACCOUNT_ID, pace="3/second")
        cross = provider(configured)
        for number in range(5):
            cross.create(image_pin(api, configured, f"Pin {number}"), f"{number}" * 32)
        assert len(api.posts) == 5
        assert not [r for r in api.requests() if r.path.startswith("/post/") and r.fault]
        assert len(api.requests("POST", "/media")) == 1  # paced posts; one upload, not paced
        cross.close()


def test_media_urls_are_refused_clearly(configured: Path, api: CrosspostifyEmulator) -> None:
    cross = provider(configured)
    board = next(iter(api.boards[ACCOUNT_ID]))
    content = PinContent(board_id=board, media=Media(kind="image", url="https://e.com/a.jpg"))
    with pytest.raises(ProviderRejected, match="takes uploaded files only"):
        cross.create(content, "a" * 32)
    assert not api.writes()
    cross.close()


def test_a_description_over_500_is_refused_at_plan_time(configured: Path, pinops: Run) -> None:
    edit(configured / SALAD, "A side for every barbecue.", "A side for every barbecue." + "!" * 450)
    result = pinops("plan")
    assert result.code == 1
    assert re.search(
        r"pins/recipes/summer-salad\.yaml:\d+:\d+: error: description is \d+ characters; "
        r"Crosspostify takes at most 500 \(Crosspostify: its Pinterest page, of `caption`: "
        r'"Max 500 characters\."\)',
        result.err,
    )


@pytest.mark.usefixtures("configured")
def test_refresh_leaves_posts_it_cannot_read_back(pinops: Run, api: CrosspostifyEmulator) -> None:
    """No post can be read back (the contract suite holds get to it): refresh reads nothing."""
    assert pinops("apply", "--yes").code == 0
    requests = len(api.requests())
    result = pinops("plan", "--refresh", "--detailed-exitcode")
    assert result.code == 0, result.err
    assert len(api.requests()) == requests


def test_the_emulator_takes_form_bodies_and_refuses_unknown_fields(
    api: CrosspostifyEmulator, configured: Path
) -> None:
    cross = provider(configured)
    media_id = cross.media_id(image_pin(api, configured).media or Media(kind="image"))
    board = next(iter(api.boards[ACCOUNT_ID]))
    form = {"mediaId": media_id, "posts[0][accountId]": ACCOUNT_ID, "posts[0][boardId]": board}
    answer = cross.client.request("POST", "/post/image", data=form)
    assert answer.json()["postId"] in api.posts
    scheduled = {"mediaId": media_id, "posts": [{"accountId": ACCOUNT_ID, "boardId": board}]}
    scheduled["scheduledAt"] = "2027-01-01T00:00:00Z"
    with pytest.raises(ProviderRejected, match="Unknown parameter: scheduledAt"):
        cross.client.request("POST", "/post/image", json=scheduled)
    no_board = {"mediaId": media_id, "posts": [{"accountId": ACCOUNT_ID}]}
    with pytest.raises(ProviderRejected, match="boardId is mandatory for Pinterest"):
        cross.client.request("POST", "/post/image", json=no_board)
    cross.close()


def test_a_publish_at_nearer_than_its_lead_time_waits_for_a_run_after_it(
    configured: Path, pinops: Run
) -> None:
    """Crosspostify schedules at least ~10 minutes ahead: a nearer publish_at is not sent as a
    schedule it would refuse, and is published by a run after it."""
    soon = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    edit(configured / "pins/home/living-spaces.yaml", "2027-03-01T09:00:00Z", soon)
    plan = pinops("plan")
    assert "⏲ wait calm-bedroom" in plan.out, plan.out
    assert f"publish_at {soon}" in plan.out
