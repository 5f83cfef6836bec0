"""Pinterest's own REST API v5 (shared/reference/pinterest-v5): boards, pins and video uploads.

Images from the repository are sent inline as `image_base64` (JPEG or PNG, which is all that
source type takes); https images as `image_url`, which Pinterest fetches itself. A video is
registered (POST /media), uploaded to the presigned `upload_url` with every `upload_parameters`
field and the file last, polled (GET /media/{id}) until `succeeded`, and then pinned by its
`media_id` with a cover image or a key frame. Pinterest has no idempotency key, so a create whose
answer was lost is recognised afterwards by `find`, which lists the board's pins.

Configuration: `base_url` (default https://api.pinterest.com/v5; Pinterest's sandbox is
https://api-sandbox.pinterest.com/v5) and `pace`; credentials: see pinterest_oauth.
"""

from __future__ import annotations

import base64
import functools
import ipaddress
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from reconciler import timestamps
from reconciler.config import Account, Pace
from reconciler.errors import InputError, ProviderError, ProviderRejected, TransientError
from reconciler.media import PINTEREST_LIMITS
from reconciler.providers.base import (
    OWN_CONNECTION,
    Board,
    Capabilities,
    Connection,
    Media,
    PinContent,
    Published,
    RemotePin,
    cover_second,
)
from reconciler.providers.http import HttpClient, Retry, json_body
from reconciler.providers.pinterest_errors import SANDBOX_BASE_URL, explain
from reconciler.providers.pinterest_oauth import Credentials, OAuth

DEFAULT_BASE_URL = "https://api.pinterest.com/v5"
PIN_URL = "https://www.pinterest.com/pin/{}/"
# org_write with Standard access: 100 writes a minute per user (NOTES.md §9).
WRITE_QUOTA = Pace(100, "minute")
PAGE_SIZE = 250
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
TEXT_FIELDS = ("title", "description", "link", "alt_text")
# What recognises a pin an interrupted create made (NOTES.md §11), besides board and time.
MATCHED_FIELDS = ("title", "description", "link")

CAPABILITIES = Capabilities(
    updatable=frozenset({*TEXT_FIELDS, "board", "section"}),
    can_delete=True,
    # image_base64 and cover_image_data take JPEG and PNG only; https images may be any type.
    media_limits=replace(PINTEREST_LIMITS, image_types=IMAGE_TYPES),
    # Videos go through POST /media and an upload: there is no video_url media source.
    url_media=frozenset({"image"}),
)


