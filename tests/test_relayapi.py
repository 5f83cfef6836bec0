"""RelayAPI over real HTTP: the example repository published through a strict emulator of its API
(idempotency receipts included), request and response bodies checked against RelayAPI's own
OpenAPI document."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.errors import OutcomeUnknown, ProviderError, ProviderRejected
from reconciler.providers.base import Media, PinContent
from reconciler.providers.http import Retry
from reconciler.providers.relayapi import RelayAPIProvider
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
from tests.emulators.relayapi import ACCOUNT_ID, API_KEY, Receipt, RelayAPIEmulator
from tests.emulators.server import Fault
from tests.mediafiles import write_gif

SERVICE = "relayapi"
# calm-bedroom's publish_at is more than 30 days away: it waits.
PUBLISHED = [target for target in TARGETS if target != "calm-bedroom"]
# Quick polls, and no retries unless a test asks for them.
CONNECTION = {"retry": Retry(attempts=1, backoff=0.01), "publish_wait": 5.0, "poll_interval": 0.01}
POSTS = "/v1/posts"
CDN = "https://cdn.example.com/"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
UNPUBLISHED = (
    "/paths/~1v1~1posts~1{id}~1unpublish/post/responses/200/content/application~1json/schema"
)


@pytest.fixture(scope="module")
def spec() -> Spec:
    # The document says 3.1.0 but writes OpenAPI 3.0 schemas (`nullable`).
    return Spec(REFERENCE / "relayapi" / "openapi.json", dialect="3.0")


Make = Callable[..., RelayAPIProvider]


def creates(api: RelayAPIEmulator) -> list[dict[str, Any]]:
    return [request.json for request in api.requests("POST", POSTS) if not request.fault]


def pin(api: RelayAPIEmulator, repo: Path | None = None, **fields: Any) -> PinContent:
    """A pin on the first board; its image a repository file (uploaded) when `repo` is given."""
    board = next(iter(api.accounts[ACCOUNT_ID]))
    if repo is None:
        media = Media(kind="image", url="https://example.com/a.jpg")
    else:
        path = repo / "pins/media/salad.jpg"
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        media = Media(kind="image", path=path, content_type="image/jpeg", sha256=digest)
    return PinContent(**{"board_id": board, "title": "Title", "media": media, **fields})


def test_apply_publishes_the_example_and_a_rerun_sends_no_write(
    configured: Path, pinops: Run, api: RelayAPIEmulator, spec: Spec
) -> None:
    result = pinops("apply", "--yes", "--show-plan")
    assert result.code == 0, result.err
    # calm-bedroom's publish_at is more than 30 days away: RelayAPI would refuse the schedule.
    assert "Plan: 8 to create" in result.out and "⏲ wait calm-bedroom" in result.out
    records = state(configured)
    assert sorted(records) == PUBLISHED
    assert {records[key]["pin_id"] for key in PUBLISHED} == set(api.pins)
    assert records["summer-salad"]["url"].startswith("https://www.pinterest.com/pin/")
    assert records["summer-salad"]["post_id"] in api.posts
    bodies = creates(api)
    for body in bodies:
        spec.check_request(body, "/v1/posts", "post")
        spec.check_fields(body["target_options"]["pinterest"], "PinterestTargetOptions")
        spec.check_fields(body["media"][0], "PostMediaItem")
        # One account by id: the bare platform name would post to every Pinterest account.
        assert body["targets"] == [ACCOUNT_ID] and body["scheduled_at"] == "now"
    salad = next(b for b in bodies if b["content"].startswith("Cucumber"))
    options = salad["target_options"]["pinterest"]
    assert options["title"] == "Crunchy Summer Salad with Lemon Dressing"
    assert options["board_id"] == records["summer-salad"]["board_id"]
    assert options["link"] == "https://example.com/recipes/summer-salad"
    assert options["alt_text"] == salad["media"][0]["alt_text"]
    video = next(b for b in bodies if b["media"][0]["type"] == "video")
    cover = video["target_options"]["pinterest"]["cover_image_url"]
    # Media went up presigned, were confirmed, and are used by their reference_url.
    references = {m["reference_url"] for m in api.media.values()}
    assert cover in references and all(b["media"][0]["url"] in references for b in bodies)
    assert len(api.uploads) == 9  # one copy per pin: uploads are keyed by each pin's create
    puts = api.requests("PUT", "/_r2/")
    assert all("authorization" not in r.headers and r.headers["if-none-match"] == "*" for r in puts)
    # Every write carries an Idempotency-Key.
    assert all("idempotency-key" in r.headers for r in api.writes("/v1/"))
    writes = len(api.writes())
    again = pinops("apply", "--yes")
    assert again.code == 0, again.err
    assert "No changes to make now" in again.out
    assert len(api.writes()) == writes
    assert API_KEY not in (configured / "pinops.state.json").read_text()
    assert API_KEY not in result.out + result.err + again.out + again.err


def test_responses_match_the_document(
    configured: Path, pinops: Run, api: RelayAPIEmulator, spec: Spec
) -> None:
    assert pinops("apply", "--yes").code == 0
    post_id = state(configured)["summer-salad"]["post_id"]
    with httpx.Client(base_url=api.base_url, headers=AUTH, timeout=5.0) as http:
        boards = http.get(f"/v1/accounts/{ACCOUNT_ID}/pinterest-boards")
        spec.check_response(boards.json(), "/v1/accounts/{id}/pinterest-boards", "get", 200)
        listing = http.get("/v1/posts", params={"account_id": ACCOUNT_ID, "limit": 2})
        spec.check_response(listing.json(), "/v1/posts", "get", 200)
        assert listing.json()["has_more"] is True
        post = http.get(f"/v1/posts/{post_id}")
        spec.check_response(post.json(), "/v1/posts/{id}", "get", 200)
        missing = http.get("/v1/posts/post_missing")
        spec.check_response(missing.json(), "/v1/posts/{id}", "get", 404)
        presign = http.post(
            "/v1/media/presign", json={"filename": "a.png", "content_type": "image/png"}
        )
        spec.check_response(presign.json(), "/v1/media/presign", "post", 200)
        key = presign.json()["url"].split("/", 3)[3]
        unconfirmed = http.post("/v1/media/confirm", json={"storage_key": key})
        spec.check_response(unconfirmed.json(), "/v1/media/confirm", "post", 404)
        put = httpx.put(
            presign.json()["upload_url"],
            content=b"\x89PNG",
            headers=presign.json()["upload_headers"],
        )
        assert put.status_code == 200
        confirmed = http.post("/v1/media/confirm", json={"storage_key": key})
        spec.check_response(confirmed.json(), "/v1/media/confirm", "post", 200)
        body = {
            "targets": [ACCOUNT_ID],
            "scheduled_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
            "media": [{"url": confirmed.json()["reference_url"]}],
            "target_options": {"pinterest": {"board_id": next(iter(api.accounts[ACCOUNT_ID]))}},
        }
        created = http.post("/v1/posts", json=body)
        assert created.status_code == 201 and created.json()["status"] == "scheduled"
        spec.check_response(created.json(), "/v1/posts", "post", 201)
        bad = http.post("/v1/posts", json={**body, "scheduled_at": "tomorrow"})
        spec.check_response(bad.json(), "/v1/posts", "post", 400)
        assert bad.json()["error"]["details"]["issues"][0]["path"] == "scheduled_at"
        deleted = http.delete(f"/v1/posts/{created.json()['id']}")
        assert deleted.status_code == 204
        conflict = http.delete(f"/v1/posts/{post_id}")
        assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "INVALID_STATE"
        unpublished = http.post(f"/v1/posts/{post_id}/unpublish", json={"platforms": ["pinterest"]})
        # ⚠️ The server sets "cancelled", which the document's status enum lacks.
        schema = UNPUBLISHED
        errors = spec.errors(unpublished.json(), schema)
        assert errors == [
            "['status']: 'cancelled' is not one of ['draft', 'scheduled', "
            "'publishing', 'published', 'provider_draft', 'failed', 'partial']"
        ]
    unauthorized = httpx.get(f"{api.base_url}/v1/posts", headers={"Authorization": "Bearer no"})
    assert unauthorized.status_code == 401
    spec.check_response(unauthorized.json(), "/v1/posts", "get", 401)


def test_a_pin_due_within_30_days_is_scheduled_and_replaced_before_its_time(
    configured: Path, pinops: Run, api: RelayAPIEmulator, make: Make
) -> None:
    soon = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
    when = soon.isoformat().replace("+00:00", "Z")
    edit(configured / "pins/home/living-spaces.yaml", "2027-03-01T09:00:00Z", when)
    assert pinops("apply", "--yes").code == 0
    record = state(configured)["calm-bedroom"]
    assert record["status"] == "scheduled" and "pin_id" not in record
    (bedroom,) = [b for b in creates(api) if b["scheduled_at"] != "now"]
    assert (bedroom["scheduled_at"], bedroom["timezone"]) == (when, "UTC")
    assert make().follow(record["post_id"]).status == "scheduled"
    # Changed before its time: the scheduled post is deleted outright, and scheduled anew.
    edit(configured / "pins/home/living-spaces.yaml", "A Calm Bedroom", "A Quiet Bedroom")
    assert "-/+ replace calm-bedroom" in pinops("plan").out
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    assert [r.path for r in api.requests("DELETE")] == [f"{POSTS}/{record['post_id']}"]
    assert record["post_id"] not in api.posts
    renewed = state(configured)["calm-bedroom"]
    assert (
        renewed["status"] == "scheduled" and api.posts[renewed["post_id"]]["status"] == "scheduled"
    )


def test_a_changed_pin_is_replaced_and_the_old_pin_unpublished(
    configured: Path, pinops: Run, api: RelayAPIEmulator
) -> None:
    old, new = replaced(configured, pinops, *SALAD)
    assert new["pin_id"] in api.pins and old["pin_id"] not in api.pins
    (unpublish,) = api.requests("POST", f"{POSTS}/{old['post_id']}/unpublish")
    assert unpublish.json == {"platforms": ["pinterest"]}
    assert unpublish.headers["idempotency-key"] == f"unpublish.{old['post_id']}"
    assert api.posts[old["post_id"]]["status"] == "cancelled"
    assert pinops("plan", "--detailed-exitcode").code == 0


def test_a_lost_create_response_is_answered_from_the_receipt(
    configured: Path, pinops: Run, api: RelayAPIEmulator
) -> None:
    api.faults.add(Fault(kind="lost_response", method="POST", path=POSTS))
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    first, second = api.requests("POST", POSTS)[:2]
    assert (
        first.fault is not None
        and second.headers["idempotency-key"] == first.headers["idempotency-key"]
    )
    assert len(api.posts) == 8 and sorted(state(configured)) == PUBLISHED


def test_a_create_unanswered_across_runs_is_replayed_exactly(
    configured: Path, api: RelayAPIEmulator, make: Make
) -> None:
    content = pin(api, configured)
    api.faults.add(Fault(kind="lost_response", method="POST", path=POSTS))
    relay = make()
    with pytest.raises(OutcomeUnknown):
        relay.create(content, "a" * 32)
    # The next run, long after the upload URLs expired: the uploads and the create replay.
    api.expire_uploads()
    published = make().create(content, "a" * 32)
    assert published.status == "published" and len(api.posts) == 1
    assert api.requests("POST", POSTS)[-1].fault is None
    assert len(api.uploads) == 1 and len(api.media) == 1


def test_an_outcome_unknown_to_relayapi_is_settled_through_the_listing(
    api: RelayAPIEmulator, make: Make
) -> None:
    # The create stored the post, then failed with a 500: its key now answers OUTCOME_UNKNOWN.
    api.crash_after_creating()
    published = make(retry=Retry(attempts=2, backoff=0.01)).create(pin(api), "b" * 32)
    codes = [r.fault for r in api.requests("POST", POSTS)]
    assert codes == [None, None] and len(api.posts) == 1
    assert published.pin_id in api.pins
    # A key whose first use failed before anything was made: posted anew, under a derived key.
    scope = ("POST", POSTS, "c" * 32)
    api.receipts[scope] = Receipt("digest of another attempt", None)
    fresh = make().create(pin(api, title="Other"), "c" * 32)
    assert fresh.pin_id in api.pins and len(api.posts) == 2
    assert api.requests("POST", POSTS)[-1].headers["idempotency-key"] == "c" * 32 + ".anew"


def test_a_reused_key_is_settled_and_in_progress_is_waited_out(
    api: RelayAPIEmulator, make: Make
) -> None:
    # The same key once sent another body (a different pin): this pin is posted anew.
    board = next(iter(api.accounts[ACCOUNT_ID]))
    other = {
        "targets": [ACCOUNT_ID],
        "scheduled_at": "now",
        "media": [{"url": "https://example.com/b.jpg"}],
        "target_options": {"pinterest": {"board_id": board, "title": "Another pin"}},
    }
    headers = {**AUTH, "Idempotency-Key": "d" * 32}
    assert httpx.post(f"{api.base_url}{POSTS}", json=other, headers=headers).status_code == 201
    in_progress = {"error": {"code": "IDEMPOTENCY_IN_PROGRESS", "message": "Still processing"}}
    api.faults.add(
        Fault(
            kind="status", status=409, method="POST", path=POSTS, body=in_progress, retry_after=0.01
        )
    )
    published = make().create(pin(api), "d" * 32)
    assert published.pin_id in api.pins and len(api.posts) == 2
    sent = [r.headers["idempotency-key"] for r in api.requests("POST", POSTS)]
    assert sent == ["d" * 32, "d" * 32, "d" * 32, "d" * 32 + ".anew"]


def test_a_replayed_post_that_was_unpublished_since_is_posted_anew(
    api: RelayAPIEmulator, make: Make
) -> None:
    relay = make()
    first = relay.create(pin(api), "e" * 32)
    assert first.pin_id is not None
    relay.delete(first.pin_id)
    assert api.pins == {}
    # The same content again (a pin put back as it was): the receipt answers with the old post.
    again = relay.create(pin(api), "e" * 32)
    assert again.pin_id in api.pins and again.post_id != first.post_id
    assert (
        api.requests("POST", POSTS)[-1].headers["idempotency-key"] == f"{'e' * 32}.{first.post_id}"
    )


def test_a_failed_publish_reports_the_reason_and_records_nothing(
    configured: Path, pinops: Run, api: RelayAPIEmulator
) -> None:
    api.fail_next("Pinterest rejected the image: too small")
    result = pinops("apply", "--yes")
    assert result.code == 1
    text = result.out + result.err
    assert "RelayAPI could not publish the pin: Pinterest rejected the image: too small" in text
    assert "(PLATFORM_ERROR)" in text
    assert len(state(configured)) == 7
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    assert sorted(state(configured)) == PUBLISHED


def test_a_post_still_publishing_is_followed_and_an_unknown_delivery_is_explained(
    api: RelayAPIEmulator, make: Make
) -> None:
    api.publish_polls = 3
    pending = make(publish_wait=0.0).create(pin(api), "f" * 32)
    assert pending.status == "pending" and pending.post_id and pending.pin_id is None
    relay = make()
    assert relay.follow(pending.post_id).status == "pending"
    assert relay.follow(pending.post_id).pin_id in api.pins
    api.publish_polls = 5
    stuck = make(publish_wait=0.0).create(pin(api, title="Stuck"), "g" * 32)
    assert stuck.post_id is not None
    with api.lock:
        account = api.posts[stuck.post_id]["targets"][ACCOUNT_ID]["accounts"][0]
        account["delivery_state"] = "unknown"
    with pytest.raises(ProviderError, match="does not know if post") as caught:
        relay.follow(stuck.post_id)
    assert "reconcile target pt_" in caught.value.hint


@pytest.mark.usefixtures("configured")
def test_429_and_5xx_are_retried_under_the_same_key(pinops: Run, api: RelayAPIEmulator) -> None:
    api.faults.add(Fault(kind="status", status=429, method="POST", path=POSTS, retry_after=0.01))
    api.faults.add(Fault(kind="status", status=503, method="POST", path=POSTS, retry_after=0.01))
    api.faults.add(Fault(kind="status", status=502, method="GET", path=POSTS, retry_after=0.01))
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    posts = api.requests("POST", POSTS)
    assert [r.fault.status if r.fault else 201 for r in posts[:3]] == [429, 503, 201]
    assert len({r.headers["idempotency-key"] for r in posts[:3]}) == 1
    assert len(api.posts) == 8


def test_a_pin_never_published_here_is_an_error_to_get(make: Make) -> None:
    """Unpublished posts stay in RelayAPI's listing: a pin in none of them is not this account's."""
    with pytest.raises(ProviderError, match="not among the RelayAPI posts"):
        make().get("1126100000000000999")


def test_a_validation_error_says_which_field(api: RelayAPIEmulator, make: Make) -> None:
    bad_link = pin(api, link="not a url")
    with pytest.raises(ProviderRejected) as caught:
        make().create(bad_link, "i" * 32)
    assert (
        "RelayAPI answered 400 to POST /v1/posts: link must be a URL "
        "(target_options.pinterest.link) (code VALIDATION_ERROR)"
    ) in str(caught.value)


def test_media_under_media_base_url_is_not_uploaded(
    configured: Path, pinops: Run, api: RelayAPIEmulator
) -> None:
    point_repo_at(configured, "relayapi", api.base_url, ACCOUNT_ID, media_base_url=CDN)
    assert pinops("apply", "--yes").code == 0
    assert api.uploads == {} and not api.requests("POST", "/v1/media")
    urls = {body["media"][0]["url"] for body in creates(api)}
    assert f"{CDN}pins/media/salad.jpg" in urls


def test_images_relayapi_refuses_are_reported_at_plan_time(configured: Path, pinops: Run) -> None:
    write_gif(configured / "pins/media/salad.gif", 1000, 1500)
    edit(
        configured / "pins/recipes/summer-salad.yaml",
        "image: ../media/salad.jpg",
        "image: ../media/salad.gif",
    )
    result = pinops("plan")
    assert result.code == 1
    assert re.search(r"pins/recipes/summer-salad\.yaml:\d+:\d+: error: .*GIF", result.err)


def test_a_video_without_a_cover_is_sent_its_first_frame(api: RelayAPIEmulator, make: Make) -> None:
    """Its page makes the cover optional; its server refuses a video without one: frame 0, the
    first frame Pinterest would show, is sent."""
    relay = make()
    video = Media(kind="video", url="https://example.com/clip.mp4", content_type="video/mp4")
    published = relay.create(pin(api, media=video), "v" * 32)
    assert published.pin_id
    [body] = creates(api)
    assert body["target_options"]["pinterest"]["cover_image_key_frame_time"] == 0
