"""PostPeer over real HTTP: the example repository published through a strict emulator of its
API, request and response bodies checked against PostPeer's own OpenAPI document."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.errors import ProviderRejected
from reconciler.providers.base import Media, PinContent
from reconciler.providers.postpeer import PostPeerProvider
from tests.conftest import (
    BEDROOM,
    SALAD,
    TARGETS,
    Run,
    edit,
    open_main,
    replaced,
    state,
)
from tests.emulators.openapi import Spec
from tests.emulators.posting import point_repo_at
from tests.emulators.postpeer import ACCESS_KEY, ACCOUNT_ID, SPEC, PostPeerEmulator
from tests.emulators.server import Fault
from tests.mediafiles import write_gif

SERVICE = "postpeer"


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec(SPEC)


def creates(api: PostPeerEmulator) -> list[dict[str, Any]]:
    return [request.json for request in api.requests("POST", "/v1/posts")]


def provider(repo: Path, **settings: Any) -> PostPeerProvider:
    return open_main(repo, PostPeerProvider, **settings)


def test_apply_publishes_the_example(
    configured: Path, pinops: Run, api: PostPeerEmulator, spec: Spec
) -> None:
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    assert "Plan: 9 to create" in result.out
    assert sorted(state(configured)) == TARGETS
    live = {entry["platformPostId"] for entry in api.live_pins()}
    records = state(configured)
    assert {records[key]["pin_id"] for key in TARGETS if key != "calm-bedroom"} == live
    assert records["summer-salad"]["url"].startswith("https://www.pinterest.com/pin/")
    assert records["summer-salad"]["post_id"] in api.posts
    scheduled = records["calm-bedroom"]
    assert scheduled["status"] == "scheduled" and "pin_id" not in scheduled
    assert api.posts[scheduled["post_id"]]["scheduledFor"] == "2027-03-01T09:00:00.000Z"
    # Every create is valid against PostPeer's document, and the media went up presigned.
    bodies = creates(api)
    for body in bodies:
        spec.check_request(body, "/v1/posts/", "post")
    assert len(api.uploads) == 9  # seven images, the video and its cover, each uploaded once
    assert all("x-access-key" not in r.headers for r in api.requests("PUT", "/upload/"))
    video = next(b for b in bodies if b["mediaItems"][0]["type"] == "video")
    assert video["platforms"][0]["platformSpecificData"]["coverImageUrl"].startswith("https://")
    salad = next(
        b
        for b in bodies
        if b["platforms"][0]["platformSpecificData"].get("title", "").startswith("Crunchy")
    )
    assert salad["publishNow"] is True and "scheduledFor" not in salad
    assert salad["platforms"][0]["platformSpecificData"]["dominantColor"] == "#7BA05B"
    assert salad["content"].startswith("Cucumber, radish")
    bedroom = next(b for b in bodies if "scheduledFor" in b)
    assert (bedroom["scheduledFor"], bedroom["timezone"]) == ("2027-03-01T09:00:00Z", "UTC")


def test_responses_match_the_document(
    configured: Path, pinops: Run, api: PostPeerEmulator, spec: Spec
) -> None:
    assert pinops("apply", "--yes").code == 0
    headers = {"x-access-key": ACCESS_KEY}
    with httpx.Client(base_url=api.base_url, headers=headers, timeout=5.0) as http:
        boards = http.get("/pinterest/boards", params={"accountId": ACCOUNT_ID})
        spec.check_response(boards.json(), "/v1/pinterest/boards", "get", 200)
        listing = http.get("/posts/", params={"platform": "pinterest", "limit": 100})
        spec.check_response(listing.json(), "/v1/posts/", "get", 200)
        post_id = state(configured)["summer-salad"]["post_id"]
        post = http.get(f"/posts/{post_id}")
        spec.check_response(post.json(), "/v1/posts/{postId}", "get", 200)
        missing = http.get("/posts/000000000000000000000000")
        assert missing.status_code == 404
        spec.check_response(missing.json(), "/v1/posts/{postId}", "get", 404)
        upload = http.post("/media/upload", json={"filename": "a.jpg", "mimeType": "image/jpeg"})
        spec.check_response(upload.json(), "/v1/media/upload", "post", 200)
        bad = http.post("/posts/", json={"content": "x", "platforms": [], "bogus": 1})
        assert bad.status_code == 400
        spec.check_response(bad.json(), "/v1/posts/", "post", 400)
        deleted = http.delete(f"/posts/{post_id}", params={"deleteFromPlatforms": "true"})
        spec.check_response(deleted.json(), "/v1/posts/{postId}", "delete", 200)
        unauthorized = httpx.get(f"{api.base_url}/posts/", headers={"x-access-key": "wrong"})
        assert unauthorized.status_code == 401
        spec.check(unauthorized.json(), "ErrorResponse")


def test_media_under_media_base_url_is_not_uploaded(
    configured: Path, pinops: Run, api: PostPeerEmulator
) -> None:
    point_repo_at(
        configured, "postpeer", api.base_url, ACCOUNT_ID, media_base_url="https://cdn.example.com/"
    )
    assert pinops("apply", "--yes").code == 0
    assert api.uploads == {} and not api.requests("POST", "/v1/media")
    urls = {body["mediaItems"][0]["url"] for body in creates(api)}
    assert "https://cdn.example.com/pins/media/salad.jpg" in urls


def test_a_changed_pin_is_replaced_and_the_old_pin_deleted(
    configured: Path, pinops: Run, api: PostPeerEmulator
) -> None:
    old, new = replaced(configured, pinops, *SALAD)
    assert new["pin_id"] != old["pin_id"]
    live = {entry["platformPostId"] for entry in api.live_pins()}
    assert new["pin_id"] in live and old["pin_id"] not in live
    (delete,) = api.requests("DELETE")
    assert delete.path == f"/v1/posts/{old['post_id']}"
    assert delete.query == {"deleteFromPlatforms": ["true"]}
    assert pinops("plan", "--detailed-exitcode").code == 0


def test_a_changed_scheduled_pin_replaces_its_scheduled_post(
    configured: Path, pinops: Run, api: PostPeerEmulator
) -> None:
    old, new = replaced(configured, pinops, *BEDROOM)
    assert old["status"] == "scheduled" and "pin_id" not in old
    assert new["status"] == "scheduled" and new["post_id"] != old["post_id"]
    (delete,) = api.requests("DELETE")
    assert delete.path == f"/v1/posts/{old['post_id']}"
    assert old["post_id"] not in api.posts and new["post_id"] in api.posts


def publish_bedroom_now(repo: Path) -> None:
    """Drop calm-bedroom's publish_at, so that every create publishes now."""
    edit(repo / "pins/home/living-spaces.yaml", "    publish_at: 2027-03-01T09:00:00Z", "")


