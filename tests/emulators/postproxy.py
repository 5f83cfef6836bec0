"""A strict local emulator of Postproxy's API for Pinterest pins, served over real HTTP.

Postproxy publishes no OpenAPI document: this follows the contract recorded in
shared/reference/postproxy/README.md and AGGREGATORS.md §3 (its Ruby and Python SDKs, MCP server,
request collection and docs pages), with their field names exactly.

    with PostproxyEmulator() as api:
        board_id = api.add_board("Recipes")
        headers = {"Authorization": f"Bearer {API_KEY}"}
        httpx.post(f"{api.base_url}/posts", headers=headers, json={...})

Served under /api: GET /profiles, GET /profiles/{id}/placements (a Pinterest profile's boards),
POST /posts (JSON with media URLs, or multipart/form-data with `media[]` files), GET /posts
(pages from 0), GET and DELETE /posts/{id}. Every call may carry `?profile_group_id=`.

What is emulated as documented: `Authorization: Bearer`; the Pinterest rules of the docs page
(`board_id` required, title ≤ 100, body ≤ 500 as the description, `destination_link` ≤ 2,048,
one medium: jpg/gif/png/webp or mp4/mov, `cover_url`/`cover_file`/`thumb_offset` only for video);
publish now by omitting `post.scheduled_at`; the create answers 200 with the post `pending` and
publishes later; `Idempotency-Key` (≤ 255 characters, 2xx answers kept 24 hours and replayed,
the same key with another body is a 422, an error is not kept); the error bodies of the docs'
overview: 401 `{"error"}`, 404 `{"error"}`, 400 `{"status", "error", "message"}`,
422 `{"errors": [...]}`, 409 with `duplicate_post_id`, 429 "Posting rate limit reached".

Emulator choices where the references are silent or unsure (⚠️):
- A published platform entry carries `post_id` (the pin id) and `url`, as Postproxy's MCP server
  reads them; the SDK models do not list them.
- A post is published after `publish_polls` GET /posts/{id}; the post's status is then
  `processed`. Unknown fields are refused with a 400, so that a misspelt field cannot pass
  (`link` instead of `destination_link` included).
- A repeat of a post's content to the same profile within `duplicate_window` seconds (off unless
  set) is a 409 naming `duplicate_post_id`; failed posts do not count.
- `delete_on_platform=true` deletes the pin on Pinterest (Pinterest's support is ⚠️ unstated).
- The listing is newest first.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from .posting import Part, form_parts, iso, now, parse_time, pin_ids, pin_url, sniff
from .server import Abort, EmulatorServer, Request, Response, route

API_KEY = "pp_emu_4f1c0b9e7d2a6e8f3b5c"
PROFILE_ID = "prof_7Hq2Lx9"
IMAGE_TYPES = ("image/jpeg", "image/gif", "image/png", "image/webp")
VIDEO_TYPES = ("video/mp4", "video/quicktime")
MAX_IMAGE_BYTES = 32_000_000
IDEMPOTENCY_SECONDS = 24 * 3600
_POST_FIELDS = {"body", "scheduled_at", "draft"}
_TOP_FIELDS = {"post", "profiles", "media", "platforms", "queue_id", "queue_priority"}
_PINTEREST_FIELDS = {"format", "board_id", "title", "destination_link", "cover_url", "thumb_offset"}
_LIMITS = {"title": 100, "destination_link": 2048}


def _bad_request(message: str) -> Abort:
    return Abort(Response(400, json={"status": 400, "error": "Bad Request", "message": message}))


def _unprocessable(*errors: str) -> Abort:
    return Abort(Response(422, json={"errors": list(errors)}))


@dataclass
class _Stored:
    """A 2xx answer kept for an Idempotency-Key, with what it answered."""

    fingerprint: str
    status: int
    body: Any
    at: float


class PostproxyEmulator(EmulatorServer):
    """Postproxy's API under /api.

    api_key: the Bearer key accepted. publish_polls: GET /posts/{id} that still show a new post
    pending. duplicate_window: seconds in which the same content to the same profile is a 409.

    State, readable by tests (take `lock` while requests are in flight): `profiles` (id ->
    profile), `placements` (profile id -> board id -> {id, name}), `posts` (id -> post as GET
    shows it), `pins` (pin id -> post id of each pin live on Pinterest), `files` (media id ->
    bytes uploaded in a multipart create).
    """

    base_path = "/api"

    def __init__(
        self,
        *,
        api_key: str = API_KEY,
        publish_polls: int = 0,
        duplicate_window: float | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(seed=seed)
        self.api_key = api_key
        self.publish_polls = publish_polls
        self.duplicate_window = duplicate_window
        self.profiles: dict[str, dict[str, Any]] = {}
        self.placements: dict[str, dict[str, dict[str, Any]]] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self.pins: dict[str, str] = {}
        self.files: dict[str, bytes] = {}
        self._stored: dict[str, _Stored] = {}
        self._polls_left: dict[str, int] = {}
        self._failures: list[str] = []
        self._failing: dict[str, str] = {}
        self._fingerprints: dict[str, tuple[float, str]] = {}
        self._pin_ids = pin_ids()
        self._ids = itertools.count(1)
        self._board_ids = itertools.count(987_654_321_000_001)
        self.add_profile(PROFILE_ID)

    # Helpers for tests

    def add_profile(self, profile_id: str, platform: str = "pinterest") -> None:
        with self.lock:
            self.profiles[profile_id] = {
                "id": profile_id,
                "name": f"pinops-{platform}",
                "status": "active",
                "platform": platform,
                "profile_group_id": "pg_1",
                "expires_at": None,
                "post_count": 0,
            }
            self.placements[profile_id] = {}

    def add_board(self, name: str, profile_id: str = PROFILE_ID) -> str:
        with self.lock:
            board_id = str(next(self._board_ids))
            self.placements[profile_id][board_id] = {"id": board_id, "name": name}
            return board_id

    def fail_next(self, reason: str) -> None:
        """The next post published now fails on Pinterest with this platform error."""
        with self.lock:
            self._failures.append(reason)

    def publish_scheduled(self) -> None:
        with self.lock:
            for post in self.posts.values():
                if post["status"] == "scheduled":
                    self._publish(post)

    def age(self, seconds: float) -> None:
        """Make every post (and every kept answer) `seconds` older, as if made by an earlier run."""
        with self.lock:
            bodies = [*self.posts.values(), *(stored.body for stored in self._stored.values())]
            for post in bodies:
                created = parse_time(post["created_at"])
                assert created is not None
                post["created_at"] = iso(created - timedelta(seconds=seconds))

    def live_pins(self) -> list[dict[str, Any]]:
        with self.lock:
            return [self.posts[post_id]["platforms"][0] for post_id in self.pins.values()]

    # Hooks

    def admit(self, request: Request) -> None:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            raise Abort(Response(401, json={"error": "Invalid API key"}))

    def error_response(self, status: int, message: str | None = None) -> Response:
        if status == 400:
            return _bad_request(message or "Bad Request").response
        if status == 422:
            return _unprocessable(message or "Unprocessable").response
        if status == 429:
            return Response(429, json={"error": message or "Posting rate limit reached"})
        if status == 404:
            return Response(404, json={"error": "Not found"})
        return Response(status, json={"error": message or HTTPStatus(status).phrase})

    # Profiles and boards

    @route("GET", "/api/profiles")
    def list_profiles(self, request: Request) -> Response:  # noqa: ARG002
        return Response(200, json={"data": list(self.profiles.values())})

    @route("GET", "/api/profiles/{profile_id}/placements")
    def placements_of(self, request: Request) -> Response:
        profile = request.params["profile_id"]
        if profile not in self.profiles:
            return Response(404, json={"error": "Not found"})
        return Response(200, json={"data": list(self.placements[profile].values())})

    # Posts

    @route("POST", "/api/posts")
    def create_post(self, request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        fingerprint = hashlib.sha256(request.body).hexdigest()
        if key is not None:
            if not key or len(key) > 255:
                raise _bad_request("Idempotency-Key must be 1 to 255 characters")
            stored = self._stored.get(key)
            if stored and time.time() - stored.at < IDEMPOTENCY_SECONDS:
                if stored.fingerprint != fingerprint:
                    raise _unprocessable("Idempotency-Key was already used with another request")
                return Response(
                    stored.status, json=stored.body, headers={"Idempotent-Replayed": "true"}
                )
        body, uploads = self._parse(request)
        post = self._new_post(body, uploads)
        answer = Response(200, json=post)
        if key is not None:
            self._stored[key] = _Stored(fingerprint, 200, json.loads(json.dumps(post)), time.time())
        return answer

    @route("GET", "/api/posts")
    def list_posts(self, request: Request) -> Response:
        page = self._number(request, "page", 0)
        per_page = self._number(request, "per_page", 10)
        if per_page < 1 or per_page > 100:
            raise _bad_request("per_page must be between 1 and 100")
        status = _query(request, "status")
        platforms = [p for value in request.query.get("platforms", []) for p in value.split(",")]
        after = _query(request, "scheduled_after")
        since = parse_time(after) if after else None
        if after and since is None:
            raise _bad_request("scheduled_after must be an ISO 8601 time")
        posts = [
            post
            for post in reversed(self.posts.values())
            if (status is None or post["status"] == status)
            and (not platforms or post["platforms"][0]["platform"] in platforms)
            and (since is None or (post["scheduled_at"] or "") >= (after or ""))
        ]
        start = page * per_page
        data = posts[start : start + per_page]
        return Response(
            200, json={"total": len(posts), "page": page, "per_page": per_page, "data": data}
        )

    @route("GET", "/api/posts/{post_id}")
    def get_post(self, request: Request) -> Response:
        post = self._post(request.params["post_id"])
        left = self._polls_left.get(post["id"])
        if left == 0:
            del self._polls_left[post["id"]]
            self._publish(post)
        elif left is not None:
            self._polls_left[post["id"]] = left - 1
        return Response(200, json=post)

    @route("DELETE", "/api/posts/{post_id}")
    def delete_post(self, request: Request) -> Response:
        post = self._post(request.params["post_id"])
        flag = _query(request, "delete_on_platform") or "false"
        if flag not in ("true", "false"):
            raise _bad_request("delete_on_platform must be true or false")
        entry = post["platforms"][0]
        if flag == "true" and entry["status"] == "published":
            self.pins.pop(entry["post_id"], None)
        del self.posts[post["id"]]
        return Response(200, json={"deleted": True})

    # Parsing and checks

    def _parse(self, request: Request) -> tuple[dict[str, Any], dict[str, Part]]:
        """The create body as JSON sees it, and the files a multipart body carried."""
        parts = form_parts(request)
        if parts is not None:
            return _from_form(parts)
        if request.content_type != "application/json":
            raise _bad_request("Content-Type must be application/json or multipart/form-data")
        try:
            body = request.json
        except ValueError:
            raise _bad_request("Malformed JSON body") from None
        if not isinstance(body, dict):
            raise _bad_request("The body must be a JSON object")
        return body, {}

    def _new_post(self, body: dict[str, Any], uploads: dict[str, Part]) -> dict[str, Any]:
        _known(body, _TOP_FIELDS, "")
        post_fields = body.get("post")
        if not isinstance(post_fields, dict):
            raise _bad_request("param is missing or the value is empty: post")
        _known(post_fields, _POST_FIELDS, "post.")
        profiles = body.get("profiles")
        if not isinstance(profiles, list) or not profiles:
            raise _bad_request("param is missing or the value is empty: profiles")
        if any(p not in self.profiles for p in profiles):
            raise _unprocessable("Profile not found")
        params = (body.get("platforms") or {}).get("pinterest")
        if not isinstance(params, dict):
            raise _unprocessable("Pinterest requires a board: platforms.pinterest.board_id")
        _known(params, _PINTEREST_FIELDS, "platforms.pinterest.")
        text = post_fields.get("body", "")
        errors = self._pinterest_errors(profiles, text, params)
        media = self._media(body.get("media"), uploads, params, errors)
        if errors:
            raise _unprocessable(*errors)
        scheduled = post_fields.get("scheduled_at")
        if scheduled is not None and (parse_time(scheduled) or now()) <= now():
            raise _unprocessable("scheduled_at must be a time in the future")
        sent = body.get("media") or [
            hashlib.sha256(part.data).hexdigest() for part in uploads.values()
        ]
        duplicate = self._duplicate(profiles, text, sent, params)
        post_id = f"{next(self._ids):04d}{hashlib.sha1(str(time.time()).encode()).hexdigest()[:8]}"
        post = {
            "id": post_id,
            "body": text,
            "status": "scheduled" if scheduled else "pending",
            "scheduled_at": scheduled,
            "created_at": iso(now()),
            "media": media,
            "platforms": [
                {
                    "platform": "pinterest",
                    "status": "pending",
                    "params": params,
                    "error": None,
                    "error_details": None,
                    "attempted_at": None,
                    "insights": None,
                }
            ],
            "thread": [],
            "queue_id": body.get("queue_id"),
            "queue_priority": body.get("queue_priority"),
        }
        self._fingerprints[duplicate] = (time.time(), post_id)
        self.posts[post_id] = post
        if self._failures and not scheduled:
            self._failing[post_id] = self._failures.pop(0)
        if not scheduled:
            self._polls_left[post_id] = self.publish_polls
        return post

    def _pinterest_errors(
        self, profiles: list[str], text: str, params: dict[str, Any]
    ) -> list[str]:
        errors = []
        board = params.get("board_id")
        if not board:
            errors.append("Pinterest requires a board: platforms.pinterest.board_id")
        elif all(board not in self.placements.get(p, {}) for p in profiles):
            errors.append(f"Pinterest board {board} is not a placement of the profile")
        if params.get("format", "pin") != "pin":
            errors.append("Pinterest format must be pin")
        if not isinstance(text, str) or len(text) > 500:
            errors.append("Pinterest description (post body) is limited to 500 characters")
        for name, limit in _LIMITS.items():
            value = params.get(name)
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                errors.append(f"Pinterest {name} is limited to {limit} characters")
        link = params.get("destination_link")
        if isinstance(link, str) and urlsplit(link).scheme not in ("http", "https"):
            errors.append("Pinterest destination_link must be a URL")
        return errors

    def _media(
        self,
        urls: object,
        uploads: dict[str, Part],
        params: dict[str, Any],
        errors: list[str],
    ) -> list[dict[str, Any]]:
        files = [part for name, part in uploads.items() if name.startswith("media[]")]
        listed = urls if isinstance(urls, list) else []
        if len(listed) + len(files) != 1:
            errors.append("Pinterest requires exactly one image or video")
            return []
        if files:
            content_type = sniff(files[0].data) or files[0].content_type
            source, size = None, len(files[0].data)
        else:
            url = str(listed[0])
            if urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
                errors.append(f"Media URL must be a public https URL: {url}")
                return []
            content_type, source, size = _type_by_name(url), url, 0
        video = content_type in VIDEO_TYPES
        if content_type not in IMAGE_TYPES + VIDEO_TYPES:
            errors.append(
                "Pinterest takes one jpg, gif, png or webp image, or one mp4 or mov video"
            )
        elif not video and size > MAX_IMAGE_BYTES:
            errors.append("Pinterest images are limited to 32 MB")
        offset = params.get("thumb_offset", 0)
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            errors.append("thumb_offset must be a whole number of seconds")
        cover = "cover_url" in params or "cover_file" in uploads or "thumb_offset" in params
        if cover and not video:
            errors.append("cover_url, cover_file and thumb_offset are for video pins only")
        media_id = f"med_{next(self._ids)}"
        if files:
            self.files[media_id] = files[0].data
        if "cover_file" in uploads:
            self.files[media_id + "_cover"] = uploads["cover_file"].data
        return [
            {
                "id": media_id,
                "status": "processed",
                "error_message": None,
                "content_type": content_type,
                "source_url": source,
                "url": f"https://cdn.postproxy.dev/{media_id}",
            }
        ]

    def _duplicate(
        self, profiles: list[str], text: str, media: object, params: dict[str, Any]
    ) -> str:
        """The content's fingerprint; a 409 when it was posted within duplicate_window."""
        fingerprint = json.dumps([profiles, text, media, params], sort_keys=True)
        seen = self._fingerprints.get(fingerprint)
        if self.duplicate_window is not None and seen is not None:
            at, post_id = seen
            post = self.posts.get(post_id)
            failed = post is None or post["platforms"][0]["status"] == "failed"
            if time.time() - at < self.duplicate_window and not failed:
                raise Abort(
                    Response(
                        409,
                        json={"error": "Duplicate submission", "duplicate_post_id": post_id},
                    )
                )
        return fingerprint

    def _publish(self, post: dict[str, Any]) -> None:
        entry = post["platforms"][0]
        entry["attempted_at"] = iso(now())
        reason = self._failing.pop(post["id"], None)
        if reason is not None:
            entry["status"] = "failed"
            entry["error"] = reason
            entry["error_details"] = {
                "platform_error_code": 400,
                "platform_error_subcode": None,
                "platform_error_message": reason,
                "postproxy_note": None,
            }
        else:
            pin_id = next(self._pin_ids)
            entry |= {"status": "published", "post_id": pin_id, "url": pin_url(pin_id)}
            self.pins[pin_id] = post["id"]
        post["status"] = "processed"

    def _post(self, post_id: str) -> dict[str, Any]:
        post = self.posts.get(post_id)
        if post is None:
            raise Abort(Response(404, json={"error": "Not found"}))
        return post

    @staticmethod
    def _number(request: Request, name: str, default: int) -> int:
        raw = _query(request, name)
        if raw is None:
            return default
        if not raw.isdigit():
            raise _bad_request(f"{name} must be a whole number")
        return int(raw)


