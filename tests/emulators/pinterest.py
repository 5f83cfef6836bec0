"""A strict local emulator of Pinterest API v5, served over real HTTP.

It follows shared/reference/pinterest-v5 (Pinterest's OpenAPI description 5.23.0 and NOTES.md):
field names, limits and error bodies are the spec's, and it refuses what the real API refuses,
so that a client which passes here does not fail on the first real call.

    with PinterestEmulator() as api:
        board_id = api.add_board("Recipes")
        headers = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
        httpx.post(f"{api.base_url}/pins", headers=headers, json={...})
        assert len(api.pins) == 1

Served: POST /v5/oauth/token (refresh grant), GET /v5/boards, GET /v5/boards/{board_id},
GET /v5/boards/{board_id}/sections, GET /v5/boards/{board_id}/pins, POST /v5/pins,
GET/PATCH/DELETE /v5/pins/{pin_id}, POST /v5/media, GET /v5/media/{media_id}, and POST /upload,
a stand-in for the S3 presigned POST that `upload_url` points at.

Emulator choices where the references are silent: a video's status advances only when it is
polled; PATCH with null clears a field; pins are listed newest first; a Pin can be created from
a video only once its media has `succeeded`; carousels and product Pins are not emulated.
"""

from __future__ import annotations

import base64
import binascii
import collections
import email.policy
import hashlib
import itertools
import json
import math
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.parser import BytesParser
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from .server import Abort, EmulatorServer, Fault, Request, Response, route

ACCESS_TOKEN = "pina_emulator_access_token"
REFRESH_TOKEN = "pinr_emulator_refresh_token"
CLIENT_ID = "1484000"
CLIENT_SECRET = "emulator-client-secret"
SCOPE = "boards:read,boards:write,pins:read,pins:write"
ACCESS_TOKEN_SECONDS = 30 * 24 * 3600
REFRESH_TOKEN_SECONDS = 60 * 24 * 3600

RATE_LIMIT_MESSAGE = (
    "This request exceeded a rate limit. This can happen if the client exceeds one of the "
    "published rate limits or if multiple write operations are applied to an object within a "
    "short time window."
)
SPAM_MESSAGE = (
    "Sorry! You've hit a block (Pins) we have in place to combat spam. Please try again later."
)

# (HTTP status, Pinterest code, message): NOTES.md §8, from the spec's older examples.
AUTHENTICATION_FAILED = (401, 2, "Authentication failed.")
GRANT_INVALID = (401, 283, "The authorization grant is invalid")
BOARD_NOT_FOUND = (404, 40, "Board not found.")
SECTION_NOT_FOUND = (404, 2031, "Sorry! We couldn't find this board section.")
PIN_NOT_FOUND = (404, 50, "Pin not found.")
MEDIA_NOT_FOUND = (404, 404, "Media upload not found.")
IMAGE_BROKEN = (403, 235, "Sorry, this image is broken. Please pick a different image.")
IMAGE_NOT_FETCHED = (400, 1, "Sorry we could not fetch the image.")
LINK_INVALID = (
    400,
    1,
    "Whoops! It looks like you entered an invalid URL. Try creating a Pin again with a valid URL.",
)
_DEFAULT_ERRORS = {
    400: (1, "Invalid parameters."),
    401: (2, "Authentication failed."),
    403: (29, "You are not permitted to access that resource."),
    429: (8, RATE_LIMIT_MESSAGE),
    500: (500, "Something went wrong on our end. Sorry about that."),
}