def test_a_lost_create_response_is_found_in_the_listing_not_posted_twice(
    configured: Path, pinops: Run, api: PostPeerEmulator
) -> None:
    publish_bedroom_now(configured)
    api.faults.add(Fault(kind="lost_response", method="POST", path="/v1/posts"))
    first = pinops("apply", "--yes")
    assert first.code == 1
    assert "it may have been acted on" in first.err + first.out
    assert len(api.posts) == 9  # the service did publish the first one
    plan = pinops("plan")
    assert "= adopt" in plan.out, plan.out
    assert pinops("apply", "--yes").code == 0
    assert len(api.posts) == 9 and len(creates(api)) == 9
    assert sorted(state(configured)) == TARGETS
    assert all("intent" not in record for record in state(configured).values())


@pytest.mark.usefixtures("configured")
def test_a_lost_scheduled_create_is_left_for_a_person_naming_the_post(
    pinops: Run, api: PostPeerEmulator
) -> None:
    api.faults.add(Fault(kind="lost_response", method="POST", path="/v1/posts"))
    assert pinops("apply", "--yes").code == 1
    (post_id,) = [p for p, post in api.posts.items() if post["status"] == "scheduled"]
    plan = pinops("plan")
    assert "? unresolved calm-bedroom" in plan.out
    assert f"post {post_id} matches the pin: it was created, scheduled for" in plan.out
    assert pinops("apply", "--yes").code == 0
    assert len(api.posts) == 9  # nothing posted twice