def _query(request: Request, name: str) -> str | None:
    values = request.query.get(name)
    return values[0] if values else None


def _known(value: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise _bad_request(f"unknown parameter: {where}{unknown[0]}")


def _type_by_name(url: str) -> str:
    """What Postproxy would find fetching `url`: here, the type its name ends in."""
    suffix = urlsplit(url).path.rsplit(".", 1)[-1].lower()
    types = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif"}
    types |= {"webp": "image/webp", "mp4": "video/mp4", "mov": "video/quicktime"}
    return types.get(suffix, "application/octet-stream")


def _from_form(parts: list[Part]) -> tuple[dict[str, Any], dict[str, Part]]:
    """A multipart create as the JSON body it stands for, Rails-style bracketed names read."""
    body: dict[str, Any] = {}
    uploads: dict[str, Part] = {}
    for number, part in enumerate(parts):
        if part.filename is not None:
            if part.name == "media[]":
                uploads[f"media[]{number}"] = part
            elif part.name == "platforms[pinterest][cover_file]":
                uploads["cover_file"] = part
            else:
                raise _bad_request(f"unknown file parameter: {part.name}")
            continue
        value: Any = part.data.decode("utf-8")
        keys = part.name.replace("]", "").split("[")
        target = body
        for key in keys[:-2] if keys[-1] == "" else keys[:-1]:
            target = target.setdefault(key, {})
        if keys[-1] == "":
            target.setdefault(keys[-2], []).append(value)
            continue
        if keys[-1] == "thumb_offset":
            try:
                value = int(value)  # an integer on its Pinterest page
            except ValueError:
                raise _bad_request("thumb_offset must be an integer") from None
        target[keys[-1]] = value
    return body, uploads