class PinterestProvider:
    capabilities = CAPABILITIES

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        quota: Pace = WRITE_QUOTA,
        spacing: float = 0.0,
        retry: Retry | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        upload_timeout: float = 600.0,
        poll_interval: float = 1.0,
        processing_deadline: float = 900.0,
    ) -> None:
        self.oauth = OAuth(credentials)
        self.http = HttpClient(
            base_url,
            name="Pinterest",
            auth=self.oauth.header,
            explain=functools.partial(explain, credentials=credentials),
            on_unauthorized=self.oauth.renew,
            request_id_header="x-pinterest-rid",
            pace=(quota,),
            spacing=spacing,
            retry=retry,
            timeout=timeout,
            connect_timeout=connect_timeout,
        )
        self.oauth.attach(self.http)
        self.upload_timeout = upload_timeout
        self.poll_interval = poll_interval
        self.processing_deadline = processing_deadline

    def close(self) -> None:
        self.http.close()

    # Reading

    def boards(self) -> list[Board]:
        found = []
        for board in self._pages("/boards"):
            board_id = _text(board, "id")
            sections = {
                _text(section, "name"): _text(section, "id")
                for section in self._pages(f"/boards/{board_id}/sections")
            }
            found.append(Board(id=board_id, name=_text(board, "name"), sections=sections))
        return found

    def get(self, pin_id: str) -> RemotePin | None:
        response = self.http.request("GET", f"/pins/{pin_id}", allow=(404,))
        return None if response.status_code == 404 else _remote(json_body(response))

    def find(self, contents: Sequence[PinContent], since: datetime) -> list[list[RemotePin]]:
        """Pins on each content's board that match what was sent and were created since `since`;
        each board's pins are listed once."""
        found: list[list[RemotePin]] = [[] for _ in contents]
        for board_id in dict.fromkeys(content.board_id for content in contents):
            sought = [(n, c) for n, c in enumerate(contents) if c.board_id == board_id]
            for pin in self._pages(f"/boards/{board_id}/pins"):
                if pin.get("board_id") != board_id or _created(pin) < since:
                    continue
                for number, content in sought:
                    if all(_same(pin.get(name), getattr(content, name)) for name in MATCHED_FIELDS):
                        found[number].append(_remote(pin))
        return found

    def _pages(self, path: str) -> Iterator[dict[str, Any]]:
        """Every item of a bookmark-paginated listing."""
        params: dict[str, Any] = {"page_size": PAGE_SIZE}
        seen: set[str] = set()
        while True:
            page = json_body(self.http.request("GET", path, params=params))
            items = page.get("items") if isinstance(page, dict) else None
            if not isinstance(items, list):
                raise ProviderError(f"Pinterest's answer to GET {path} holds no items list")
            yield from (item for item in items if isinstance(item, dict))
            bookmark = page.get("bookmark")
            if not bookmark:
                return
            if bookmark in seen:
                raise TransientError(f"Pinterest repeated a page of GET {path}")
            seen.add(bookmark)
            params = {"page_size": PAGE_SIZE, "bookmark": bookmark}

    # Writing

    def create(self, content: PinContent, idempotency_key: str) -> Published:  # noqa: ARG002
        # Pinterest takes no idempotency key; an unknown outcome is settled by find().
        body: dict[str, Any] = {"board_id": content.board_id}
        if content.section_id:
            body["board_section_id"] = content.section_id
        for name in (*TEXT_FIELDS, "dominant_color"):
            value = getattr(content, name)
            if value is not None:
                body[name] = value
        body["media_source"] = self._media_source(content)
        return _published(json_body(self.http.request("POST", "/pins", json=body)))

    def update(self, pin_id: str, content: PinContent, changed: frozenset[str]) -> Published:
        cannot = sorted(changed - CAPABILITIES.updatable)
        if cannot:
            raise ProviderRejected(
                f"Pinterest cannot change {', '.join(cannot)} of published pin {pin_id}",
                hint="such a change replaces the pin: run pinops plan again",
            )
        body: dict[str, Any] = {
            name: getattr(content, name) for name in TEXT_FIELDS if name in changed
        }
        if "board" in changed:
            body["board_id"] = content.board_id
        if changed & {"board", "section"}:
            body["board_section_id"] = content.section_id
        return _published(json_body(self.http.request("PATCH", f"/pins/{pin_id}", json=body)))

    def delete(self, pin_id: str) -> None:
        self.http.request("DELETE", f"/pins/{pin_id}", allow=(404,))  # 404: already gone

    def _media_source(self, content: PinContent) -> dict[str, Any]:
        media = content.media
        if media is None:
            raise ProviderRejected("a Pinterest pin needs an image or a video")
        if media.kind == "video":
            return self._video_source(media, content)
        if media.url:
            return {"source_type": "image_url", "url": media.url}
        content_type, data = _inline(media)
        return {"source_type": "image_base64", "content_type": content_type, "data": data}

    def _video_source(self, video: Media, content: PinContent) -> dict[str, Any]:
        if video.path is None:
            raise ProviderRejected(
                f"Pinterest takes videos as uploads, not URLs: {video.url}",
                hint="put the video file in the repository and name its path in `video:`",
            )
        cover: dict[str, Any]
        if content.cover is not None and content.cover.url:
            cover = {"cover_image_url": content.cover.url}
        elif content.cover is not None:
            content_type, data = _inline(content.cover)
            cover = {"cover_image_data": data, "cover_image_content_type": content_type}
        else:
            # Pinterest refuses a video pin without a cover: none given is the first frame.
            cover = {"cover_image_key_frame_time": cover_second(content.cover_frame)}
        media_id = self._upload(video)
        return {"source_type": "video_id", "media_id": media_id, **cover}

    def _upload(self, video: Media) -> str:
        """Register, upload and wait for a video; returns its media_id once `succeeded`."""
        assert video.path is not None
        registered = json_body(
            # A second registration only leaves an unused upload behind: safe to retry.
            self.http.request("POST", "/media", json={"media_type": "video"}, idempotent=True)
        )
        media_id = _text(registered, "media_id")
        upload_url = _text(registered, "upload_url")
        parameters = registered.get("upload_parameters")
        if not isinstance(parameters, dict):
            raise ProviderError("Pinterest's answer to POST /media holds no upload_parameters")
        try:
            with video.open() as stream:
                # A presigned S3 form: every parameter as a field, the file last, a known
                # Content-Length (httpx sizes the file), and no Pinterest token.
                self.http.request(
                    "POST",
                    upload_url,
                    data={str(name): str(value) for name, value in parameters.items()},
                    files={"file": (video.path.name, stream, video.content_type or "video/mp4")},
                    auth=False,
                    idempotent=True,
                    paced=False,
                    timeout=self.upload_timeout,
                )
        except OSError as exc:
            raise ProviderError(f"cannot read {video.path.name}: {exc.strerror}") from None
        self._await_processing(media_id, video)
        return media_id

    def _await_processing(self, media_id: str, video: Media) -> None:
        delay, waited = self.poll_interval, 0.0
        while True:
            status = json_body(self.http.request("GET", f"/media/{media_id}")).get("status")
            if status == "succeeded":
                return
            if status == "failed":
                raise ProviderRejected(
                    f"Pinterest could not process the video {video.path} (media {media_id})",
                    hint="check that it plays as an MP4 or MOV video; the next run uploads it anew",
                )
            if waited + delay > self.processing_deadline:
                raise TransientError(
                    f"Pinterest was still processing the video {video.path} (media {media_id}, "
                    f"status {status}) after {waited:.0f}s",
                    hint="run again later; the video is uploaded anew",
                )
            time.sleep(delay)
            waited += delay
            delay = min(delay * 2, 10 * self.poll_interval)