def test_a_reset_before_the_service_acted_is_posted_again(
    configured: Path, pinops: Run, api: PostPeerEmulator
) -> None:
    api.faults.add(Fault(kind="reset", method="POST", path="/v1/posts"))
    assert pinops("apply", "--yes").code == 1
    assert len(api.posts) == 8
    plan = pinops("plan")
    assert "not on the board: it was never created" in plan.out, plan.out
    assert pinops("apply", "--yes").code == 0
    assert len(api.posts) == 9 and sorted(state(configured)) == TARGETS


def test_429_is_retried_and_a_5xx_create_is_never_resent(
    configured: Path, pinops: Run, api: PostPeerEmulator
) -> None:
    publish_bedroom_now(configured)
    api.faults.add(
        Fault(kind="status", status=429, method="POST", path="/v1/posts", retry_after=0.01)
    )
    api.faults.add(Fault(kind="status", status=500, method="POST", path="/v1/posts"))
    api.faults.add(
        Fault(kind="status", status=503, method="GET", path="/v1/posts/", retry_after=0.01)
    )
    result = pinops("apply", "--yes")
    # The 429 was retried; the 500 that answered the retry was not: a create without a key is
    # never sent twice. Status reads are retried.
    assert result.code == 1
    assert "PostPeer answered 500 to POST /posts/" in result.err + result.out
    posts = api.requests("POST", "/v1/posts")
    assert [r.fault.status if r.fault else 202 for r in posts] == [429, 500] + [202] * 8
    assert api.requests("GET", "/v1/posts/")[0].fault is not None
    assert len(api.posts) == 8
    # The next plan looks for the unanswered create in the listing: it never happened.
    assert "not on the board" in pinops("plan").out
    assert pinops("apply", "--yes").code == 0
    assert len(api.posts) == 9


def test_out_of_credits_is_a_clear_error(
    configured: Path, pinops: Run, api: PostPeerEmulator
) -> None:
    api.credits = 2
    result = pinops("apply", "--yes")
    assert result.code == 1
    text = result.out + result.err
    assert "PostPeer answered 402 to POST /posts/: Not enough credits" in text
    assert "add credits to the PostPeer project" in text
    assert len(state(configured)) == 2
    # The rest are not even tried: each would be refused alike.
    assert text.count(": failed: ") == 1 and "skipped (not attempted:" in text
    api.credits = 10
    assert pinops("apply", "--yes").code == 0
    assert len(state(configured)) == 9


def test_a_failed_publish_reports_the_reason_and_records_nothing(
    configured: Path, pinops: Run, api: PostPeerEmulator
) -> None:
    api.fail_next("Pinterest: the destination link is blocked as spam")
    result = pinops("apply", "--yes")
    assert result.code == 1
    assert "the destination link is blocked as spam" in result.out + result.err
    assert len(state(configured)) == 8
    assert pinops("apply", "--yes").code == 0
    assert len(state(configured)) == 9


def test_a_post_still_publishing_is_followed_by_later_plans(
    configured: Path, pinops: Run, api: PostPeerEmulator
) -> None:
    # Status reads fail while apply runs: the posts are recorded pending, with their post ids.
    api.publish_polls = 1
    api.faults.add(
        Fault(kind="status", status=503, method="GET", path="/v1/posts/", times=None, retry_after=0)
    )
    assert pinops("apply", "--yes").code == 0
    records = state(configured)
    pending = [key for key, record in records.items() if record["status"] == "pending"]
    assert len(pending) == 8 and all(records[key]["post_id"] for key in pending)
    api.faults.clear()
    assert "⏲ wait" in pinops("plan").out  # the first read still sees it publishing
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    assert all(record["status"] != "pending" for record in state(configured).values())
    assert len(api.posts) == 9 and len(creates(api)) == 9


