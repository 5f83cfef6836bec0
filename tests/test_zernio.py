"""Zernio over real HTTP: the example repository published through a strict emulator of its API,
request and response bodies checked against Zernio's own OpenAPI 3.1 document."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.errors import OutcomeUnknown, ProviderRejected
from reconciler.providers.base import Media, PinContent
from reconciler.providers.http import Retry
from reconciler.providers.zernio import ZernioProvider
from tests.conftest import (
    SALAD,
    TARGETS,
    Run,
    edit,
    replaced,
    state,
)
from tests.emulators.openapi import REFERENCE, Spec
from tests.emulators.posting import point_repo_at
from tests.emulators.server import Fault
from tests.emulators.zernio import ACCOUNT_ID, API_KEY, ZernioEmulator

SERVICE = "zernio"
CONNECTION = {"retry": Retry(attempts=1)}  # no retries unless a test asks for them
POSTS = "/api/v1/posts"
CDN = "https://cdn.example.com/"
# The 401 and 404 answers are shared components of the document.
NOT_FOUND = "/components/responses/NotFound/content/application~1json/schema"
UNAUTHORIZED = "/components/responses/Unauthorized/content/application~1json/schema"


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec(REFERENCE / "zernio" / "openapi.json")


def creates(api: ZernioEmulator) -> list[dict[str, Any]]:
    return [request.json for request in api.requests("POST", POSTS) if not request.fault]


Make = Callable[..., ZernioProvider]


def pin(api: ZernioEmulator, **fields: Any) -> PinContent:
    board = next(iter(api.accounts[ACCOUNT_ID]))
    media = Media(kind="image", url="https://example.com/a.jpg")
    return PinContent(**{"board_id": board, "title": "Title", "media": media, **fields})


def check_create(body: dict[str, Any], spec: Spec) -> None:
    """A createPost body, valid against the document. `platformSpecificData` is a oneOf of
    fifteen platforms' schemas with no discriminator (a Pinterest object matches several), so
    it is checked against PinterestPlatformData on its own."""
    (target,) = body["platforms"]
    data = target["platformSpecificData"]
    spec.check(data, "PinterestPlatformData")
    spec.check_fields(data, "PinterestPlatformData")
    for item in body["mediaItems"]:
        spec.check(item, "MediaItem")
        spec.check_fields(item, "MediaItem")
    bare = {**body, "platforms": [{k: v for k, v in target.items() if k != "platformSpecificData"}]}
    spec.check_request(bare, "/v1/posts", "post")


def check_answer(body: dict[str, Any], spec: Spec, path: str, method: str, status: int) -> None:
    """An answer carrying posts, valid against the document, platformSpecificData apart (see
    check_create)."""
    bare = json.loads(json.dumps(body))
    for post in [bare.get("post"), *bare.get("posts", [])]:
        for target in (post or {}).get("platforms", []):
            data = target.pop("platformSpecificData", {})
            spec.check(data, "PinterestPlatformData")
            spec.check_fields(data, "PinterestPlatformData")
    spec.check_response(bare, path, method, status)


def test_apply_publishes_the_example(
    configured: Path, pinops: Run, api: ZernioEmulator, spec: Spec
) -> None:
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    assert "Plan: 9 to create" in result.out
    records = state(configured)
    assert sorted(records) == TARGETS
    assert {records[k]["pin_id"] for k in TARGETS if k != "calm-bedroom"} == set(api.pins)
    assert records["summer-salad"]["url"].startswith("https://www.pinterest.com/pin/")
    scheduled = records["calm-bedroom"]
    assert scheduled["status"] == "scheduled" and "pin_id" not in scheduled
    assert api.posts[scheduled["post_id"]]["scheduledFor"] == "2027-03-01T09:00:00.000Z"
    bodies = creates(api)
    for body in bodies:
        check_create(body, spec)
    # Every create publishes now or is scheduled: Zernio would save a post with neither as a
    # draft. Each carries a UUID x-request-id, its own for every pin.
    assert all(b.get("publishNow") is True or "scheduledFor" in b for b in bodies)
    ids = [r.headers["x-request-id"] for r in api.requests("POST", POSTS)]
    assert len(set(ids)) == 9 and all(str(uuid.UUID(rid)) == rid for rid in ids)
    bedroom = next(b for b in bodies if "scheduledFor" in b)
    assert (bedroom["scheduledFor"], bedroom["timezone"]) == ("2027-03-01T09:00:00Z", "UTC")
    assert "publishNow" not in bedroom
    salad = next(b for b in bodies if b["content"].startswith("Cucumber"))
    data = salad["platforms"][0]["platformSpecificData"]
    assert data["title"] == "Crunchy Summer Salad with Lemon Dressing"
    assert data["link"] == "https://example.com/recipes/summer-salad"
    assert data["boardId"] == records["summer-salad"]["board_id"]
    assert salad["mediaItems"][0]["altText"].startswith("A white bowl")
    video = next(b for b in bodies if b["mediaItems"][0]["type"] == "video")
    assert video["platforms"][0]["platformSpecificData"]["coverImageUrl"] in api.uploads
    # Media went up presigned, without the API key, one copy per pin (the two easy-pasta pins
    # would otherwise be one post to Zernio's duplicate check).
    assert len(api.uploads) == 10
    assert all("authorization" not in r.headers for r in api.requests("PUT", "/_uploads/"))


def test_responses_match_the_document(
    configured: Path, pinops: Run, api: ZernioEmulator, spec: Spec
) -> None:
    assert pinops("apply", "--yes").code == 0
    records = state(configured)
    with httpx.Client(
        base_url=api.base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5.0
    ) as http:
        boards = http.get(f"/v1/accounts/{ACCOUNT_ID}/pinterest-boards")
        spec.check_response(boards.json(), "/v1/accounts/{accountId}/pinterest-boards", "get", 200)
        listing = http.get("/v1/posts", params={"accountId": ACCOUNT_ID, "limit": 100})
        check_answer(listing.json(), spec, "/v1/posts", "get", 200)
        post_id = records["summer-salad"]["post_id"]
        post = http.get(f"/v1/posts/{post_id}")
        check_answer(post.json(), spec, "/v1/posts/{postId}", "get", 200)
        missing = http.get("/v1/posts/000000000000000000000000")
        assert missing.status_code == 404
        assert spec.errors(missing.json(), NOT_FOUND) == []
        presign = http.post(
            "/v1/media/presign", json={"filename": "a.jpg", "contentType": "image/jpeg"}
        )
        spec.check_response(presign.json(), "/v1/media/presign", "post", 200)
        bad = http.post("/v1/media/presign", json={"filename": "a.bmp", "contentType": "image/bmp"})
        assert bad.status_code == 400
        spec.check_response(bad.json(), "/v1/media/presign", "post", 400)
        # A create answers 201 {message, post}; the same x-request-id again 200 {existingPost}.
        body = {
            "content": "Straight from the API",
            "mediaItems": [{"type": "image", "url": "https://example.com/x.jpg"}],
            "platforms": [{"platform": "pinterest", "accountId": ACCOUNT_ID}],
            "publishNow": True,
        }
        headers = {"x-request-id": str(uuid.uuid4())}
        created = http.post("/v1/posts", json=body, headers=headers)
        assert created.status_code == 201
        check_answer(created.json(), spec, "/v1/posts", "post", 201)
        replayed = http.post("/v1/posts", json=body, headers=headers)
        assert replayed.status_code == 200
        check_answer(
            {"post": replayed.json()["existingPost"]}, spec, "/v1/posts/{postId}", "get", 200
        )
        assert replayed.json()["existingPost"]["_id"] == created.json()["post"]["_id"]
        duplicate = http.post("/v1/posts", json=body)
        assert duplicate.status_code == 409
        spec.check_response(duplicate.json(), "/v1/posts", "post", 409)
        assert duplicate.json()["details"]["existingPostId"] == created.json()["post"]["_id"]
        invalid = http.post("/v1/posts", json={**body, "publish_now": True})
        assert invalid.status_code == 400
        spec.check_response(invalid.json(), "/v1/posts", "post", 400)
        unpublished = http.post(f"/v1/posts/{post_id}/unpublish", json={"platform": "pinterest"})
        spec.check_response(unpublished.json(), "/v1/posts/{postId}/unpublish", "post", 200)
        again = http.post(f"/v1/posts/{post_id}/unpublish", json={"platform": "pinterest"})
        assert again.status_code == 400
        spec.check(again.json(), "ErrorResponse")
        scheduled = records["calm-bedroom"]["post_id"]
        deleted = http.delete(f"/v1/posts/{scheduled}")
        spec.check_response(deleted.json(), "/v1/posts/{postId}", "delete", 200)
    unauthorized = httpx.get(f"{api.base_url}/v1/posts", headers={"Authorization": "Bearer no"})
    assert unauthorized.status_code == 401
    assert spec.errors(unauthorized.json(), UNAUTHORIZED) == []


def test_a_post_without_timing_is_a_draft(api: ZernioEmulator) -> None:
    body = {
        "content": "No timing",
        "mediaItems": [{"type": "image", "url": "https://example.com/x.jpg"}],
        "platforms": [{"platform": "pinterest", "accountId": ACCOUNT_ID}],
    }
    headers = {"Authorization": f"Bearer {API_KEY}"}
    answer = httpx.post(f"{api.base_url}/v1/posts", json=body, headers=headers)
    assert answer.status_code == 201
    assert answer.json()["post"]["status"] == "draft"
    assert api.pins == {}


def test_media_under_media_base_url_is_not_uploaded_and_duplicates_are_named(
    configured: Path, pinops: Run, api: ZernioEmulator
) -> None:
    point_repo_at(configured, "zernio", api.base_url, ACCOUNT_ID, media_base_url=CDN)
    result = pinops("apply", "--yes")
    assert api.uploads == {} and not api.requests("POST", "/api/v1/media")
    urls = {body["mediaItems"][0]["url"].split("#")[0] for body in creates(api)}
    assert f"{CDN}pins/media/salad.jpg" in urls
    # The same description and image on a second board is no duplicate to Zernio's 24-hour
    # check: the URL's fragment (never fetched) names each pin's content.
    assert result.code == 0, result.out
    assert sorted(state(configured)) == TARGETS


def test_a_title_only_change_under_media_base_url_is_published(
    configured: Path, pinops: Run, api: ZernioEmulator
) -> None:
    point_repo_at(configured, "zernio", api.base_url, ACCOUNT_ID, media_base_url=CDN)
    assert pinops("apply", "--yes").code == 0
    old = state(configured)["summer-salad"]
    edit(configured / "pins/recipes/summer-salad.yaml", "Crunchy Summer", "Crisp Summer")
    result = pinops("apply", "--yes")
    assert result.code == 0, result.out
    new = state(configured)["summer-salad"]
    assert new["pin_id"] in api.pins and old["pin_id"] not in api.pins
    first, second = (
        body["mediaItems"][0]["url"]
        for body in creates(api)
        if "mediaItems" in body
        and body["mediaItems"][0]["url"].startswith(f"{CDN}pins/media/salad.jpg")
    )
    assert first.split("#")[0] == second.split("#")[0] and first != second
    assert pinops("plan", "--detailed-exitcode").code == 0


def test_a_changed_pin_is_replaced_and_the_old_pin_unpublished(
    configured: Path, pinops: Run, api: ZernioEmulator
) -> None:
    old, new = replaced(configured, pinops, *SALAD)
    assert new["pin_id"] != old["pin_id"]
    assert new["pin_id"] in api.pins and old["pin_id"] not in api.pins
    (unpublish,) = api.requests("POST", f"{POSTS}/{old['post_id']}/unpublish")
    assert unpublish.json == {"platform": "pinterest"}
    assert api.posts[old["post_id"]]["status"] == "cancelled"
    assert pinops("plan", "--detailed-exitcode").code == 0


def test_an_unpublish_zernio_refuses_is_said_and_the_old_pin_recorded_as_left(
    configured: Path, pinops: Run, api: ZernioEmulator
) -> None:
    """Zernio's page says pins cannot be deleted through it; its unpublish mostly can. When it
    refuses, the old pin stays on Pinterest: the run says where and how to remove it, and the
    state records it instead of trying again on every run."""
    assert pinops("apply", "--yes").code == 0
    old = state(configured)["summer-salad"]
    edit(configured / "pins/recipes/summer-salad.yaml", "Crunchy Summer", "Crisp Summer")
    refused = {"error": "Pinterest refused the deletion"}
    path = f"{POSTS}/{old['post_id']}/unpublish"
    api.faults.add(Fault(kind="status", status=400, method="POST", path=path, body=refused))
    result = pinops("apply", "--yes")
    assert result.code == 1
    assert (
        f"Zernio refused to unpublish pin {old['pin_id']} (Pinterest refused the deletion): the "
        f"pin remains on Pinterest at {old['url']}; the state records it under `left` of "
        "summer-salad (delete it there yourself: open the pin, then ⋯ → Delete Pin)"
    ) in result.out
    new = state(configured)["summer-salad"]
    assert new["left"] == [old["pin_id"]] and "replaced" not in new and "intent" not in new
    assert old["pin_id"] in api.pins
    assert pinops("plan", "--detailed-exitcode").code == 0


def test_a_removed_pin_zernio_will_not_unpublish_stays_recorded_with_the_way_out(
    configured: Path, pinops: Run, api: ZernioEmulator
) -> None:
    assert pinops("apply", "--yes").code == 0
    old = state(configured)["summer-salad"]
    edit(
        configured / "pins/recipes/summer-salad.yaml",
        "id: summer-salad",
        "id: summer-salad\nstate: absent",
    )
    path = f"{POSTS}/{old['post_id']}/unpublish"
    api.faults.add(Fault(kind="status", status=400, method="POST", path=path, body={"error": "No"}))
    result = pinops("apply", "--yes")
    assert result.code == 1
    assert "the pin remains on Pinterest" in result.out
    assert "then `pinops state forget summer-salad`" in result.out
    assert "intent" not in state(configured)["summer-salad"]


def test_a_pin_deleted_on_pinterest_is_published_again(
    configured: Path, pinops: Run, api: ZernioEmulator
) -> None:
    assert pinops("apply", "--yes").code == 0
    gone = state(configured)["cozy-living-room"]["pin_id"]
    api.remove_on_pinterest(gone)
    plan = pinops("plan", "--refresh")
    assert "deleted outside pinops" in plan.out, plan.out
    assert pinops("apply", "--yes", "--refresh").code == 0
    assert state(configured)["cozy-living-room"]["pin_id"] in api.pins


def test_a_lost_create_response_is_replayed_by_its_request_id(
    configured: Path, pinops: Run, api: ZernioEmulator
) -> None:
    api.faults.add(Fault(kind="lost_response", method="POST", path=POSTS))
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    posts = api.requests("POST", POSTS)
    assert posts[0].fault is not None
    assert posts[1].headers["x-request-id"] == posts[0].headers["x-request-id"]
    assert len(api.posts) == 9 and sorted(state(configured)) == TARGETS


def test_an_unanswered_create_is_replayed_or_taken_from_the_duplicate_check(
    make: Make, api: ZernioEmulator
) -> None:
    api.faults.add(Fault(kind="lost_response", method="POST", path=POSTS))
    content = pin(api, link="https://example.com/lost")
    zern = make()
    with pytest.raises(OutcomeUnknown):
        zern.create(content, "a" * 32)
    replayed = zern.create(content, "a" * 32)  # within the x-request-id window
    assert replayed.pin_id in api.pins and len(api.posts) == 1
    # Past the window, the same description and media is a 409 naming this very post.
    api.request_id_window = 0.0
    adopted = zern.create(content, "a" * 32)
    assert adopted == replayed and len(api.posts) == 1
    assert api.requests("POST", POSTS)[-1].fault is None
    # A different pin with the same description and media is a post of its own: the media
    # URL's fragment (never fetched) names the pin's content.
    other = zern.create(pin(api, link="https://example.com/other"), "b" * 32)
    assert other.pin_id in api.pins and other.pin_id != replayed.pin_id
    # A 409 naming a post that is not this pin is refused, not taken.
    details = {"accountId": ACCOUNT_ID, "platform": "pinterest", "existingPostId": other.post_id}
    api.faults.add(
        Fault(kind="status", status=409, method="POST", path=POSTS, body={"details": details})
    )
    with pytest.raises(ProviderRejected, match="duplicate of post"):
        zern.create(pin(api, link="https://example.com/third"), "c" * 32)


def test_a_post_still_publishing_is_followed(make: Make, api: ZernioEmulator) -> None:
    api.publish_polls = 2
    patient = make(publish_wait=5.0, poll_interval=0.01)
    assert patient.create(pin(api, title="Patient"), "d" * 32).status == "published"
    api.publish_polls = 3  # the create's own status read is one of them
    impatient = make(publish_wait=0.0)
    pending = impatient.create(pin(api, title="Impatient", description="Other"), "e" * 32)
    assert pending.status == "pending" and pending.post_id and pending.pin_id is None
    assert impatient.follow(pending.post_id).status == "pending"
    assert impatient.follow(pending.post_id).pin_id in api.pins


def test_a_scheduled_post_is_followed_once_published(make: Make, api: ZernioEmulator) -> None:
    zern = make()
    later = datetime.now(UTC) + timedelta(days=3)
    scheduled = zern.create(pin(api, publish_at=later), "f" * 32)
    assert scheduled.status == "scheduled" and scheduled.post_id
    assert zern.follow(scheduled.post_id).status == "scheduled"
    # A post not yet published is deleted outright, named by its post id.
    cancelled = zern.create(pin(api, publish_at=later, description="Other"), "0" * 32)
    assert cancelled.post_id is not None
    zern.delete(cancelled.post_id)
    assert cancelled.post_id not in api.posts
    api.publish_scheduled()
    published = zern.follow(scheduled.post_id)
    assert published.status == "published" and published.pin_id in api.pins
    assert zern.follow(cancelled.post_id).reason == "post deleted"


def test_a_failed_publish_reports_the_reason_and_records_nothing(
    configured: Path, pinops: Run, api: ZernioEmulator
) -> None:
    api.fail_next("Pinterest rejected the image: too small")
    result = pinops("apply", "--yes")
    assert result.code == 1
    assert "Zernio could not publish the pin: Pinterest rejected the image: too small" in (
        result.out + result.err
    )
    assert len(state(configured)) == 8
    # Within the x-request-id window Zernio replays the failed post: it is posted anew.
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    assert sorted(state(configured)) == TARGETS


@pytest.mark.usefixtures("configured")
def test_25_pins_a_day_is_a_clear_rate_limit(pinops: Run, api: ZernioEmulator) -> None:
    api.daily_limit = 3
    result = pinops("apply", "--yes")
    assert result.code == 1
    text = result.out + result.err
    assert "Zernio answered 429 to POST /v1/posts: Daily limit reached" in text
    assert "at most 25 pins a day" in text
    # Refused at once: the wait Zernio asks for is a day, not retried in-process.
    assert len(api.requests("POST", POSTS)) == 5
    assert len(api.pins) == 3


@pytest.mark.usefixtures("configured")
def test_429_and_5xx_are_retried_under_the_same_request_id(
    pinops: Run, api: ZernioEmulator
) -> None:
    api.faults.add(Fault(kind="status", status=429, method="POST", path=POSTS, retry_after=0.01))
    api.faults.add(Fault(kind="status", status=502, method="POST", path=POSTS, retry_after=0.01))
    api.faults.add(
        Fault(kind="status", status=503, method="GET", path="/api/v1/accounts", retry_after=0.01)
    )
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    posts = api.requests("POST", POSTS)
    assert [r.fault.status if r.fault else 201 for r in posts[:3]] == [429, 502, 201]
    assert len({r.headers["x-request-id"] for r in posts[:3]}) == 1
    assert len(api.posts) == 9


def test_an_account_not_of_this_key_stops_the_run(
    configured: Path, pinops: Run, api: ZernioEmulator
) -> None:
    assert pinops("apply", "--yes").code == 0
    path = configured / "pinops.state.json"
    data = json.loads(path.read_text())
    del data["pins"]["summer-salad"], data["pins"]["cozy-living-room"]
    path.write_text(json.dumps(data))
    del api.accounts[ACCOUNT_ID]  # disconnected, or never this key's
    api.request_id_window = 0.0  # long after: no replay of the first posts
    result = pinops("apply", "--yes")
    assert result.code == 1
    text = result.out + result.err
    assert f"Zernio answered 403 to POST /v1/posts: Account {ACCOUNT_ID} does not belong" in text
    assert "not one of this API key's accounts" in text
    assert "not attempted" in text
    assert len(api.requests("POST", POSTS)) == 10  # the second pin was not sent


def test_limits_are_reported_at_plan_time_with_file_and_line(configured: Path, pinops: Run) -> None:
    edit(configured / "pins/recipes/summer-salad.yaml", "title: Crunchy", "title: " + "x" * 95)
    result = pinops("plan")
    assert result.code == 1
    found = re.search(
        r"pins/recipes/summer-salad\.yaml:\d+:\d+: error: title is (\d+) characters; "
        r"the limit is 100",
        result.err,
    )
    assert found and int(found[1]) > 100
