"""A strict local emulator of RelayAPI for Pinterest pins, served over real HTTP.

It follows shared/reference/relayapi (RelayAPI's OpenAPI document, which says 3.1.0 but writes
3.0 schemas) and the facts AGGREGATORS.md §5 took from the same repository's server source:
the paths under /v1, the fields of `createPost`, `PinterestTargetOptions` and `PostMediaItem`, the
post as every answer carries it, and the error envelope `{"error": {"code", "message",
"details"?}}`.

    with RelayAPIEmulator() as api:
        board_id = api.add_board("Recipes")
        headers = {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "create-1"}
        httpx.post(f"{api.base_url}/v1/posts", headers=headers, json={...})

Served: GET /v1/accounts/{id}/pinterest-boards, POST /v1/media/presign (and PUT /_r2/{token},
a stand-in for the R2 URL it presigns), POST /v1/media/confirm, POST and GET /v1/posts, GET and
DELETE /v1/posts/{id}, POST /v1/posts/{id}/unpublish.

From the source (middleware/idempotency.ts), as the emulator does it: every non-GET request may
carry an `Idempotency-Key` (8-255 of `[A-Za-z0-9._:-]`, else 400 INVALID_IDEMPOTENCY_KEY). Its
receipt is bound to method + path; a completed request is answered again from the receipt with
`Idempotency-Replayed: true` (statuses 2xx-4xx but 408, 425, 429 are kept); the same key with
another body is 409 IDEMPOTENCY_KEY_REUSED; a request whose handler failed with a 5xx leaves an
unknown outcome, 409 IDEMPOTENCY_OUTCOME_UNKNOWN from then on. (IDEMPOTENCY_IN_PROGRESS, 409 with
Retry-After: 2, needs two requests at once: tests inject it as a fault.) Publishing is
asynchronous: `scheduled_at: "now"` answers 201 `publishing`, and the pin is published after
`publish_polls` GET /v1/posts/{id}. Presigned uploads are create-only (`If-None-Match: *`, 412
once the object exists) and must be confirmed before the media URL can be used.

Emulator choices where the references are silent or unsure (⚠️):
- ⚠️ Which Pinterest rules are checked at create (400) and which at publish (the target fails):
  MEDIA_REQUIRED, INVALID_MEDIA_MIX, unsupported types and CONTENT_TOO_LONG at create;
  BOARD_REQUIRED, COVER_IMAGE_REQUIRED and unconfirmed media at publish. Whether a
  `cover_image_key_frame_time` counts as a cover is unsaid: it does here.
- ⚠️ "cancelled", the status unpublish sets (server source), is not in the document's enum.
- ⚠️ The listing's `from` filters on `created_at`, newest first.
- ⚠️ `reference_url` is a stable URL on the media host: `https://media.relayapi.dev/r/{id}`.
- Stricter than documented, to catch misspellings: unknown fields in the body, in
  `target_options.pinterest` and in `media[]` are 400 VALIDATION_ERROR.
- A schedule more than 30 days ahead is refused, as the document says.
- No rate limit is emulated; tests inject 429s (with Retry-After) as faults.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from .posting import iso, now, parse_time, pin_ids, pin_url
from .server import Abort, EmulatorServer, Request, Response, route

API_KEY = "rlay_test_" + "3c1f9e7a0b2d4c68" * 2
ACCOUNT_ID = "acc_pin7f3c9a1b2d"
MEDIA_HOST = "https://media.relayapi.dev"
KEY_PATTERN = re.compile(r"[A-Za-z0-9._:-]{8,255}")
IMAGE_TYPES = ("image/jpeg", "image/png")
VIDEO_TYPES = ("video/mp4", "video/quicktime")

BODY_FIELDS = {
    "content", "cross_post_actions", "idea_id", "media", "recycling", "scheduled_at",
    "shorten_urls", "skip_signature", "target_options", "targets", "template_id",
    "template_variables", "timezone", "workspace_id",
}  # fmt: skip
PINTEREST_FIELDS = {
    "title", "board_id", "link", "alt_text", "cover_image_url", "cover_image_key_frame_time",
    "content", "media",
}  # fmt: skip
MEDIA_FIELDS = {
    "url",
    "type",
    "alt_text",
    "mime_type",
    "width",
    "height",
    "duration_ms",
    "thumbnail",
}
CODES = {
    400: "VALIDATION_ERROR", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 429: "RATE_LIMITED",
    500: "INTERNAL_ERROR", 502: "BAD_GATEWAY", 503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT",
}  # fmt: skip


def error(status: int, code: str, message: str, **details: Any) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return Response(status, json={"error": body})


def invalid(message: str, path: str = "") -> Abort:
    issue = {"path": path, "message": message}
    return Abort(error(400, "VALIDATION_ERROR", message, issues=[issue]))


def _is_uri(value: object) -> bool:
    parts = urlsplit(value) if isinstance(value, str) else None
    return bool(parts and parts.netloc and parts.scheme in ("http", "https"))


@dataclass
class Receipt:
    digest: str
    response: Response | None  # None while the outcome is unknown (the handler failed)


def idempotent(handler: Callable[[Any, Request], Response]) -> Callable[[Any, Request], Response]:
    """The idempotency middleware around a write handler (see the module docstring)."""

    @functools.wraps(handler)
    def guarded(self: RelayAPIEmulator, request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        if key is None:
            return handler(self, request)
        if not KEY_PATTERN.fullmatch(key):
            return error(400, "INVALID_IDEMPOTENCY_KEY", "Idempotency-Key must be 8-255 chars")
        scope = (request.method, request.path, key)
        digest = hashlib.sha256(request.body).hexdigest()
        receipt = self.receipts.get(scope)
        if receipt is not None:
            if receipt.digest != digest:
                return error(
                    409, "IDEMPOTENCY_KEY_REUSED", "Idempotency-Key reused with another body"
                )
            if receipt.response is None:
                return error(
                    409,
                    "IDEMPOTENCY_OUTCOME_UNKNOWN",
                    "The first request with this key failed; its outcome is unknown. Reconcile "
                    "instead of replaying.",
                )
            stored = receipt.response
            headers = {**stored.headers, "Idempotency-Replayed": "true"}
            return Response(stored.status, stored.json, stored.body, headers)
        try:
            response = handler(self, request)
        except Abort as abort:
            response = abort.response
        if response.status >= 500:
            self.receipts[scope] = Receipt(digest, None)
        elif response.status not in (408, 425, 429):
            self.receipts[scope] = Receipt(digest, response)
        return response

    return guarded


class RelayAPIEmulator(EmulatorServer):
    """RelayAPI under /v1.

    publish_polls: GET /v1/posts/{id} that still see a "now" post publishing (0: published in
    the create itself). State, readable by tests (take `lock` while requests are in flight):
    `accounts` (account id -> board id -> board), `posts` (id -> post as GET shows it), `pins`
    (pin id -> post id of every pin live on Pinterest), `uploads` (storage key -> bytes),
    `media` (media id -> confirmed media), `receipts` (idempotency receipts).
    """

    def __init__(self, *, api_key: str = API_KEY, publish_polls: int = 1, seed: int = 0) -> None:
        super().__init__(seed=seed)
        self.api_key = api_key
        self.publish_polls = publish_polls
        self.accounts: dict[str, dict[str, dict[str, Any]]] = {ACCOUNT_ID: {}}
        self.posts: dict[str, dict[str, Any]] = {}
        self.pins: dict[str, str] = {}
        self.uploads: dict[str, bytes] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.receipts: dict[tuple[str, str, str], Receipt] = {}
        self._presigned: dict[str, dict[str, Any]] = {}  # token -> the upload intent
        self._polls_left: dict[str, int] = {}
        self._failures: list[str] = []
        self._crashes = 0
        self._pin_ids = pin_ids()
        self._ids = itertools.count(1)
        self._board_ids = itertools.count(1_090_000_000_000_001)

    # Helpers for tests

    def add_board(self, name: str, account_id: str = ACCOUNT_ID) -> str:
        with self.lock:
            board_id = str(next(self._board_ids))
            url = f"https://www.pinterest.com/emulated/{name.lower().replace(' ', '-')}/"
            self.accounts.setdefault(account_id, {})[board_id] = {
                "id": board_id,
                "name": name,
                "url": url,
            }
            return board_id

    def fail_next(self, reason: str) -> None:
        """The next post published fails on Pinterest with this reason."""
        with self.lock:
            self._failures.append(reason)

    def crash_after_creating(self, times: int = 1) -> None:
        """The next creates store the post, then fail with a 500: an outcome left unknown."""
        with self.lock:
            self._crashes += times

    def expire_uploads(self) -> None:
        """Every presigned upload URL handed out so far has expired."""
        with self.lock:
            for intent in self._presigned.values():
                intent["expired"] = True

    def publish_scheduled(self) -> None:
        with self.lock:
            for post in self.posts.values():
                if post["status"] == "scheduled":
                    self._publish(post)

    def live_pins(self) -> list[dict[str, Any]]:
        """The pins live on Pinterest: each post's Pinterest options and media as published."""
        with self.lock:
            return [
                {**self.posts[post_id]["target_options"]["pinterest"], "pin_id": pin_id}
                for pin_id, post_id in self.pins.items()
            ]

    # Hooks

    def admit(self, request: Request) -> None:
        if request.path.startswith("/v1/") and (
            request.headers.get("authorization") != f"Bearer {self.api_key}"
        ):
            raise Abort(error(401, "UNAUTHORIZED", "Invalid or missing API key"))

    def error_response(self, status: int, message: str | None = None) -> Response:
        if status == 429:
            response = error(429, "RATE_LIMITED", "Rate limit exceeded. Please try again shortly.")
            return Response(429, response.json, headers={"Retry-After": "60"})
        return error(status, CODES.get(status, "ERROR"), message or HTTPStatus(status).phrase)

    # Boards and media

    @route("GET", "/v1/accounts/{id}/pinterest-boards")
    def boards(self, request: Request) -> Response:
        boards = self.accounts.get(request.params["id"])
        if boards is None:
            return error(404, "NOT_FOUND", "Account not found")
        return Response(200, json={"data": list(boards.values())})

    @route("POST", "/v1/media/presign")
    @idempotent
    def presign(self, request: Request) -> Response:
        body = self._json(request)
        filename, content_type = body.get("filename"), body.get("content_type")
        if not isinstance(filename, str) or not filename:
            raise invalid("filename is required", "filename")
        if not isinstance(content_type, str) or "/" not in content_type:
            raise invalid("content_type is required", "content_type")
        number = next(self._ids)
        media_id = f"med_{number:08x}"
        key = f"org_emulated/{media_id}/{filename}"
        token = hashlib.sha256(f"{key}{request.arrived}".encode()).hexdigest()[:24]
        self._presigned[token] = {"id": media_id, "key": key, "type": content_type}
        return Response(
            200,
            json={
                "id": media_id,
                "upload_url": f"{self.origin}/_r2/{token}?X-Amz-Expires=3600",
                "upload_headers": {"Content-Type": content_type, "If-None-Match": "*"},
                "url": f"{MEDIA_HOST}/{key}",
                "expires_in": 3600,
            },
        )

    @route("PUT", "/_r2/{token}")
    def upload(self, request: Request) -> Response:
        intent = self._presigned.get(request.params["token"])
        if intent is None or intent.get("expired"):
            return Response(403, body=b"AccessDenied: Request has expired")
        if "authorization" in request.headers:
            return Response(400, body=b"InvalidArgument: only one auth mechanism allowed")
        if request.content_type != intent["type"] or request.headers.get("if-none-match") != "*":
            return Response(403, body=b"SignatureDoesNotMatch: send upload_headers exactly")
        if intent["key"] in self.uploads:
            return Response(412, body=b"PreconditionFailed: the object exists")
        if not request.body:
            return Response(400, body=b"empty body")
        self.uploads[intent["key"]] = request.body
        return Response(200)

    @route("POST", "/v1/media/confirm")
    @idempotent
    def confirm(self, request: Request) -> Response:
        key = self._json(request).get("storage_key")
        intent = next((i for i in self._presigned.values() if i["key"] == key), None)
        if intent is None or key not in self.uploads:
            return error(404, "NOT_FOUND", "Media not found: upload it before confirming")
        media_id = intent["id"]
        filename = key.rsplit("/", 1)[1]
        self.media[media_id] = {
            "id": media_id,
            "workspace_id": None,
            "original_available": True,
            "url": f"{MEDIA_HOST}/{key}?expires=3600",
            "reference_url": f"{MEDIA_HOST}/r/{media_id}",
            "filename": filename,
            "mime_type": intent["type"],
            "size": len(self.uploads[key]),
            "width": None,
            "height": None,
            "duration": None,
            "processing_status": "not_requested",
            "created_at": iso(now()),
        }
        return Response(200, json=self.media[media_id])

    # Posts

    @route("POST", "/v1/posts")
    @idempotent
    def create(self, request: Request) -> Response:
        body = self._json(request)
        unknown = set(body) - BODY_FIELDS
        if unknown:
            raise invalid(f"Unknown field {sorted(unknown)[0]}", sorted(unknown)[0])
        targets = body.get("targets")
        if (
            not isinstance(targets, list)
            or not targets
            or not all(isinstance(t, str) for t in targets)
        ):
            raise invalid(
                "targets must list at least one account, platform or workspace", "targets"
            )
        status, when = self._timing(body)
        options = (body.get("target_options") or {}).get("pinterest", {})
        media = body.get("media", [])
        self._check_pinterest(body, options, media)
        moment = now()
        post_id = f"post_{next(self._ids):08x}"
        accounts = [a for t in targets for a in self._resolve(t)]
        post: dict[str, Any] = {
            "id": post_id,
            "status": status,
            "content": body.get("content"),
            "scheduled_at": iso(when) if when else ("now" if status == "publishing" else None),
            "published_at": None,
            "timezone": body.get("timezone", "UTC"),
            "media": media,
            "targets": {a: self._target(a, status) for a in accounts},
            "target_options": body.get("target_options"),
            "recycling": None,
            "recycled_from_id": None,
            "created_at": iso(moment),
            "updated_at": iso(moment),
        }
        self.posts[post_id] = post
        if status == "publishing":
            if self.publish_polls:
                self._polls_left[post_id] = self.publish_polls
            else:
                self._publish(post)
        if self._crashes:
            self._crashes -= 1
            return error(500, "INTERNAL_ERROR", "Internal error")
        return Response(201, json=post)

    def _timing(self, body: dict[str, Any]) -> tuple[str, datetime | None]:
        scheduled = body.get("scheduled_at")
        if not isinstance(scheduled, str):
            raise invalid(
                'scheduled_at is required: "now", "draft", "auto" or ISO 8601', "scheduled_at"
            )
        try:
            zone = zoneinfo.ZoneInfo(body.get("timezone", "UTC"))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            raise invalid("timezone must be an IANA time zone", "timezone") from None
        if scheduled in ("now", "draft"):
            return {"now": "publishing", "draft": "draft"}[scheduled], None
        when = parse_time(scheduled)
        if when is None:
            try:
                when = datetime.fromisoformat(scheduled).replace(tzinfo=zone)
            except ValueError:
                raise invalid("scheduled_at is not an ISO 8601 date-time", "scheduled_at") from None
        if not now() < when <= now() + timedelta(days=30):
            raise invalid(
                "scheduled_at must be in the future and at most 30 days ahead", "scheduled_at"
            )
        return "scheduled", when

    def _check_pinterest(self, body: dict[str, Any], options: object, media: object) -> None:
        if not isinstance(options, dict) or set(options) - PINTEREST_FIELDS:
            raise invalid("Unknown Pinterest option", "target_options.pinterest")
        for name, limit in (("title", 100), ("alt_text", 500)):
            if name in options and (
                not isinstance(options[name], str) or len(options[name]) > limit
            ):
                raise invalid(
                    f"{name} must be at most {limit} characters", f"target_options.pinterest.{name}"
                )
        for name in ("link", "cover_image_url"):
            if name in options and not _is_uri(options[name]):
                raise invalid(f"{name} must be a URL", f"target_options.pinterest.{name}")
        frame = options.get("cover_image_key_frame_time")
        if frame is not None and (not isinstance(frame, int | float) or frame < 0):
            raise invalid("cover_image_key_frame_time must be >= 0", "target_options.pinterest")
        if not isinstance(media, list) or not media:
            raise Abort(error(400, "MEDIA_REQUIRED", "Pinterest pins need an image or a video"))
        for item in media:
            if (
                not isinstance(item, dict)
                or set(item) - MEDIA_FIELDS
                or not _is_uri(item.get("url"))
            ):
                raise invalid("media[] items need a url and known fields only", "media")
            if item.get("type") not in (None, "image", "video", "gif", "document", "audio"):
                raise invalid("media[].type is not a media type", "media")
            if item.get("type") == "gif" or str(item["url"]).lower().endswith(".gif"):
                raise Abort(error(400, "UNSUPPORTED_MEDIA_TYPE", "Pinterest does not take GIFs"))
        kinds = [self._kind(item) for item in media]
        images, videos = kinds.count("image"), kinds.count("video")
        if not ((videos == 0 and 1 <= images <= 5) or (videos == 1 and images == 0)):
            raise Abort(error(400, "INVALID_MEDIA_MIX", "1 image, 2-5 images, or 1 video"))
        text = options.get("content", body.get("content")) or ""
        # Its Pinterest page: "Description limit | 500 characters" (its server checks 800).
        if len(text) > 500:
            raise Abort(
                error(400, "CONTENT_TOO_LONG", "Pinterest descriptions take 500 characters")
            )

    def _kind(self, item: dict[str, Any]) -> str:
        if item.get("type"):
            return str(item["type"])
        confirmed = next(
            (m for m in self.media.values() if m["reference_url"] == item["url"]), None
        )
        if confirmed:
            return "video" if confirmed["mime_type"] in VIDEO_TYPES else "image"
        return "video" if item["url"].lower().endswith((".mp4", ".mov")) else "image"

    def _resolve(self, target: str) -> list[str]:
        if target in self.accounts:
            return [target]
        if target == "pinterest":  # a platform name: every account on it
            return list(self.accounts)
        raise invalid(f"Unknown target {target}", "targets")

    def _target(self, account_id: str, status: str) -> dict[str, Any]:
        number = next(self._ids)
        account = {
            "id": account_id,
            "username": "emulated.pinner",
            "display_name": "Emulated Pinner",
            "avatar_url": None,
            "url": None,
            "platform_post_id": None,
            "target_id": f"pt_{number:08x}",
            "publish_operation_id": f"op_{number:08x}",
            "delivery_state": "queued",
        }
        return {"status": status, "platform": "pinterest", "accounts": [account]}

    def _publish(self, post: dict[str, Any]) -> None:
        options = (post["target_options"] or {}).get("pinterest", {})
        moment = iso(now())
        post["updated_at"] = moment
        for account_id, target in post["targets"].items():
            account = target["accounts"][0]
            code, reason = self._failure(post, options, account_id)
            if reason:
                target["status"] = "failed"
                target["error"] = {"code": code, "message": reason}
                account["delivery_state"] = "failed"
                continue
            pin_id = next(self._pin_ids)
            target["status"] = "published"
            account.update(platform_post_id=pin_id, url=pin_url(pin_id), delivery_state="succeeded")
            self.pins[pin_id] = post["id"]
        statuses = {target["status"] for target in post["targets"].values()}
        post["status"] = (
            "published"
            if statuses == {"published"}
            else ("failed" if statuses == {"failed"} else "partial")
        )
        if "published" in statuses:
            post["published_at"] = moment

    def _failure(
        self, post: dict[str, Any], options: dict[str, Any], account_id: str
    ) -> tuple[str, str | None]:
        if self._failures:
            return "PLATFORM_ERROR", self._failures.pop(0)
        boards = self.accounts[account_id]
        if "board_id" not in options:
            return "BOARD_REQUIRED", "No board_id and no default board for this account"
        if options["board_id"] not in boards:
            return "BOARD_NOT_FOUND", f"Board {options['board_id']} not found"
        for item in post["media"]:
            url = item["url"]
            if url.startswith(MEDIA_HOST) and url not in {
                m["reference_url"] for m in self.media.values()
            }:
                return "MEDIA_NOT_READY", f"Media {url} was never confirmed"
        video = any(self._kind(item) == "video" for item in post["media"])
        if video and not ({"cover_image_url", "cover_image_key_frame_time"} & set(options)):
            return "COVER_IMAGE_REQUIRED", "Pinterest video pins need a cover image"
        frame = options.get("cover_image_key_frame_time")
        if frame is not None and frame != int(frame):
            return "INVALID_KEY_FRAME", "cover_image_key_frame_time must be whole seconds"
        return "", None

    @route("GET", "/v1/posts")
    def list_posts(self, request: Request) -> Response:
        query = {name: values[-1] for name, values in request.query.items()}
        try:
            limit, offset = int(query.get("limit", "20")), int(query.get("cursor") or "0")
        except ValueError:
            raise invalid("limit and cursor must be valid") from None
        if not 1 <= limit <= 100:
            raise invalid("limit must be between 1 and 100", "limit")
        since = parse_time(query["from"]) if "from" in query else None
        if "from" in query and since is None:
            raise invalid("from must be an ISO 8601 date-time", "from")
        posts = sorted(self.posts.values(), key=lambda p: (p["created_at"], p["id"]), reverse=True)
        posts = [
            p
            for p in posts
            if (not query.get("account_id") or query["account_id"] in p["targets"])
            and (not query.get("status") or p["status"] == query["status"])
            and (since is None or (parse_time(p["created_at"]) or since) >= since)
        ]
        page = posts[offset : offset + limit]
        more = offset + limit < len(posts)
        cursor = str(offset + limit) if more else None
        return Response(200, json={"data": page, "next_cursor": cursor, "has_more": more})

    @route("GET", "/v1/posts/{id}")
    def get_post(self, request: Request) -> Response:
        post = self._post(request)
        left = self._polls_left.get(post["id"])
        if left is not None:
            if left <= 1:
                del self._polls_left[post["id"]]
                self._publish(post)
            else:
                self._polls_left[post["id"]] = left - 1
        return Response(200, json=post)

    @route("DELETE", "/v1/posts/{id}")
    @idempotent
    def delete_post(self, request: Request) -> Response:
        post = self._post(request)
        attempted = any(
            a["delivery_state"] != "queued" for t in post["targets"].values() for a in t["accounts"]
        )
        if post["status"] not in ("draft", "scheduled") or attempted:
            return error(409, "INVALID_STATE", "Posts are immutable after publishing starts")
        del self.posts[post["id"]]
        return Response(204)

    @route("POST", "/v1/posts/{id}/unpublish")
    @idempotent
    def unpublish(self, request: Request) -> Response:
        post = self._post(request)
        body = self._json(request) if request.body else {}
        platforms = body.get("platforms", ["pinterest"])
        if not isinstance(platforms, list) or "pinterest" not in platforms:
            raise invalid("platforms must include pinterest", "platforms")
        if post["status"] not in ("published", "partial"):
            return error(409, "INVALID_STATE", f"Post is {post['status']}: nothing to unpublish")
        for target in post["targets"].values():
            for account in target["accounts"]:
                self.pins.pop(account.get("platform_post_id") or "", None)
        post["status"] = "cancelled"
        post["updated_at"] = iso(now())
        return Response(200, json=post)

    # Helpers

    def _post(self, request: Request) -> dict[str, Any]:
        post = self.posts.get(request.params["id"])
        if post is None:
            raise Abort(error(404, "POST_NOT_FOUND", "Post not found"))
        return post

    def _json(self, request: Request) -> dict[str, Any]:
        if request.content_type != "application/json":
            raise invalid("Content-Type must be application/json")
        try:
            body = request.json
        except ValueError:
            raise invalid("Malformed JSON body") from None
        if not isinstance(body, dict):
            raise invalid("The body must be a JSON object")
        return body