ID_PATTERN = r"^\d+$"
BASE64_PATTERN = r"^[a-zA-Z0-9+/=]+$"
_TEXT_LIMITS = {"title": 100, "description": 800, "link": 2048, "alt_text": 500}
_PIN_CREATE_FIELDS = frozenset(
    {
        *_TEXT_LIMITS,
        "board_id",
        "board_section_id",
        "dominant_color",
        "media_source",
        "parent_pin_id",
        "sponsor_id",
    }
)
_PIN_UPDATE_FIELDS = frozenset({*_TEXT_LIMITS, "board_id", "board_section_id", "carousel_slots"})
_SOURCE_FIELDS = {
    "image_url": frozenset({"source_type", "url", "is_standard"}),
    "image_base64": frozenset({"source_type", "content_type", "data", "is_standard"}),
    "video_id": frozenset(
        {
            "source_type",
            "media_id",
            "cover_image_url",
            "cover_image_data",
            "cover_image_content_type",
            "cover_image_key_frame_time",
            "is_standard",
        }
    ),
}
_UNEMULATED_SOURCES = ("multiple_image_base64", "multiple_image_urls", "pin_url")
_CONTENT_TYPES = ("image/jpeg", "image/png")
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
_PRIVACY_FILTERS = {
    "ALL": ("PUBLIC", "PROTECTED", "SECRET"),
    "PUBLIC": ("PUBLIC",),
    "PROTECTED": ("PROTECTED",),
    "SECRET": ("SECRET",),
    "PUBLIC_AND_SECRET": ("PUBLIC", "SECRET"),
}
_IMAGE_SIZES = {
    "150x150": (150, 150),
    "400x300": (400, 300),
    "600x": (600, 900),
    "1200x": (1200, 1800),
}
UPLOAD_FIELDS = (
    "Content-Type",
    "key",
    "policy",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-signature",
)


def _fail(status: int, code: int, message: str) -> Abort:
    return Abort(Response(status, json={"code": code, "message": message}))


def _invalid(message: str) -> Abort:
    return _fail(400, 1, f"Invalid parameters: {message}")


def _s3_error(status: int, code: str, message: str) -> Abort:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    )
    return Abort(Response(status, body=xml.encode(), headers={"Content-Type": "application/xml"}))


def _now() -> str:
    """A timestamp as Pinterest writes it: UTC, seconds, no time-zone suffix."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _matches(pattern: str, value: str) -> bool:
    """Match a spec (ECMAScript) pattern of the form ^...$ against all of `value`."""
    return re.fullmatch(pattern.removeprefix("^").removesuffix("$"), value, re.ASCII) is not None


def _object(request: Request, allowed: frozenset[str]) -> dict[str, Any]:
    """The JSON object body, refusing fields the schema does not define."""
    if request.content_type != "application/json":
        raise _invalid("the request body must be application/json")
    try:
        body = request.json
    except ValueError as error:
        raise _invalid(f"the request body is not valid JSON ({error})") from None
    if not isinstance(body, dict):
        raise _invalid("the request body must be a JSON object")
    return _known(body, allowed, "")


def _known(value: dict[str, Any], allowed: frozenset[str], where: str) -> dict[str, Any]:
    unknown = sorted(set(value) - allowed)
    if unknown:
        listed = ", ".join(repr(name) for name in unknown)
        verb = "was" if len(unknown) == 1 else "were"
        raise _invalid(f"{where}Additional properties are not allowed ({listed} {verb} unexpected)")
    return value


def _string(
    body: Mapping[str, Any],
    name: str,
    *,
    nullable: bool = False,
    max_length: int | None = None,
    pattern: str | None = None,
) -> str | None:
    """An optional string field checked as the spec says; None when absent (or null)."""
    if name not in body or (nullable and body[name] is None):
        return None
    value = body[name]
    if not isinstance(value, str):
        raise _invalid(f"{name}: {json.dumps(value)} is not of type 'string'")
    if max_length is not None and len(value) > max_length:
        raise _invalid(f"{name}: is too long ({len(value)} > maximum length {max_length})")
    if pattern is not None and not _matches(pattern, value):
        raise _invalid(f"{name}: '{value}' does not match '{pattern}'")
    return value


def _required(body: Mapping[str, Any], name: str, **checks: Any) -> str:
    if name not in body:
        raise _invalid(f"'{name}' is a required property")
    value = _string(body, name, **checks)
    assert value is not None
    return value


def _enum(body: Mapping[str, Any], name: str, values: tuple[str, ...]) -> None:
    if name in body and body[name] not in values:
        raise _invalid(f"{name}: {json.dumps(body[name])} is not one of {list(values)}")


def _query(request: Request, name: str) -> str | None:
    values = request.query.get(name)
    return values[0] if values else None


def _path_id(request: Request, name: str) -> str:
    value = request.params[name]
    if not _matches(ID_PATTERN, value):
        raise _invalid(f"{name}: '{value}' does not match '{ID_PATTERN}'")
    return value


def _check_link(link: str | None) -> None:
    if link:
        url = urlsplit(link)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise _fail(*LINK_INVALID)


def _check_fetchable(url: str) -> None:
    """Pinterest fetches image URLs while creating the Pin; here only public https URLs work."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise _fail(*IMAGE_NOT_FETCHED)