def test_follow_reports_a_failure_and_the_pin_is_posted_again(
    configured: Path, pinops: Run, api: PostPeerEmulator
) -> None:
    api.publish_polls = 1
    api.fail_next("Pinterest rejected the image")
    api.faults.add(
        Fault(kind="status", status=503, method="GET", path="/v1/posts/", times=None, retry_after=0)
    )
    assert pinops("apply", "--yes").code == 0
    api.faults.clear()
    pinops("plan")  # the failing post is still publishing at this read
    plan = pinops("plan")
    assert "the service failed to publish it: Pinterest rejected the image" in plan.out, plan.out
    assert pinops("apply", "--yes").code == 0
    assert len(creates(api)) == 10
    assert all(record["status"] != "pending" for record in state(configured).values())


def test_create_waits_for_the_pin_then_leaves_it_pending(
    configured: Path, api: PostPeerEmulator
) -> None:
    api.publish_polls = 2
    content = PinContent(
        board_id=next(iter(api.accounts[ACCOUNT_ID])),
        title="Title",
        media=Media(kind="image", url="https://example.com/a.jpg"),
    )
    patient = provider(configured, publish_wait=5.0, poll_interval=0.01)
    published = patient.create(content, "k" * 32)
    assert published.status == "published" and published.pin_id
    impatient = provider(configured, publish_wait=0.0, poll_interval=0.01)
    pending = impatient.create(content, "k" * 32)
    assert pending.status == "pending" and pending.post_id and pending.pin_id is None
    assert impatient.follow(pending.post_id).status == "pending"
    assert impatient.follow(pending.post_id).pin_id
    patient.close()
    impatient.close()


def test_a_failure_seen_while_following_the_create_is_an_error(
    configured: Path, api: PostPeerEmulator
) -> None:
    api.publish_polls = 1
    api.fail_next("Pinterest: image too small")
    content = PinContent(
        board_id=next(iter(api.accounts[ACCOUNT_ID])),
        media=Media(kind="image", url="https://example.com/a.jpg"),
    )
    peer = provider(configured, publish_wait=5.0, poll_interval=0.01)
    with pytest.raises(ProviderRejected, match="could not publish the pin: Pinterest: image too"):
        peer.create(content, "k" * 32)
    peer.close()


def test_a_cover_frame_is_refused_at_plan_time_but_the_first_frame_is_taken(
    configured: Path, pinops: Run
) -> None:
    pasta = configured / "pins/recipes/pasta.yaml"
    edit(pasta, "cover: ../media/pasta-howto-cover.jpg", "cover_frame: 2")
    result = pinops("plan")
    assert result.code == 1
    assert re.search(
        r"pins/recipes/pasta\.yaml:\d+:\d+: error: PostPeer \(account 'main'\) has no field "
        r"for cover_frame: Pinterest would take the video's first frame as its cover instead "
        r"\(remove cover_frame: and start the video with the frame it should show\)",
        result.err,
    )
    edit(pasta, "cover_frame: 2", "cover_frame: 0")
    assert pinops("plan").code == 0


def test_an_unknown_board_is_planned_by_name_and_stops_apply_before_publishing(
    configured: Path, pinops: Run, api: PostPeerEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(configured / "pins/home/living-spaces.yaml", "board: Home Decor", "board: Home Dekor")
    monkeypatch.delenv("POSTPEER_API_KEY")  # a pull request's plan has no credentials
    planned = pinops("plan", "--format", "markdown")
    assert planned.code == 0, planned.err
    assert "on <b>Home Dekor</b>" in planned.out
    monkeypatch.setenv("POSTPEER_API_KEY", ACCESS_KEY)
    result = pinops("apply", "--yes")
    assert result.code == 1
    assert result.err == (
        "pins/home/living-spaces.yaml:3:10: error: board 'Home Dekor' does not exist in account "
        "'main' (pin 'calm-bedroom'); nothing was published (did you mean 'Home Decor'? "
        "boards there: Home Decor, Recipes, Weeknight Dinners)\n"
    )
    assert not api.writes()


def test_a_gif_is_refused_at_plan_time(configured: Path, pinops: Run) -> None:
    write_gif(configured / "pins/media/salad.gif", 600, 900)
    edit(configured / "pins/recipes/summer-salad.yaml", "../media/salad.jpg", "../media/salad.gif")
    result = pinops("validate")
    assert result.code == 1
    assert "pins/recipes/summer-salad.yaml:" in result.out + result.err
    assert "GIF" in result.out + result.err
