"""A strict local emulator of Zernio's API (formerly Late) for Pinterest pins, over real HTTP.

It follows shared/reference/zernio (Zernio's OpenAPI 3.1 document): the paths under /api/v1, the
field names of `createPost`, `PinterestPlatformData`, `MediaItem`, `Post` and `PlatformTarget`,
and its error bodies: `ErrorResponse` `{error, type, code?, param?, details?}`, with the bare
`{"error": "Unauthorized"}` / `{"error": "Not found"}` its 401 and 404 document.

    with ZernioEmulator() as api:
        board_id = api.add_board("Recipes")
        headers = {"Authorization": f"Bearer {API_KEY}"}
        httpx.get(f"{api.base_url}/v1/accounts/{ACCOUNT_ID}/pinterest-boards", headers=headers)

Served: GET /v1/accounts/{accountId}/pinterest-boards, POST /v1/media/presign (and PUT
/_uploads/{token}, a stand-in for the storage URL it presigns), POST and GET /v1/posts, GET and
DELETE /v1/posts/{postId}, POST /v1/posts/{postId}/unpublish.

What the document says, and the emulator does:
- A post without `publishNow`, `scheduledFor` or `queuedFromProfile` is saved as a draft.
- `publishNow` publishes inside the request (201, `platformPostUrl` in the answer).
- `x-request-id` (a UUID) seen within `request_id_window` seconds: 200 with the original post in
  `existingPost`, nothing created. Otherwise (platform, accountId, content + media URLs) seen
  within 24 hours: 409 `{error, details: {accountId, platform, existingPostId}}`.
- Pinterest: at most `daily_limit` (25) posts a day per account: 429 with Retry-After.
- Unpublish keeps the record, with status `cancelled`; only draft and scheduled posts can be
  deleted.
Emulator choices where the references are silent or unsure (⚠️):
- ⚠️ The body of the 200 replay beyond `existingPost` is not documented: `{message, existingPost}`.
- ⚠️ The 25/day 429's `details` shape is not documented: `{limit, platform, accountId}`. Posts are
  counted when created to publish now; scheduled posts are not counted.
- ⚠️ The dedup ignores drafts, failed and cancelled posts ("already scheduled, publishing, or was
  posted", says its example message).
- ⚠️ "cancelled" is not in the document's `Post.status` enum, though unpublish documents it.
- ⚠️ An unknown `boardId` is a 400 (the document only says a missing one means the first board).
- A video's cover is optional, as its Pinterest page says (`coverImageKeyFrameTime` defaults to
  0); a description over its page's 500 characters fails to publish.
- Stricter than documented, to catch misspellings: unknown fields in the body, in
  `platformSpecificData` and in `mediaItems[]` are 400s; media must be one image or one video.
- `publish_polls` > 0 leaves publish-now posts `publishing` until that many GET /v1/posts/{id}.
- No per-minute request limit is emulated; tests inject 429s as faults.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import uuid
import zoneinfo
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from .posting import iso, now, parse_time, pin_ids, pin_url
from .server import Abort, EmulatorServer, Request, Response, route

API_KEY = "sk_" + "5e0c7a1f93b24d68" * 4  # Zernio keys: sk_ and 64 more characters
ACCOUNT_ID = "65f1c0a9e2b5af0012ab34cd"  # a SocialAccount._id (MongoDB ObjectId)
PROFILE_ID = "64f0a1b2c3d4e5f6a7b8c9d0"
MEDIA_HOST = "https://media.zernio.com"
DAY = 86400.0

BODY_FIELDS = {
    "title", "content", "mediaItems", "platforms", "scheduledFor", "publishNow", "isDraft",
    "timezone", "tags", "hashtags", "mentions", "crosspostingEnabled", "metadata",
    "tiktokSettings", "facebookSettings", "recycling", "queuedFromProfile", "queueId",
}  # fmt: skip
PLATFORM_FIELDS = {
    "platform", "accountId", "customContent", "customMedia", "scheduledFor", "platformSpecificData"
}  # fmt: skip
PINTEREST_FIELDS = {"title", "boardId", "link", "coverImageUrl", "coverImageKeyFrameTime"}
MEDIA_FIELDS = {
    "type", "url", "title", "altText", "filename", "size", "mimeType", "thumbnail",
    "instagramThumbnail", "tiktokProcessed",
}  # fmt: skip
UPLOAD_TYPES = (
    "image/jpeg", "image/jpg", "image/png", "image/webp", "image/gif", "video/mp4", "video/mpeg",
    "video/quicktime", "video/avi", "video/x-msvideo", "video/webm", "video/x-m4v",
    "application/pdf", "audio/mpeg", "audio/mp4", "audio/aac", "audio/ogg", "audio/wav",
    "audio/webm", "audio/x-m4a",
)  # fmt: skip
UNPUBLISH_PLATFORMS = (
    "threads", "facebook", "twitter", "linkedin", "youtube", "pinterest", "reddit", "bluesky",
    "googlebusiness", "telegram",
)  # fmt: skip
LIST_STATUSES = ("draft", "scheduled", "published", "failed")
SORTS = ("scheduled-desc", "scheduled-asc", "created-desc", "created-asc", "status", "platform")


def _invalid(message: str, param: str | None = None, status: int = 400) -> Abort:
    body: dict[str, Any] = {"error": message, "type": "invalid_request_error"}
    if param:
        body["param"] = param
    return Abort(Response(status, json=body))


def _is_uri(value: object, https: bool = False) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return bool(parts.netloc) and parts.scheme in (("https",) if https else ("http", "https"))


def _fingerprint(post: dict[str, Any]) -> str:
    """Zernio's duplicate check: (platform, accountId, content + media URLs)."""
    account_id = post["platforms"][0]["accountId"]["_id"]
    media = [item["url"] for item in post["mediaItems"]]
    text = json.dumps(["pinterest", account_id, post.get("content", ""), media])
    return hashlib.sha256(text.encode()).hexdigest()