def _decode_image(data: str) -> bytes:
    try:
        image = base64.b64decode(data, validate=True)
    except binascii.Error:
        raise _fail(*IMAGE_BROKEN) from None
    if not image.startswith(_IMAGE_MAGIC):
        raise _fail(*IMAGE_BROKEN)
    return image


def _media_source(value: object) -> dict[str, Any]:
    """Check `media_source` against the PinMediaSource variant named by its source_type."""
    if not isinstance(value, dict):
        raise _invalid("media_source: must be an object")
    source_type = value.get("source_type")
    if source_type in _UNEMULATED_SOURCES:
        raise _invalid(f"media_source: source_type '{source_type}' is not emulated")
    if source_type not in _SOURCE_FIELDS:
        raise _invalid(f"media_source.source_type: {json.dumps(source_type)} is not valid")
    source = _known(value, _SOURCE_FIELDS[source_type], "media_source: ")
    if not isinstance(source.get("is_standard", True), bool):
        raise _invalid("media_source.is_standard: is not of type 'boolean'")
    if source_type == "image_url":
        _required(source, "url")
    elif source_type == "image_base64":
        _required(source, "content_type")
        _enum(source, "content_type", _CONTENT_TYPES)
        _required(source, "data", pattern=BASE64_PATTERN)
    else:
        _required(source, "media_id", pattern=ID_PATTERN)
        _string(source, "cover_image_url")
        _string(source, "cover_image_data")
        _enum(source, "cover_image_content_type", _CONTENT_TYPES)
        frame = source.get("cover_image_key_frame_time", 0)
        if not isinstance(frame, int) or isinstance(frame, bool) or frame < 0:
            raise _invalid("media_source.cover_image_key_frame_time: must be an integer >= 0")
    return source


def _image_sizes(digest: str) -> dict[str, dict[str, Any]]:
    path = f"{digest[:2]}/{digest[2:4]}/{digest[4:6]}/{digest}.jpg"
    return {
        size: {"width": width, "height": height, "url": f"https://i.pinimg.com/{size}/{path}"}
        for size, (width, height) in _IMAGE_SIZES.items()
    }


