"""The Pinterest API v5 provider over real HTTP against the emulator."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.config import Account, Pace
from reconciler.errors import (
    AuthError,
    InputError,
    OutcomeUnknown,
    ProviderError,
    ProviderRejected,
    SpamBlocked,
)
from reconciler.providers import capabilities
from reconciler.providers.base import Media, PinContent
from reconciler.providers.http import Retry
from reconciler.providers.pinterest import PinterestProvider, open_provider
from reconciler.providers.pinterest_oauth import Credentials
from tests.emulators.pinterest import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    PinterestEmulator,
)
from tests.emulators.server import Fault
from tests.mediafiles import write_jpeg, write_png

MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(2048)
SINCE = datetime.now(UTC) - timedelta(minutes=10)


@pytest.fixture
def api() -> Iterator[PinterestEmulator]:
    with PinterestEmulator(processing_polls=2) as emulator:
        yield emulator


def connect(api: PinterestEmulator, credentials: Credentials | None = None) -> PinterestProvider:
    return PinterestProvider(
        api.base_url,
        credentials or Credentials(access_token=ACCESS_TOKEN),
        retry=Retry(attempts=3, backoff=0.01, max_delay=0.05),
        timeout=2.0,
        connect_timeout=2.0,
        poll_interval=0.01,
    )


@pytest.fixture
def pinterest(api: PinterestEmulator) -> Iterator[PinterestProvider]:
    provider = connect(api)
    yield provider
    provider.close()


@pytest.fixture
def board(api: PinterestEmulator) -> str:
    return api.add_board("Recipes")


@pytest.fixture
def jpeg(tmp_path: Path) -> Media:
    path = write_jpeg(tmp_path / "pasta.jpg", 200, 300)
    return Media(kind="image", path=path, content_type="image/jpeg")


def pin(board: str, media: Media | None, **fields: object) -> PinContent:
    text = {
        "title": "Easy Pasta",
        "description": "Creamy garlic pasta.",
        "link": "https://example.com/pasta",
        "alt_text": "A bowl of pasta",
    }
    return PinContent(board_id=board, media=media, **{**text, **fields})  # type: ignore[arg-type]


def test_boards_follow_every_bookmark_and_list_sections(
    api: PinterestEmulator, pinterest: PinterestProvider
) -> None:
    ids = [api.add_board(f"Board {n}") for n in range(260)]
    section = api.add_section(ids[3], "Pasta")
    found = {board.name: board for board in pinterest.boards()}
    assert len(found) == 260
    assert found["Board 3"].id == ids[3]
    assert found["Board 3"].sections == {"Pasta": section}
    listings = api.requests("GET", "/v5/boards")
    pages = [r for r in listings if r.path == "/v5/boards"]
    assert [r.query.get("page_size") for r in pages] == [["250"], ["250"]]
    assert "bookmark" in pages[1].query


def test_a_repository_image_is_sent_inline(
    api: PinterestEmulator, pinterest: PinterestProvider, board: str, jpeg: Media
) -> None:
    published = pinterest.create(pin(board, jpeg, dominant_color="#C8553D"), "key")
    (sent,) = api.requests("POST", "/v5/pins")
    source = sent.json["media_source"]
    assert source["source_type"] == "image_base64"
    assert source["content_type"] == "image/jpeg"
    assert base64.b64decode(source["data"]) == jpeg.path.read_bytes()  # type: ignore[union-attr]
    assert sent.json["dominant_color"] == "#C8553D"
    assert published.pin_id in api.pins
    assert published.url == f"https://www.pinterest.com/pin/{published.pin_id}/"
    assert published.published_at is not None and published.published_at.endswith("Z")


def test_an_https_image_is_sent_by_url(
    api: PinterestEmulator, pinterest: PinterestProvider, board: str
) -> None:
    media = Media(kind="image", url="https://cdn.example.com/pasta.webp")
    pinterest.create(pin(board, media), "key")
    (sent,) = api.requests("POST", "/v5/pins")
    assert sent.json["media_source"] == {
        "source_type": "image_url",
        "url": "https://cdn.example.com/pasta.webp",
    }


def test_a_section_is_sent_with_its_board(
    api: PinterestEmulator, pinterest: PinterestProvider, board: str, jpeg: Media
) -> None:
    section = api.add_section(board, "Pasta")
    published = pinterest.create(pin(board, jpeg, section_id=section), "key")
    assert api.pins[published.pin_id or ""]["board_section_id"] == section


@pytest.mark.parametrize("cover", ["file", "url", "frame"])
def test_a_video_is_uploaded_processed_and_pinned_with_its_cover(
    api: PinterestEmulator, pinterest: PinterestProvider, board: str, tmp_path: Path, cover: str
) -> None:
    video_path = tmp_path / "howto.mp4"
    video_path.write_bytes(MP4)
    video = Media(kind="video", path=video_path, content_type="video/mp4")
    image = write_png(tmp_path / "cover.png", 200, 300)
    covers: dict[str, dict[str, object]] = {
        "file": {"cover": Media(kind="image", path=image, content_type="image/png")},
        "url": {"cover": Media(kind="image", url="https://cdn.example.com/cover.jpg")},
        "frame": {"cover_frame": 2.5},
    }
    published = pinterest.create(pin(board, video, **covers[cover]), "key")
    (upload,) = api.requests("POST", "/upload")
    assert "authorization" not in upload.headers
    assert int(upload.headers["content-length"]) == len(upload.body)
    assert MP4 in upload.body
    assert upload.body.index(b'name="file"') > upload.body.index(b'name="x-amz-signature"')
    polls = api.requests("GET", "/v5/media/")
    assert len(polls) == 3  # processing, processing, succeeded
    source = api.requests("POST", "/v5/pins")[0].json["media_source"]
    assert source["source_type"] == "video_id"
    assert source["media_id"] == polls[0].path.rsplit("/", 1)[1]
    expected = {
        "file": {"cover_image_data", "cover_image_content_type"},
        "url": {"cover_image_url"},
        "frame": {"cover_image_key_frame_time"},
    }[cover]
    assert expected <= set(source)
    if cover == "frame":
        assert source["cover_image_key_frame_time"] == 2
    assert api.pins[published.pin_id or ""]["creative_type"] == "VIDEO"


def test_a_video_without_a_cover_takes_its_first_frame(
    api: PinterestEmulator, pinterest: PinterestProvider, board: str, tmp_path: Path
) -> None:
    video_path = tmp_path / "howto.mp4"
    video_path.write_bytes(MP4)
    video = Media(kind="video", path=video_path, content_type="video/mp4")
    pinterest.create(pin(board, video), "key")
    [create] = api.requests("POST", "/v5/pins")
    assert create.json["media_source"]["cover_image_key_frame_time"] == 0


def test_a_video_pinterest_cannot_process_is_refused(
    api: PinterestEmulator, pinterest: PinterestProvider, board: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 10)
    video = Media(kind="video", path=broken, content_type="video/mp4")
    with pytest.raises(ProviderRejected, match="could not process the video"):
        pinterest.create(pin(board, video, cover_frame=0), "key")
    assert api.pins == {}


def test_an_update_patches_only_the_changed_fields(
    api: PinterestEmulator, pinterest: PinterestProvider, board: str, jpeg: Media
) -> None:
    pin_id = pinterest.create(pin(board, jpeg), "key").pin_id or ""
    pinterest.update(pin_id, pin(board, jpeg, title="Easier Pasta"), frozenset({"title"}))
    (patch,) = api.requests("PATCH")
    assert patch.json == {"title": "Easier Pasta"}
    assert api.pins[pin_id]["title"] == "Easier Pasta"


def test_an_update_moves_a_pin_to_another_board_and_out_of_its_section(
    api: PinterestEmulator, pinterest: PinterestProvider, board: str, jpeg: Media
) -> None:
    section = api.add_section(board, "Pasta")
    other = api.add_board("Weeknight Dinners")
    pin_id = pinterest.create(pin(board, jpeg, section_id=section), "key").pin_id or ""
    pinterest.update(pin_id, pin(other, jpeg), frozenset({"board", "section"}))
    (patch,) = api.requests("PATCH")
    assert patch.json == {"board_id": other, "board_section_id": None}
    assert api.pins[pin_id]["board_id"] == other


def test_an_update_refuses_fields_pinterest_cannot_change(
    api: PinterestEmulator, pinterest: PinterestProvider, board: str, jpeg: Media
) -> None:
    with pytest.raises(ProviderRejected, match="cannot change image"):
        pinterest.update("1", pin(board, jpeg), frozenset({"image", "title"}))
    assert api.requests() == []


def test_delete_counts_a_missing_pin_as_gone(
    api: PinterestEmulator, pinterest: PinterestProvider, board: str, jpeg: Media
) -> None:
    pin_id = pinterest.create(pin(board, jpeg), "key").pin_id or ""
    pinterest.delete(pin_id)
    pinterest.delete(pin_id)
    assert api.pins == {}
    assert [r.method for r in api.writes()] == ["POST", "DELETE", "DELETE"]


def test_get_reads_a_pin_back_and_a_missing_one_is_none(
    pinterest: PinterestProvider, board: str, jpeg: Media
) -> None:
    pin_id = pinterest.create(pin(board, jpeg), "key").pin_id or ""
    remote = pinterest.get(pin_id)
    assert remote is not None
    assert (remote.board_id, remote.title, remote.link) == (
        board,
        "Easy Pasta",
        "https://example.com/pasta",
    )
    assert remote.created_at is not None and remote.created_at.endswith("Z")
    assert pinterest.get("123") is None


def test_find_recognises_what_was_sent_since_a_time(
    api: PinterestEmulator, pinterest: PinterestProvider, board: str, jpeg: Media
) -> None:
    pin_id = pinterest.create(pin(board, jpeg), "key").pin_id
    other_id = pinterest.create(pin(board, jpeg, title="Another Pasta"), "key").pin_id
    with api.lock:  # many older pins, so that the listing has several pages
        template = next(iter(api.pins.values()))
        for n in range(300):
            api.pins[str(n + 1)] = {**template, "id": str(n + 1), "title": f"Pin {n}"}
    sought = [pin(board, jpeg), pin(board, jpeg, title="Another Pasta")]
    found = pinterest.find(sought, SINCE)
    assert [[remote.pin_id for remote in pins] for pins in found] == [[pin_id], [other_id]]
    # Both looked for in one listing of the board, of two pages.
    assert len(api.requests("GET", f"/v5/boards/{board}/pins")) == 2
    assert pinterest.find(sought, datetime.now(UTC) + timedelta(minutes=5)) == [[], []]
    assert pinterest.find([pin(board, jpeg, link="https://example.com/other")], SINCE) == [[]]


def test_find_raises_when_the_board_cannot_be_listed(
    api: PinterestEmulator, pinterest: PinterestProvider, board: str, jpeg: Media
) -> None:
    api.faults.add(Fault(kind="status", status=503, method="GET", times=None))
    with pytest.raises(ProviderError):
        pinterest.find([pin(board, jpeg)], SINCE)


def test_a_create_is_sent_again_only_after_retry_after(
    api: PinterestEmulator, pinterest: PinterestProvider, board: str, jpeg: Media
) -> None:
    api.faults.add(Fault(kind="status", status=429, retry_after=0.25, path="/v5/pins"))
    pinterest.create(pin(board, jpeg), "key")
    limited, created = api.requests("POST", "/v5/pins")
    assert limited.fault is not None and created.fault is None
    assert created.arrived - limited.arrived >= 0.25
    assert len(api.pins) == 1


def test_a_lost_create_response_is_not_posted_again(
    api: PinterestEmulator, pinterest: PinterestProvider, board: str, jpeg: Media
) -> None:
    api.faults.add(Fault(kind="lost_response", method="POST", path="/v5/pins"))
    with pytest.raises(OutcomeUnknown):
        pinterest.create(pin(board, jpeg), "key")
    assert len(api.requests("POST", "/v5/pins")) == 1
    (made,) = api.pins
    [found] = pinterest.find([pin(board, jpeg)], SINCE)
    assert [remote.pin_id for remote in found] == [made]


def test_the_spam_block_stops_without_retrying(
    api: PinterestEmulator, pinterest: PinterestProvider, board: str, jpeg: Media
) -> None:
    api.spam_block()
    with pytest.raises(SpamBlocked) as caught:
        pinterest.create(pin(board, jpeg), "key")
    assert "anti-spam" in caught.value.hint
    assert len(api.requests("POST", "/v5/pins")) == 1


def test_trial_access_in_production_says_to_use_the_sandbox(
    api: PinterestEmulator, pinterest: PinterestProvider, board: str, jpeg: Media
) -> None:
    message = (
        "Apps with Trial access may not create Pins in production https://api.pinterest.com - "
        "use API Sandbox https://api-sandbox.pinterest.com instead."
    )
    api.faults.add(Fault(kind="status", status=403, body={"code": 29, "message": message}))
    with pytest.raises(AuthError) as caught:
        pinterest.create(pin(board, jpeg), "key")
    assert "api-sandbox.pinterest.com/v5" in caught.value.hint


def test_an_update_refused_by_pinterest_mentions_the_beta(
    api: PinterestEmulator, pinterest: PinterestProvider, board: str, jpeg: Media
) -> None:
    pin_id = pinterest.create(pin(board, jpeg), "key").pin_id or ""
    refusal = {"code": 29, "message": "Not authorized to update Pin."}
    api.faults.add(Fault(kind="status", status=403, body=refusal, method="PATCH"))
    with pytest.raises(ProviderRejected) as caught:
        pinterest.update(pin_id, pin(board, jpeg, title="New"), frozenset({"title"}))
    assert "Not authorized to update Pin. (code 29)" in str(caught.value)
    assert "in beta" in caught.value.hint


def test_an_image_pinterest_cannot_fetch_gets_a_hint(
    pinterest: PinterestProvider, board: str
) -> None:
    media = Media(kind="image", url="https://")
    with pytest.raises(ProviderRejected) as caught:
        pinterest.create(pin(board, media), "key")
    assert "(code 1)" in str(caught.value)
    assert "public https" in caught.value.hint


def test_an_unknown_board_names_the_way_out(pinterest: PinterestProvider, jpeg: Media) -> None:
    with pytest.raises(ProviderRejected) as caught:
        pinterest.create(pin("123", jpeg), "key")
    assert "Board not found." in str(caught.value)
    assert "pinops boards" in caught.value.hint


def test_a_missing_token_names_the_variable_and_sends_nothing(api: PinterestEmulator) -> None:
    with closing(connect(api, Credentials())) as provider, pytest.raises(AuthError) as caught:
        provider.boards()
    assert "PINTEREST_ACCESS_TOKEN is not set" in str(caught.value)
    assert api.requests() == []


@pytest.mark.usefixtures("board")
def test_a_rejected_token_without_refresh_credentials_is_a_clear_auth_error(
    api: PinterestEmulator,
) -> None:
    api.expire_token(ACCESS_TOKEN)
    with closing(connect(api)) as provider, pytest.raises(AuthError) as caught:
        provider.boards()
    assert "401" in str(caught.value) and "Authentication failed." in str(caught.value)
    assert "PINTEREST_REFRESH_TOKEN" in caught.value.hint
    assert len(api.requests()) == 1


def refreshable(**extra: object) -> Credentials:
    return Credentials(
        access_token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        **extra,  # type: ignore[arg-type]
    )


def test_an_expired_token_is_refreshed_once_and_the_call_carries_on(
    api: PinterestEmulator, board: str, tmp_path: Path
) -> None:
    api.expire_token(ACCESS_TOKEN)
    saved = tmp_path / "tokens.env"
    with closing(connect(api, refreshable(token_file=saved))) as provider:
        assert [b.id for b in provider.boards()] == [board]
        provider.boards()
    rejected, refresh, *_ = api.requests()
    assert rejected.path == "/v5/boards"
    assert refresh.path == "/v5/oauth/token"
    assert refresh.content_type == "application/x-www-form-urlencoded"
    assert refresh.form["grant_type"] == ["refresh_token"]
    assert refresh.headers["authorization"].startswith("Basic ")
    assert len(api.requests("POST", "/v5/oauth/token")) == 1
    lines = dict(line.split("=", 1) for line in saved.read_text().splitlines())
    assert lines["PINTEREST_REFRESH_TOKEN"] == api.refresh_token  # the rotated one
    assert lines["PINTEREST_ACCESS_TOKEN"] in api.access_tokens
    assert saved.stat().st_mode & 0o777 == 0o600


@pytest.mark.usefixtures("board")
def test_with_only_refresh_credentials_a_token_is_fetched_first(api: PinterestEmulator) -> None:
    credentials = refreshable()
    credentials.access_token = None
    with closing(connect(api, credentials)) as provider:
        provider.boards()
    assert [r.path for r in api.requests()][:2] == ["/v5/oauth/token", "/v5/boards"]


def test_a_refused_refresh_says_to_authorize_again(api: PinterestEmulator) -> None:
    api.expire_token(ACCESS_TOKEN)
    api.refresh_token = "pinr_someone_else"
    with closing(connect(api, refreshable())) as provider, pytest.raises(AuthError) as caught:
        provider.boards()
    assert "refreshing the access token failed" in str(caught.value)
    assert "authorize the app again" in caught.value.hint


def test_capabilities_take_only_jpeg_and_png_inline() -> None:
    caps = capabilities("pinterest")
    assert caps.media_limits.image_types == {"image/jpeg", "image/png"}
    assert caps.updatable == {"title", "description", "link", "alt_text", "board", "section"}


def test_plain_http_is_refused_except_to_this_machine() -> None:
    remote = Account("main", "pinterest", base_url="http://api.pinterest.com/v5")
    with pytest.raises(InputError, match="not https"):
        open_provider(remote)
    local = Account("main", "pinterest", base_url="http://127.0.0.1:9/v5", pace=Pace(2, "minute"))
    open_provider(local).close()