def _inline(media: Media) -> tuple[str, str]:
    """(content_type, base64 data) of a repository image, for image_base64 and covers."""
    if media.path is None or media.content_type not in IMAGE_TYPES:
        raise ProviderRejected(
            f"Pinterest takes inline images as JPEG or PNG only, not {media.content_type}",
            hint="convert the image to JPEG or PNG, or give an https URL",
        )
    data = media.read()
    return media.content_type, base64.b64encode(data).decode("ascii")


def _text(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name) if isinstance(item, Mapping) else None
    if not isinstance(value, str) or not value:
        raise ProviderError(f"Pinterest answered without the expected field '{name}'")
    return value


def _same(remote: object, sent: str | None) -> bool:
    """Equal, counting "" and null as the same empty value, as Pinterest may echo either."""
    return (remote or None) == (sent or None)


def _created(pin: Mapping[str, Any]) -> datetime:
    """A pin's created_at, which Pinterest writes without a zone: UTC.

    An unreadable time counts as recent, so that the pin is considered rather than re-posted.
    """
    try:
        created = timestamps.parse(str(pin.get("created_at")))
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
    return created if created.tzinfo else created.replace(tzinfo=UTC)


def _utc_text(created_at: object) -> str | None:
    if not isinstance(created_at, str) or not created_at:
        return None
    return created_at if created_at.endswith("Z") or "+" in created_at else created_at + "Z"


def _published(pin: Any) -> Published:
    pin_id = _text(pin, "id")
    return Published(
        pin_id=pin_id, url=PIN_URL.format(pin_id), published_at=_utc_text(pin.get("created_at"))
    )


def _remote(pin: Any) -> RemotePin:
    pin_id = _text(pin, "id")
    return RemotePin(
        pin_id=pin_id,
        board_id=pin.get("board_id"),
        title=pin.get("title"),
        description=pin.get("description"),
        link=pin.get("link"),
        alt_text=pin.get("alt_text"),
        section_id=pin.get("board_section_id"),
        url=PIN_URL.format(pin_id),
        created_at=_utc_text(pin.get("created_at")),
    )


def _check_base_url(base_url: str) -> None:
    """Tokens travel only over https, except to this machine (local emulators and proxies)."""
    parts = urlsplit(base_url)
    if parts.scheme == "https":
        return
    try:
        local = (
            parts.hostname == "localhost" or ipaddress.ip_address(parts.hostname or "").is_loopback
        )
    except ValueError:
        local = False
    if not (parts.scheme == "http" and local):
        raise InputError(
            f"the Pinterest base_url {base_url} is not https",
            hint=f"use {DEFAULT_BASE_URL} or {SANDBOX_BASE_URL}; plain http only to localhost",
        )


def open_provider(
    account: Account,
    connection: Connection = OWN_CONNECTION,
) -> PinterestProvider:
    base_url = account.base_url or DEFAULT_BASE_URL
    _check_base_url(base_url)
    # A configured pace replaces Pinterest's documented write quota (DESIGN: "default: the
    # provider's documented limit"), e.g. a slower one for a Trial app.
    return PinterestProvider(
        base_url,
        Credentials.from_environment(
            account.variables, account.name if account.credentials is not None else ""
        ),
        quota=account.pace or WRITE_QUOTA,
        spacing=account.pace.interval if account.pace else 0.0,
        retry=connection.retry,
        timeout=connection.timeout,
        connect_timeout=connection.connect_timeout,
        **({} if connection.poll_interval is None else {"poll_interval": connection.poll_interval}),
    )
