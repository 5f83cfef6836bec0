"""Postproxy over real HTTP: the example repository published through a strict emulator of the
contract in shared/reference/postproxy (Postproxy publishes no OpenAPI document)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.errors import ProviderRejected
from reconciler.providers.base import Media, PinContent
from reconciler.providers.postproxy import PostproxyProvider
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
from tests.emulators.posting import form_parts, point_repo_at
from tests.emulators.postproxy import API_KEY, PROFILE_ID, PostproxyEmulator
from tests.emulators.server import Fault

SERVICE = "postproxy"
CDN = "https://cdn.example.com/"
# The fields Postproxy documents for a create, and for its Pinterest options.
POST_FIELDS = {"post", "profiles", "media", "platforms"}
PINTEREST_FIELDS = {"format", "board_id", "title", "destination_link", "cover_url", "thumb_offset"}


def provider(repo: Path, **settings: Any) -> PostproxyProvider:
    return open_main(repo, PostproxyProvider, **settings)


def url_pin(api: PostproxyEmulator, **fields: Any) -> PinContent:
    defaults: dict[str, Any] = {
        "board_id": next(iter(api.placements[PROFILE_ID])),
        "title": "Title",
        "link": "https://example.com/page",
        "media": Media(kind="image", url="https://example.com/a.jpg"),
    }
    return PinContent(**(defaults | fields))


def test_apply_uploads_the_files_in_multipart_creates(
    configured: Path, pinops: Run, api: PostproxyEmulator
) -> None:
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    assert sorted(state(configured)) == TARGETS
    records = state(configured)
    live = {entry["post_id"] for entry in api.live_pins()}
    assert {records[key]["pin_id"] for key in TARGETS if key != "calm-bedroom"} == live
    assert records["calm-bedroom"]["status"] == "scheduled"
    assert api.posts[records["calm-bedroom"]["post_id"]]["scheduled_at"] == "2027-03-01T09:00:00Z"
    creates = api.requests("POST", "/api/posts")
    assert len(creates) == 9
    for request in creates:
        key = request.headers["idempotency-key"]
        assert len(key) == 32 and request.content_type == "multipart/form-data"
        assert f"boundary=pinops-{key}" in request.headers["content-type"]
    video = next(p for p in api.posts.values() if p["media"][0]["content_type"] == "video/mp4")
    assert len(api.files) == 10  # every medium once per create, and the video's cover
    assert video["platforms"][0]["params"]["format"] == "pin"
    parts = {part.name for part in form_parts(creates[0]) or []}
    assert {"post[body]", "profiles[]", "media[]", "platforms[pinterest][board_id]"} <= parts


def test_media_under_media_base_url_is_sent_as_urls_in_json(
    configured: Path, pinops: Run, api: PostproxyEmulator
) -> None:
    point_repo_at(configured, "postproxy", api.base_url, PROFILE_ID, media_base_url=CDN)
    assert pinops("apply", "--yes").code == 0
    bodies = [request.json for request in api.requests("POST", "/api/posts")]
    for body in bodies:
        assert set(body) == POST_FIELDS and body["profiles"] == [PROFILE_ID]
        assert set(body["platforms"]) == {"pinterest"}
        assert set(body["platforms"]["pinterest"]) <= PINTEREST_FIELDS
    salad = next(b for b in bodies if b["media"] == [CDN + "pins/media/salad.jpg"])
    assert salad["post"] == {"body": salad["post"]["body"]} and "scheduled_at" not in salad["post"]
    assert salad["platforms"]["pinterest"]["destination_link"] == (
        "https://example.com/recipes/summer-salad"
    )
    video = next(b for b in bodies if b["media"] == [CDN + "pins/media/pasta-howto.mp4"])
    assert video["platforms"]["pinterest"]["cover_url"] == CDN + "pins/media/pasta-howto-cover.jpg"
    assert api.files == {}


def test_a_changed_pin_is_replaced_and_the_old_pin_deleted(
    configured: Path, pinops: Run, api: PostproxyEmulator
) -> None:
    old, new = replaced(configured, pinops, *SALAD)
    live = {entry["post_id"] for entry in api.live_pins()}
    assert new["pin_id"] in live and old["pin_id"] not in live
    (delete,) = api.requests("DELETE")
    assert delete.path == f"/api/posts/{old['post_id']}"
    assert delete.query == {"delete_on_platform": ["true"]}
    assert pinops("plan", "--detailed-exitcode").code == 0


def test_a_changed_scheduled_pin_replaces_its_scheduled_post(
    configured: Path, pinops: Run, api: PostproxyEmulator
) -> None:
    old, new = replaced(configured, pinops, *BEDROOM)
    assert old["status"] == "scheduled" and "pin_id" not in old
    assert new["status"] == "scheduled" and new["post_id"] != old["post_id"]
    (delete,) = api.requests("DELETE")
    assert delete.path == f"/api/posts/{old['post_id']}"
    assert old["post_id"] not in api.posts and new["post_id"] in api.posts


@pytest.mark.usefixtures("configured")
def test_a_lost_response_is_replayed_by_its_idempotency_key(
    pinops: Run, api: PostproxyEmulator
) -> None:
    api.faults.add(Fault(kind="lost_response", method="POST", path="/api/posts"))
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    first, second = api.requests("POST", "/api/posts")[:2]
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first.body == second.body  # byte for byte: the multipart boundary is the key's
    assert len(api.posts) == 9


def test_a_create_that_kept_failing_is_replayed_by_the_next_run(
    configured: Path, pinops: Run, api: PostproxyEmulator
) -> None:
    api.faults.add(Fault(kind="lost_response", method="POST", path="/api/posts"))
    api.faults.add(
        Fault(kind="status", status=503, method="POST", path="/api/posts", times=3, retry_after=0)
    )
    first = pinops("apply", "--yes")
    assert first.code == 1
    assert "Postproxy answered 503 to POST /posts" in first.out + first.err
    assert len(api.posts) == 9  # the lost one was created; its answer never arrived
    assert pinops("apply", "--yes").code == 0
    assert len(api.posts) == 9 and sorted(state(configured)) == TARGETS
    replayed = api.requests("POST", "/api/posts")[-1]
    assert (
        replayed.headers["idempotency-key"]
        == api.requests("POST", "/api/posts")[0].headers["idempotency-key"]
    )


@pytest.mark.usefixtures("configured")
def test_429_and_an_in_flight_key_are_waited_out(pinops: Run, api: PostproxyEmulator) -> None:
    api.faults.add(
        Fault(kind="status", status=429, method="POST", path="/api/posts", retry_after=0.01)
    )
    in_flight = {"error": "A request with this Idempotency-Key is being processed"}
    api.faults.add(
        Fault(
            kind="status",
            status=409,
            method="POST",
            path="/api/posts",
            body=in_flight,
            retry_after=0.01,
        )
    )
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    assert len(api.posts) == 9
    statuses = [r.fault.status if r.fault else 200 for r in api.requests("POST", "/api/posts")]
    assert statuses[:3] == [429, 409, 200]


def test_rate_limit_and_validation_errors_read_clearly(
    configured: Path, api: PostproxyEmulator
) -> None:
    proxy = provider(configured)
    api.faults.add(Fault(kind="status", status=429, method="POST", times=None, retry_after=0))
    with pytest.raises(Exception, match="answered 429 to POST /posts: Posting rate limit reached"):
        proxy.create(url_pin(api), "a" * 32)
    api.faults.clear()
    with pytest.raises(ProviderRejected, match=r"answered 422 .* is not a placement"):
        proxy.create(url_pin(api, board_id="1"), "b" * 32)
    with pytest.raises(ProviderRejected, match="takes one jpg, gif, png or webp image"):
        proxy.create(url_pin(api, media=Media(kind="image", url="https://e.com/a.txt")), "c" * 32)
    proxy.close()


def test_a_description_over_500_is_refused_at_plan_time(configured: Path, pinops: Run) -> None:
    path = configured / "pins/recipes/summer-salad.yaml"
    edit(path, "A side for every barbecue.", "A side for every barbecue. " + "x" * 450)
    result = pinops("validate")
    assert result.code == 1
    assert re.search(
        r"pins/recipes/summer-salad\.yaml:\d+:\d+: error: description is \d+ characters; "
        r"Postproxy takes at most 500",
        result.err,
    )


def test_a_duplicate_takes_the_existing_post(configured: Path) -> None:
    with PostproxyEmulator(duplicate_window=3600) as api:
        api.add_board("Recipes")
        point_repo_at(configured, "postproxy", api.base_url, PROFILE_ID)
        proxy = provider(configured)
        first = proxy.create(url_pin(api), "a" * 32)
        again = proxy.create(url_pin(api), "b" * 32)
        assert again == first and len(api.posts) == 1
        proxy.close()


def test_a_failed_publish_reports_the_platform_error_and_a_later_run_posts_again(
    configured: Path, pinops: Run, api: PostproxyEmulator
) -> None:
    api.fail_next("Your Pin could not be created: board is archived")
    result = pinops("apply", "--yes")
    assert result.code == 1
    assert "Postproxy could not publish the pin: Your Pin could not be created" in result.out
    assert len(state(configured)) == 8
    # The next run posts it again under a key of its own: a failed post is never replayed.
    assert pinops("apply", "--yes").code == 0
    assert len(state(configured)) == 9 and len(api.posts) == 10
    keys = [r.headers["idempotency-key"] for r in api.requests("POST", "/api/posts")]
    assert keys[-1] != keys[-2]
    assert "No changes" in pinops("apply", "--yes").out


def test_a_post_still_publishing_is_followed_by_later_plans(
    configured: Path, pinops: Run, api: PostproxyEmulator
) -> None:
    api.publish_polls = 1
    api.faults.add(
        Fault(
            kind="status", status=503, method="GET", path="/api/posts/", times=None, retry_after=0
        )
    )
    assert pinops("apply", "--yes").code == 0
    pending = [r for r in state(configured).values() if r["status"] == "pending"]
    assert len(pending) == 8 and all(r["post_id"] for r in pending)
    api.faults.clear()
    assert "⏲ wait" in pinops("plan").out
    assert pinops("apply", "--yes").code == 0
    assert all(r["status"] != "pending" for r in state(configured).values())
    assert len(api.posts) == 9


def test_create_waits_then_leaves_it_pending_and_sends_thumb_offset(
    configured: Path, api: PostproxyEmulator
) -> None:
    api.publish_polls = 2
    video = Media(kind="video", url="https://example.com/clip.mp4")
    content = url_pin(api, media=video, cover_frame=3.0)
    patient = provider(configured, publish_wait=5.0, poll_interval=0.01)
    assert patient.create(content, "a" * 32).status == "published"
    body = api.requests("POST", "/api/posts")[0].json
    assert body["platforms"]["pinterest"]["thumb_offset"] == 3
    impatient = provider(configured, publish_wait=0.0)
    pending = impatient.create(url_pin(api, title="Other"), "b" * 32)
    assert pending.status == "pending" and pending.pin_id is None and pending.post_id
    patient.close()
    impatient.close()


def test_the_emulator_refuses_what_postproxy_refuses(api: PostproxyEmulator) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    board = api.add_board("Strict")
    good = {
        "post": {"body": "Pin description"},
        "profiles": [PROFILE_ID],
        "media": ["https://example.com/pin.jpg"],
        "platforms": {"pinterest": {"format": "pin", "board_id": board, "title": "T"}},
    }
    with httpx.Client(base_url=api.base_url, headers=headers, timeout=5.0) as http:
        assert http.post("/posts", json=good).status_code == 200
        misspelt = json.loads(json.dumps(good))
        misspelt["platforms"]["pinterest"]["link"] = "https://example.com"
        answer = http.post("/posts", json=misspelt)
        assert answer.status_code == 400 and answer.json()["error"] == "Bad Request"
        long_body = good | {"post": {"body": "x" * 501}}
        answer = http.post("/posts", json=long_body)
        assert answer.status_code == 422 and "500 characters" in answer.json()["errors"][0]
        keyed = {"Idempotency-Key": "k1"}
        first = http.post("/posts", json=good | {"post": {"body": "keyed"}}, headers=keyed)
        replay = http.post("/posts", json=good | {"post": {"body": "keyed"}}, headers=keyed)
        assert replay.json() == first.json() and replay.headers["idempotent-replayed"] == "true"
        other = http.post("/posts", json=good | {"post": {"body": "other"}}, headers=keyed)
        assert other.status_code == 422
        assert http.get("/posts/nope").json() == {"error": "Not found"}
    unauthorized = httpx.get(f"{api.base_url}/profiles", headers={"Authorization": "Bearer x"})
    assert unauthorized.status_code == 401 and unauthorized.json() == {"error": "Invalid API key"}