def _request_id(request: Request) -> str | None:
    """The x-request-id sent, when it is a UUID (Zernio reuses only a valid one)."""
    value = request.headers.get("x-request-id", "")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


class ZernioEmulator(EmulatorServer):
    """Zernio's API under /api (so `base_url` is what the adapter's base_url is set to).

    State, readable by tests (take `lock` while requests are in flight): `accounts` (account id
    -> board id -> board), `posts` (post id -> post as GET shows it), `pins` (pin id -> post id of
    every pin live on Pinterest), `uploads` (public URL -> bytes).
    """

    base_path = "/api"

    def __init__(
        self,
        *,
        api_key: str = API_KEY,
        daily_limit: int = 25,
        publish_polls: int = 0,
        request_id_window: float = 300.0,
        seed: int = 0,
    ) -> None:
        super().__init__(seed=seed)
        self.api_key = api_key
        self.daily_limit = daily_limit
        self.publish_polls = publish_polls
        self.request_id_window = request_id_window
        self.accounts: dict[str, dict[str, dict[str, Any]]] = {ACCOUNT_ID: {}}
        self.posts: dict[str, dict[str, Any]] = {}
        self.pins: dict[str, str] = {}
        self.uploads: dict[str, bytes] = {}
        self._presigned: dict[str, tuple[str, str]] = {}  # token -> (public URL, content type)
        self._request_ids: dict[str, tuple[str, float]] = {}
        self._fingerprints: dict[str, tuple[str, float]] = {}
        self._publishes: dict[str, list[float]] = {}
        self._polls_left: dict[str, int] = {}
        self._failures: list[str] = []
        self._pin_ids = pin_ids()
        self._ids = itertools.count(0x65F1D0000000000000000001)
        self._board_ids = itertools.count(1_080_000_000_000_001)

    # Helpers for tests

    def add_board(self, name: str, account_id: str = ACCOUNT_ID) -> str:
        with self.lock:
            board_id = str(next(self._board_ids))
            board = {"id": board_id, "name": name, "description": "", "privacy": "PUBLIC"}
            self.accounts.setdefault(account_id, {})[board_id] = board
            return board_id

    def fail_next(self, reason: str) -> None:
        """The next post published fails on Pinterest with this reason."""
        with self.lock:
            self._failures.append(reason)

    def publish_scheduled(self) -> None:
        """Publish every scheduled post, as if its time had come."""
        with self.lock:
            for post in self.posts.values():
                if post["status"] == "scheduled":
                    self._publish(post)

    def remove_on_pinterest(self, pin_id: str) -> None:
        """The pin is deleted on Pinterest itself; Zernio's sync notices."""
        with self.lock:
            post = self.posts[self.pins.pop(pin_id)]
            post["platforms"][0]["removedFromPlatformAt"] = iso(now())

    def live_pins(self) -> list[dict[str, Any]]:
        """The pins live on Pinterest: the post's fields as Pinterest got them."""
        with self.lock:
            return [self._as_pin(self.posts[post_id]) for post_id in self.pins.values()]

    def _as_pin(self, post: dict[str, Any]) -> dict[str, Any]:
        target = post["platforms"][0]
        data, media = target.get("platformSpecificData", {}), post["mediaItems"][0]
        return {
            "id": target["platformPostId"],
            "board_id": data.get("boardId"),
            "title": data.get("title"),
            "description": post.get("content"),
            "link": data.get("link"),
            "alt_text": media.get("altText"),
            "media": media["url"],
            "cover": data.get("coverImageUrl", data.get("coverImageKeyFrameTime")),
        }

    # Hooks

    def admit(self, request: Request) -> None:
        if request.path.startswith("/api/") and (
            request.headers.get("authorization") != f"Bearer {self.api_key}"
        ):
            raise Abort(Response(401, json={"error": "Unauthorized"}))

    def error_response(self, status: int, message: str | None = None) -> Response:
        if status in (401, 404):
            return Response(status, json={"error": HTTPStatus(status).phrase})
        if status == 429:
            return Response(status, json={"error": "Rate limit exceeded", "details": {}})
        kind = "api_error" if status >= 500 else "invalid_request_error"
        return Response(status, json={"error": message or HTTPStatus(status).phrase, "type": kind})

    def response_headers(self, request: Request) -> dict[str, str]:
        rid = _request_id(request) or str(uuid.UUID(int=int(request.arrived * 1e9)))
        reset = int(request.arrived_wall) + 60
        return {
            "X-Request-Id": rid,
            "X-RateLimit-Limit": "60",
            "X-RateLimit-Remaining": "59",
            "X-RateLimit-Reset": str(reset),
        }

    # Boards and media

    @route("GET", "/api/v1/accounts/{accountId}/pinterest-boards")
    def boards(self, request: Request) -> Response:
        boards = self.accounts.get(request.params["accountId"])
        if boards is None:
            return Response(404, json={"error": "Account not found"})
        return Response(200, json={"boards": list(boards.values())})

    @route("POST", "/api/v1/media/presign")
    def presign(self, request: Request) -> Response:
        body = self._json(request)
        filename, content_type = body.get("filename"), body.get("contentType")
        if not isinstance(filename, str) or not filename:
            raise _invalid("filename is required", "filename")
        if content_type not in UPLOAD_TYPES:
            raise _invalid(f"Unsupported contentType: {content_type}", "contentType")
        size = body.get("size")
        if size is not None and (not isinstance(size, int) or not 0 < size <= 5 * 1024**3):
            raise _invalid("size must be between 1 byte and 5GB", "size")
        token = uuid.uuid4().hex
        key = f"temp/{int(request.arrived_wall * 1000)}_{token[:6]}_{filename}"
        public_url = f"{MEDIA_HOST}/{key}"
        self._presigned[token] = (public_url, content_type)
        upload_url = f"{self.origin}/_uploads/{token}?X-Amz-Expires=3600&X-Amz-Signature={token}"
        return Response(
            200,
            json={"uploadUrl": upload_url, "publicUrl": public_url, "key": key, "expiresIn": 3600},
        )

    @route("PUT", "/_uploads/{token}")
    def upload(self, request: Request) -> Response:
        presigned = self._presigned.get(request.params["token"])
        if presigned is None:
            return Response(403, body=b"AccessDenied: unknown or expired upload URL")
        public_url, content_type = presigned
        if "authorization" in request.headers:
            return Response(400, body=b"InvalidArgument: only one auth mechanism allowed")
        if request.content_type != content_type:
            return Response(403, body=b"SignatureDoesNotMatch: Content-Type differs")
        if not request.body:
            return Response(400, body=b"empty body")
        self.uploads[public_url] = request.body
        return Response(200)

    # Posts

    @route("POST", "/api/v1/posts")
    def create(self, request: Request) -> Response:
        moment = now()
        rid = _request_id(request)
        earlier = self._request_ids.get(rid) if rid else None
        if earlier and request.arrived - earlier[1] <= self.request_id_window:
            post = self.posts[earlier[0]]
            return Response(200, json={"message": "Post already created", "existingPost": post})
        body = self._json(request)
        post = self._new_post(body, moment)
        target = post["platforms"][0]
        account_id = target["accountId"]["_id"]
        fingerprint = _fingerprint(post)
        if post["status"] != "draft":
            self._refuse_duplicate(fingerprint, account_id, request.arrived)
        if body.get("publishNow") is True:
            self._count_publish(account_id, request.arrived)
        self.posts[post["_id"]] = post
        if rid:
            self._request_ids[rid] = (post["_id"], request.arrived)
        if post["status"] != "draft":
            self._fingerprints[fingerprint] = (post["_id"], request.arrived)
        if body.get("publishNow") is True:
            if self.publish_polls:
                post["status"] = target["status"] = "publishing"
                self._polls_left[post["_id"]] = self.publish_polls
            else:
                self._publish(post)
        message = {
            "draft": "Post saved as draft",
            "scheduled": "Post scheduled successfully",
            "published": "Post published successfully",
        }.get(post["status"], "Post created")
        return Response(201, json={"message": message, "post": post})

    def _refuse_duplicate(self, fingerprint: str, account_id: str, arrived: float) -> None:
        seen = self._fingerprints.get(fingerprint)
        if seen is None or arrived - seen[1] >= DAY:
            return
        if self.posts.get(seen[0], {}).get("status") in (None, "draft", "failed", "cancelled"):
            return
        details = {"accountId": account_id, "platform": "pinterest", "existingPostId": seen[0]}
        message = (
            "This exact content is already scheduled, publishing, or was posted to this "
            "account within the last 24 hours."
        )
        raise Abort(Response(409, json={"error": message, "details": details}))

    def _count_publish(self, account_id: str, arrived: float) -> None:
        recent = [t for t in self._publishes.get(account_id, []) if t > arrived - DAY]
        if len(recent) >= self.daily_limit:
            message = f"Daily limit reached: Pinterest allows {self.daily_limit} posts a day"
            details = {"limit": self.daily_limit, "platform": "pinterest", "accountId": account_id}
            wait = str(int(recent[0] + DAY - arrived) + 1)
            body = {"error": message, "details": details}
            raise Abort(Response(429, json=body, headers={"Retry-After": wait}))
        self._publishes[account_id] = [*recent, arrived]

    def _new_post(self, body: dict[str, Any], moment: datetime) -> dict[str, Any]:
        unknown = set(body) - BODY_FIELDS
        if unknown:
            raise _invalid(f"Unknown field: {sorted(unknown)[0]}", sorted(unknown)[0])
        zone = body.get("timezone", "UTC")
        try:
            tz = zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            raise _invalid(f"Invalid timezone: {zone}", "timezone") from None
        scheduled = body.get("scheduledFor")
        when: datetime | None = None
        if scheduled is not None:
            when = parse_time(scheduled) if isinstance(scheduled, str) else None
            if when is None and isinstance(scheduled, str):
                try:
                    when = datetime.fromisoformat(scheduled).replace(tzinfo=tz)
                except ValueError:
                    when = None
            if when is None:
                raise _invalid("scheduledFor must be an ISO 8601 date-time", "scheduledFor")
            if when <= moment:
                raise _invalid("scheduledFor must be in the future", "scheduledFor")
        publish_now = body.get("publishNow", False)
        if not isinstance(publish_now, bool) or not isinstance(body.get("isDraft", False), bool):
            raise _invalid("publishNow and isDraft must be booleans")
        if publish_now and when is not None:
            raise _invalid("Use either publishNow or scheduledFor, not both", "publishNow")
        draft = body.get("isDraft") is True or not (
            publish_now or when or body.get("queuedFromProfile")
        )
        platforms = body.get("platforms")
        if not isinstance(platforms, list) or not platforms:
            if draft:
                platforms = []
            else:
                raise _invalid("At least one platform is required", "platforms")
        if len(platforms) != 1:
            raise _invalid("The emulator takes exactly one platform entry", "platforms")
        content = body.get("content")
        if content is not None and not isinstance(content, str):
            raise _invalid("content must be a string", "content")
        media = body.get("mediaItems", [])
        target = self._target(platforms[0])
        if not isinstance(media, list) or len(media) != 1:
            raise _invalid("A Pinterest pin takes exactly one image or video", "mediaItems")
        self._check_media(media[0])
        post_id = format(next(self._ids), "024x")
        post: dict[str, Any] = {
            "_id": post_id,
            "mediaItems": media,
            "platforms": [target],
            "timezone": zone,
            "status": "draft" if draft else ("scheduled" if when else "publishing"),
            "createdAt": iso(moment),
            "updatedAt": iso(moment),
        }
        if content is not None:
            post["content"] = content
        if when is not None:
            post["scheduledFor"] = iso(when)
        return post

    def _target(self, entry: object) -> dict[str, Any]:
        if not isinstance(entry, dict) or not {"platform", "accountId"} <= set(entry):
            raise _invalid("Each platform needs platform and accountId", "platforms")
        unknown = set(entry) - PLATFORM_FIELDS
        if unknown:
            raise _invalid(f"Unknown platform field: {sorted(unknown)[0]}", "platforms")
        account_id = entry["accountId"]
        boards = self.accounts.get(account_id) if isinstance(account_id, str) else None
        if boards is None:
            raise Abort(
                Response(403, json={"error": f"Account {account_id} does not belong to you"})
            )
        if entry["platform"] != "pinterest":
            raise _invalid(f"Account {account_id} is a pinterest account", "platforms")
        data = entry.get("platformSpecificData", {})
        if not isinstance(data, dict) or set(data) - PINTEREST_FIELDS:
            raise _invalid("Unknown Pinterest option", "platformSpecificData")
        title = data.get("title")
        if title is not None and (not isinstance(title, str) or len(title) > 100):
            raise _invalid("Pinterest title must be 100 characters or fewer", "title")
        board_id = data.setdefault("boardId", next(iter(boards), None))
        if board_id not in boards:
            raise _invalid(f"Board {board_id} not found for this Pinterest account", "boardId")
        for name in ("link", "coverImageUrl"):
            if name in data and not _is_uri(data[name]):
                raise _invalid(f"{name} must be a URL", name)
        frame = data.get("coverImageKeyFrameTime")
        if frame is not None and (not isinstance(frame, int) or isinstance(frame, bool)):
            raise _invalid("coverImageKeyFrameTime must be an integer", "coverImageKeyFrameTime")
        account = {
            "_id": account_id,
            "platform": "pinterest",
            "profileId": PROFILE_ID,
            "username": "emulated.pinner",
            "displayName": "Emulated Pinner",
            "isActive": True,
        }
        return {
            "platform": "pinterest",
            "accountId": account,
            "platformSpecificData": data,
            "status": "pending",
        }

    def _check_media(self, item: object) -> None:
        if not isinstance(item, dict) or set(item) - MEDIA_FIELDS:
            raise _invalid("Invalid media item", "mediaItems")
        if item.get("type") not in ("image", "video", "gif", "document"):
            raise _invalid("mediaItems[].type must be image, video, gif or document", "type")
        if not _is_uri(item.get("url"), https=True):
            raise _invalid("mediaItems[].url must be a public https URL", "url")
        alt = item.get("altText")
        if alt is not None and (not isinstance(alt, str) or len(alt) > 500):
            raise _invalid("Pinterest alt text must be 500 characters or fewer", "altText")

    def _publish(self, post: dict[str, Any]) -> None:
        target, media = post["platforms"][0], post["mediaItems"][0]
        failure = self._failures.pop(0) if self._failures else None
        if media["url"].startswith(MEDIA_HOST) and media["url"] not in self.uploads:
            failure = f"Media could not be downloaded: {media['url']}"
        elif len(post.get("content", "")) > 500:
            failure = "Pinterest description must be 500 characters or fewer"
        moment = iso(now())
        post["updatedAt"] = moment
        if failure:
            post["status"] = target["status"] = "failed"
            target.update(errorMessage=failure, errorCategory="user_content", errorSource="user")
            return
        pin_id = next(self._pin_ids)
        post["status"] = target["status"] = "published"
        post["publishedAt"] = target["publishedAt"] = moment
        target.update(platformPostId=pin_id, platformPostUrl=pin_url(pin_id))
        self.pins[pin_id] = post["_id"]

    @route("GET", "/api/v1/posts")
    def list_posts(self, request: Request) -> Response:
        query = {name: values[-1] for name, values in request.query.items()}
        try:
            page, limit = int(query.get("page", "1")), int(query.get("limit", "10"))
        except ValueError:
            raise _invalid("page and limit must be integers") from None
        if page < 1 or not 1 <= limit <= 500:
            raise _invalid("limit must be between 1 and 500", "limit")
        status, sort = query.get("status"), query.get("sortBy", "scheduled-desc")
        if (status and status not in LIST_STATUSES) or sort not in SORTS:
            raise _invalid("Invalid status or sortBy")
        posts = [
            post
            for post in self.posts.values()
            if (not status or post["status"] == status)
            and (not query.get("platform") or post["platforms"][0]["platform"] == query["platform"])
            and (
                not query.get("accountId")
                or post["platforms"][0]["accountId"]["_id"] == query["accountId"]
            )
        ]
        field = "createdAt" if sort.startswith("created") else "scheduledFor"
        posts.sort(key=lambda p: p.get(field) or p["createdAt"], reverse=sort.endswith("desc"))
        pages = max(1, -(-len(posts) // limit))
        chosen = posts[(page - 1) * limit : page * limit]
        pagination = {"page": page, "limit": limit, "total": len(posts), "pages": pages}
        return Response(200, json={"posts": chosen, "pagination": pagination})

    @route("GET", "/api/v1/posts/{postId}")
    def get_post(self, request: Request) -> Response:
        post = self._post(request)
        left = self._polls_left.get(post["_id"])
        if left is not None:
            if left <= 1:
                del self._polls_left[post["_id"]]
                self._publish(post)
            else:
                self._polls_left[post["_id"]] = left - 1
        return Response(200, json={"post": post})

    @route("DELETE", "/api/v1/posts/{postId}")
    def delete_post(self, request: Request) -> Response:
        post = self._post(request)
        if post["status"] not in ("draft", "scheduled"):
            raise _invalid("Cannot delete published posts; use the Unpublish endpoint")
        del self.posts[post["_id"]]
        return Response(200, json={"message": "Post deleted successfully"})

    @route("POST", "/api/v1/posts/{postId}/unpublish")
    def unpublish(self, request: Request) -> Response:
        post, body = self._post(request), self._json(request)
        platform = body.get("platform")
        if platform not in UNPUBLISH_PLATFORMS:
            raise _invalid("platform is required and must support deletion", "platform")
        target = post["platforms"][0]
        if target["platform"] != platform or post["status"] != "published":
            raise _invalid(f"Post is not published on {platform}", "platform")
        self.pins.pop(target["platformPostId"], None)
        post["status"] = "cancelled"
        post["updatedAt"] = iso(now())
        message = f"Post deleted from {platform} successfully"
        return Response(200, json={"success": True, "message": message})

    # Helpers

    def _post(self, request: Request) -> dict[str, Any]:
        post = self.posts.get(request.params["postId"])
        if post is None:
            raise Abort(Response(404, json={"error": "Not found"}))
        return post

    def _json(self, request: Request) -> dict[str, Any]:
        if request.content_type != "application/json":
            raise _invalid("Content-Type must be application/json")
        try:
            body = request.json
        except ValueError:
            raise _invalid("Invalid JSON body") from None
        if not isinstance(body, dict):
            raise _invalid("The body must be a JSON object")
        return body