def _digest(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _form_parts(request: Request) -> list[tuple[str, bytes]] | None:
    """The parts of a multipart/form-data body as (name, bytes), or None if it is not one."""
    head = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    if not message.is_multipart():
        return None
    parts = []
    for part in message.get_payload():
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts.append(
            (name if isinstance(name, str) else "", payload if isinstance(payload, bytes) else b"")
        )
    return parts


@dataclass
class _Upload:
    """A registered video upload: the presigned fields, then what processing will conclude."""

    parameters: dict[str, str]
    outcome: str | None = None  # "succeeded" or "failed" once the file is uploaded
    polls_left: int = 0


class PinterestEmulator(EmulatorServer):
    """Pinterest API v5 under /v5, plus /upload for video files.

    access_tokens: the Bearer tokens accepted; `expire_token` revokes one.
    refresh_token, client_id, client_secret: what POST /v5/oauth/token accepts.
    rotate_refresh_token: refreshes return a new refresh token that replaces the old one
        (the 5.23 spec's continuous refresh tokens); False returns an access token only.
    username, scope: the account behind the tokens.
    processing_polls: how many GET /v5/media/{id} after the upload report `processing` before
        the final status.
    write_limit_per_minute: org_write quota (POST, PATCH, DELETE under /v5) of each user (each
        access token: Standard access counts "per minute per user per app"), answered with 429
        code 8 and Retry-After; `minute` shortens the window (in seconds) for fast tests.
        Retry-After is whole seconds, or a fraction when less than one second is left.
    object_write_interval: writes to one Pin closer together than this many seconds get 429
        code 8, as Pinterest does for "multiple write operations ... within a short time window".
    seed: seeds the random draws of probabilistic faults.

    State, readable by tests (take `lock` while requests are in flight): `pins` (id -> Pin
    JSON), `boards` (id -> Board JSON without the computed pin_count and media), `sections`
    (board id -> section id -> BoardSection JSON), `media` (id -> Media JSON).
    """

    base_path = "/v5"

    def __init__(
        self,
        *,
        access_tokens: Iterable[str] = (ACCESS_TOKEN,),
        refresh_token: str = REFRESH_TOKEN,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        rotate_refresh_token: bool = True,
        username: str = "pinops-test",
        scope: str = SCOPE,
        processing_polls: int = 2,
        write_limit_per_minute: int | None = None,
        minute: float = 60.0,
        object_write_interval: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__(seed=seed)
        self.access_tokens = set(access_tokens)
        self.refresh_token = refresh_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.rotate_refresh_token = rotate_refresh_token
        self.username = username
        self.scope = scope
        self.processing_polls = processing_polls
        self.write_limit_per_minute = write_limit_per_minute
        self.minute = minute
        self.object_write_interval = object_write_interval
        self.pins: dict[str, dict[str, Any]] = {}
        self.boards: dict[str, dict[str, Any]] = {}
        self.sections: dict[str, dict[str, dict[str, str]]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self._uploads: dict[str, _Upload] = {}
        self._pin_ids = itertools.count(999658448514149467)
        self._board_ids = itertools.count(549755885175)
        self._section_ids = itertools.count(5195146620190)
        self._media_ids = itertools.count(5212123920968240771)
        self._writes: dict[str, collections.deque[float]] = {}  # by access token
        self._pin_written: dict[str, float] = {}

    # Helpers for tests

    def add_board(
        self, name: str, *, privacy: str = "PUBLIC", description: str | None = None
    ) -> str:
        """Create a board owned by the account; returns its id."""
        if privacy not in ("PUBLIC", "PROTECTED", "SECRET"):
            raise ValueError(f"unknown privacy {privacy!r}")
        with self.lock:
            board_id = str(next(self._board_ids))
            now = _now()
            self.boards[board_id] = {
                "id": board_id,
                "name": name,
                "description": description,
                "privacy": privacy,
                "owner": {"username": self.username},
                "created_at": now,
                "board_pins_modified_at": now,
                "follower_count": 0,
                "collaborator_count": 0,
                "is_ads_only": False,
            }
            self.sections[board_id] = {}
            return board_id

    def add_section(self, board_id: str, name: str) -> str:
        """Create a section in a board; returns its id."""
        with self.lock:
            section_id = str(next(self._section_ids))
            self.sections[board_id][section_id] = {"id": section_id, "name": name}
            return section_id

    def expire_token(self, token: str) -> None:
        """From now on `token` gets 401 code 2, as an expired or revoked token does."""
        with self.lock:
            self.access_tokens.discard(token)

    def spam_block(self, times: int | None = 1) -> Fault:
        """Make the next `times` Pin creations hit Pinterest's anti-spam 429."""
        body = {"code": 8, "message": SPAM_MESSAGE, "message_detail": SPAM_MESSAGE}
        return self.faults.add(
            Fault(kind="status", status=429, method="POST", path="/v5/pins", times=times, body=body)
        )

    # Hooks of EmulatorServer

    def admit(self, request: Request) -> None:
        if request.path in ("/upload", "/v5/oauth/token"):
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in self.access_tokens:
            raise _fail(*AUTHENTICATION_FAILED)
        if request.method != "GET" and self.write_limit_per_minute is not None:
            now = time.monotonic()
            writes = self._writes.setdefault(token, collections.deque())
            while writes and writes[0] <= now - self.minute:
                writes.popleft()
            if len(writes) >= self.write_limit_per_minute:
                raise self._rate_limited(writes[0] + self.minute - now)
            writes.append(now)

    def error_response(self, status: int, message: str | None = None) -> Response:
        code, default = _DEFAULT_ERRORS.get(status, (status, HTTPStatus(status).phrase))
        return Response(status, json={"code": code, "message": message or default})

    def response_headers(self, request: Request) -> dict[str, str]:
        if request.path == "/upload":
            return {"x-amz-request-id": uuid.uuid4().hex[:16].upper()}
        return {"x-pinterest-rid": uuid.uuid4().hex[:16]}

    # OAuth

    @route("POST", "/v5/oauth/token")
    def oauth_token(self, request: Request) -> Response:
        if not self._client_authenticated(request):
            raise _fail(*AUTHENTICATION_FAILED)
        if request.content_type != "application/x-www-form-urlencoded":
            raise _invalid("the request body must be application/x-www-form-urlencoded")
        form = {name: values[-1] for name, values in request.form.items()}
        _required(form, "grant_type")
        if form["grant_type"] != "refresh_token":
            raise _invalid(f"grant_type: '{form['grant_type']}' is not emulated")
        if _required(form, "refresh_token") != self.refresh_token:
            raise _fail(*GRANT_INVALID)
        scope = form.get("scope") or self.scope
        if not set(scope.split(",")) <= set(self.scope.split(",")):
            raise _invalid(f"scope: '{scope}' exceeds the scopes granted")
        access_token = f"pina_{uuid.uuid4().hex}"
        self.access_tokens.add(access_token)
        body: dict[str, Any] = {
            "access_token": access_token,
            "response_type": "refresh_token",
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": scope,
        }
        if self.rotate_refresh_token:
            self.refresh_token = f"pinr_{uuid.uuid4().hex}"
            body["refresh_token"] = self.refresh_token
            body["refresh_token_expires_in"] = REFRESH_TOKEN_SECONDS
            body["refresh_token_expires_at"] = int(time.time()) + REFRESH_TOKEN_SECONDS
        return Response(200, json=body)

    def _client_authenticated(self, request: Request) -> bool:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return scheme.lower() == "basic" and decoded == f"{self.client_id}:{self.client_secret}"

    # Boards and sections

    @route("GET", "/v5/boards")
    def list_boards(self, request: Request) -> Response:
        privacy = _query(request, "privacy") or "ALL"
        if privacy not in _PRIVACY_FILTERS:
            raise _invalid(f"privacy: '{privacy}' is not one of {list(_PRIVACY_FILTERS)}")
        boards = [
            self._board_view(board)
            for board in self.boards.values()
            if board["privacy"] in _PRIVACY_FILTERS[privacy]
        ]
        return self._page(request, f"boards:{privacy}", boards)

    @route("GET", "/v5/boards/{board_id}")
    def get_board(self, request: Request) -> Response:
        return Response(200, json=self._board_view(self._board(_path_id(request, "board_id"))))

    @route("GET", "/v5/boards/{board_id}/sections")
    def list_sections(self, request: Request) -> Response:
        board_id = self._board(_path_id(request, "board_id"))["id"]
        sections = list(self.sections[board_id].values())
        return self._page(request, f"sections:{board_id}", sections)

    @route("GET", "/v5/boards/{board_id}/pins")
    def list_board_pins(self, request: Request) -> Response:
        board_id = self._board(_path_id(request, "board_id"))["id"]
        return self._page(request, f"pins:{board_id}", self._board_pins(board_id))

    def _page(self, request: Request, listing: str, items: list[Any]) -> Response:
        """One page of `items`: `page_size` (1-250, default 25) from an opaque `bookmark`."""
        size = _query(request, "page_size") or "25"
        if not _matches(ID_PATTERN, size) or not 1 <= int(size) <= 250:
            raise _invalid(f"page_size: '{size}' is not an integer from 1 to 250")
        start = 0
        bookmark = _query(request, "bookmark")
        if bookmark is not None:
            try:
                given, offset = base64.urlsafe_b64decode(bookmark).decode().rsplit("|", 1)
                start = int(offset)
            except (ValueError, binascii.Error):
                raise _invalid("bookmark: not a bookmark from this listing") from None
            if given != listing:
                raise _invalid("bookmark: not a bookmark from this listing")
        end = start + int(size)
        after = base64.urlsafe_b64encode(f"{listing}|{end}".encode()).decode()
        page = {"items": items[start:end], "bookmark": after if end < len(items) else None}
        return Response(200, json=page)

    def _board(self, board_id: str) -> dict[str, Any]:
        board = self.boards.get(board_id)
        if board is None:
            raise _fail(*BOARD_NOT_FOUND)
        return board

    def _board_pins(self, board_id: str) -> list[dict[str, Any]]:
        """The board's Pins, sections included, newest first."""
        return [pin for pin in reversed(self.pins.values()) if pin["board_id"] == board_id]

    def _board_view(self, board: dict[str, Any]) -> dict[str, Any]:
        pins = self._board_pins(board["id"])
        media = {
            "image_cover_url": pins[0]["media"]["images"]["400x300"]["url"] if pins else None,
            "pin_thumbnail_urls": [pin["media"]["images"]["150x150"]["url"] for pin in pins[:4]],
        }
        return {**board, "pin_count": len(pins), "media": media}

    def _check_placement(self, board_id: str, section_id: str | None) -> None:
        self._board(board_id)
        if section_id is not None and section_id not in self.sections[board_id]:
            raise _fail(*SECTION_NOT_FOUND)

    # Pins

    @route("POST", "/v5/pins")
    def create_pin(self, request: Request) -> Response:
        body = _object(request, _PIN_CREATE_FIELDS)
        board_id = _required(body, "board_id", pattern=ID_PATTERN)
        section_id = _string(body, "board_section_id", nullable=True, pattern=ID_PATTERN)
        text = {
            name: _string(body, name, nullable=True, max_length=limit)
            for name, limit in _TEXT_LIMITS.items()
        }
        dominant_color = _string(body, "dominant_color", nullable=True)
        parent_pin_id = _string(body, "parent_pin_id", nullable=True, pattern=ID_PATTERN)
        _string(body, "sponsor_id", nullable=True, pattern=ID_PATTERN)
        if "media_source" not in body:
            raise _invalid("'media_source' is a required property")
        source = _media_source(body["media_source"])
        _check_link(text["link"])
        self._check_placement(board_id, section_id)
        media, creative_type = self._pin_media(source)
        pin_id = str(next(self._pin_ids))
        digest = _digest(pin_id.encode())
        self.pins[pin_id] = {
            "id": pin_id,
            "created_at": _now(),
            **text,
            "dominant_color": dominant_color or f"#{digest[:6].upper()}",
            "board_id": board_id,
            "board_section_id": section_id,
            "board_owner": {"username": self.username},
            "parent_pin_id": parent_pin_id,
            "is_owner": True,
            "is_standard": source.get("is_standard", True),
            "has_been_promoted": False,
            "creative_type": creative_type,
            "media": media,
        }
        self._pin_written[pin_id] = time.monotonic()
        self.boards[board_id]["board_pins_modified_at"] = _now()
        return Response(201, json=self.pins[pin_id])

    @route("GET", "/v5/pins/{pin_id}")
    def get_pin(self, request: Request) -> Response:
        return Response(200, json=self._pin(_path_id(request, "pin_id")))

    @route("PATCH", "/v5/pins/{pin_id}")
    def update_pin(self, request: Request) -> Response:
        pin_id = _path_id(request, "pin_id")
        body = _object(request, _PIN_UPDATE_FIELDS)
        for name, limit in _TEXT_LIMITS.items():
            _string(body, name, nullable=True, max_length=limit)
        _string(body, "board_id", pattern=ID_PATTERN)
        _string(body, "board_section_id", nullable=True, pattern=ID_PATTERN)
        _check_link(body.get("link"))
        pin = self._pin(pin_id)
        if "carousel_slots" in body:
            raise _invalid(f"carousel_slots: Pin {pin_id} is not a carousel Pin")
        board_id = body.get("board_id", pin["board_id"])
        moved = board_id != pin["board_id"]
        section_id = body.get("board_section_id", None if moved else pin["board_section_id"])
        self._check_placement(board_id, section_id)
        self._write_to_pin(pin_id)
        pin.update({name: body[name] for name in _TEXT_LIMITS if name in body})
        for touched in {pin["board_id"], board_id}:
            self.boards[touched]["board_pins_modified_at"] = _now()
        pin["board_id"], pin["board_section_id"] = board_id, section_id
        return Response(200, json=pin)

    @route("DELETE", "/v5/pins/{pin_id}")
    def delete_pin(self, request: Request) -> Response:
        pin_id = _path_id(request, "pin_id")
        pin = self._pin(pin_id)
        self._write_to_pin(pin_id)
        del self.pins[pin_id]
        self.boards[pin["board_id"]]["board_pins_modified_at"] = _now()
        return Response(204)

    def _pin(self, pin_id: str) -> dict[str, Any]:
        pin = self.pins.get(pin_id)
        if pin is None:
            raise _fail(*PIN_NOT_FOUND)
        return pin

    def _write_to_pin(self, pin_id: str) -> None:
        now = time.monotonic()
        last = self._pin_written.get(pin_id)
        if last is not None and now - last < self.object_write_interval:
            raise self._rate_limited(last + self.object_write_interval - now)
        self._pin_written[pin_id] = now

    def _rate_limited(self, wait: float) -> Abort:
        """429 code 8; Retry-After in whole seconds, or a fraction of one when that is all."""
        seconds = math.ceil(wait) if wait >= 1 else math.ceil(wait * 1000) / 1000
        return Abort(
            Response(
                429,
                json={"code": 8, "message": RATE_LIMIT_MESSAGE},
                headers={"Retry-After": f"{seconds:g}"},
            )
        )

    def _pin_media(self, source: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The Pin's `media` and `creative_type` for a checked media_source."""
        if source["source_type"] == "image_url":
            _check_fetchable(source["url"])
            digest = _digest(source["url"].encode())
            return {"media_type": "image", "images": _image_sizes(digest)}, "REGULAR"
        if source["source_type"] == "image_base64":
            digest = _digest(_decode_image(source["data"]))
            return {"media_type": "image", "images": _image_sizes(digest)}, "REGULAR"
        media = self.media.get(source["media_id"])
        if media is None:
            raise _fail(*MEDIA_NOT_FOUND)
        if media["status"] != "succeeded":
            raise _invalid(f"media_source: media {media['media_id']} is {media['status']}")
        if ("cover_image_data" in source) != ("cover_image_content_type" in source):
            raise _invalid("media_source: cover_image_data needs cover_image_content_type")
        if not {"cover_image_url", "cover_image_data", "cover_image_key_frame_time"} & set(source):
            raise _invalid(
                "media_source: a video Pin needs a cover: cover_image_url or "
                "cover_image_content_type with cover_image_data, or cover_image_key_frame_time"
            )
        if "cover_image_url" in source:
            _check_fetchable(source["cover_image_url"])
        if "cover_image_data" in source:
            _decode_image(source["cover_image_data"])
        digest = _digest(media["media_id"].encode())
        cover = f"https://i.pinimg.com/videos/thumbnails/originals/{digest[:2]}/{digest}.jpg"
        video = {
            "media_type": "video",
            "images": _image_sizes(digest),
            "cover_image_url": cover,
            "video_url": None,
            "duration": None,
            "height": None,
            "width": None,
        }
        return video, "VIDEO"

    # Video uploads

    @route("POST", "/v5/media")
    def register_media(self, request: Request) -> Response:
        body = _object(request, frozenset({"media_type"}))
        if "media_type" not in body:
            raise _invalid("'media_type' is a required property")
        _enum(body, "media_type", ("video",))
        media_id = str(next(self._media_ids))
        now = datetime.now(UTC)
        key = f"uploads/{_digest(media_id.encode())[:6]}/video:{media_id}"
        policy = {
            "expiration": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "conditions": [{"bucket": "pinterest-media-upload"}, {"key": key}],
        }
        encoded_policy = base64.b64encode(json.dumps(policy).encode()).decode()
        parameters = {
            "Content-Type": "multipart/form-data",
            "key": key,
            "policy": encoded_policy,
            "x-amz-algorithm": "AWS4-HMAC-SHA256",
            "x-amz-credential": f"ASIAEMULATOR/{now:%Y%m%d}/us-east-1/s3/aws4_request",
            "x-amz-date": f"{now:%Y%m%dT%H%M%SZ}",
            "x-amz-security-token": base64.b64encode(uuid.uuid4().bytes).decode(),
            "x-amz-signature": hashlib.sha256(encoded_policy.encode()).hexdigest(),
        }
        self.media[media_id] = {"media_id": media_id, "media_type": "video", "status": "registered"}
        self._uploads[media_id] = _Upload(parameters)
        return Response(
            201,
            json={
                "media_id": media_id,
                "media_type": "video",
                "upload_url": f"{self.origin}/upload",
                "upload_parameters": parameters,
            },
        )

    @route("GET", "/v5/media/{media_id}")
    def get_media(self, request: Request) -> Response:
        media_id = _path_id(request, "media_id")
        media = self.media.get(media_id)
        if media is None:
            raise _fail(*MEDIA_NOT_FOUND)
        upload = self._uploads[media_id]
        if upload.outcome is not None:
            media["status"] = "processing" if upload.polls_left else upload.outcome
            upload.polls_left = max(upload.polls_left - 1, 0)
        return Response(200, json=media)

    @route("POST", "/upload")
    def upload(self, request: Request) -> Response:
        """S3's presigned POST: the upload_parameters as form fields, then `file` last."""
        if "content-length" not in request.headers:
            raise _s3_error(
                411, "MissingContentLength", "You must provide the Content-Length HTTP header."
            )
        if "authorization" in request.headers:
            raise _s3_error(
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm form field or the "
                "Authorization header should be specified",
            )
        parts = _form_parts(request) if request.content_type == "multipart/form-data" else None
        if parts is None:
            raise _s3_error(
                412,
                "PreconditionFailed",
                "Bucket POST must be of the enclosure-type multipart/form-data",
            )
        fields: dict[str, str] = {}
        file = None
        for name, value in parts:
            if name == "file":
                file = value
                break  # S3 ignores every field after the file
            fields[name] = value.decode("utf-8", "replace")
        for name in UPLOAD_FIELDS:
            if name not in fields:
                raise _s3_error(
                    400,
                    "InvalidArgument",
                    f"Bucket POST must contain a field named '{name}'.  "
                    "If it is specified, please check the order of the fields.",
                )
        if file is None:
            raise _s3_error(
                400, "InvalidArgument", "POST requires exactly one file upload per request."
            )
        upload = next(
            (up for up in self._uploads.values() if up.parameters["key"] == fields["key"]), None
        )
        for name in UPLOAD_FIELDS:
            if upload is None or fields[name] != upload.parameters[name]:
                raise _s3_error(
                    403,
                    "AccessDenied",
                    f"Invalid according to Policy: Policy Condition failed: ['eq', '${name}']",
                )
        assert upload is not None
        upload.outcome = "succeeded" if file[4:8] == b"ftyp" else "failed"
        upload.polls_left = self.processing_polls
        return Response(204, headers={"ETag": f'"{_digest(file)}"'})
