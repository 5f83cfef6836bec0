"""A strict local emulator of PostPeer's API for Pinterest pins, served over real HTTP.

It follows shared/reference/postpeer (PostPeer's OpenAPI 3.0.0 document, from its Python SDK):
request bodies are validated against the document's own schemas (`additionalProperties: false`
everywhere, so an unknown or misspelt field is a 400), responses are built to its response
schemas, and errors are its `ErrorResponse` `{"success": false, "message"}` (the board listing's
404/502 are `{"error"}`, as the document says).

    with PostPeerEmulator() as api:
        board_id = api.add_board("Recipes")
        headers = {"x-access-key": ACCESS_KEY}
        httpx.post(f"{api.base_url}/posts/", headers=headers, json={...})

Served under /v1: GET /pinterest/boards, POST /media/upload (and PUT /upload/{key}, a stand-in
for the S3 URL it presigns), POST and GET /posts/ (also without the trailing slash, as PostPeer's
docs write it), GET and DELETE /posts/{postId}, DELETE /posts/scheduled/{postId}.

Emulator choices where the references are silent (⚠️ in AGGREGATORS.md):
- Publish now answers 202 with status `published` when `publish_polls` is 0; otherwise with
  `pending` (the document's "publish-now timeout fallback"), and the post is published after that
  many GET /posts/{postId}. The create answer carries no pin id; GET shows `platformPostId`.
- `deleteFromPlatforms=true` deletes the pin on Pinterest (Pinterest's support is ⚠️ unconfirmed)
  for 1 credit; deleting a post still publishing is 409.
- A post both `publishNow` and `scheduledFor` is refused (PostPeer's skills: one or the other).
- Media URLs must be https; a presigned `publicUrl` must have been uploaded first. Pinterest takes
  JPEG, PNG and WebP images (PostPeer's Pinterest page), so a GIF is refused.
- The presigned PUT must not carry the access key: it goes to another host.
- `rawRequestBody` is the create request as sent.
- No rate limit is emulated (the numbers "depend on your plan"); tests inject 429s as faults.
"""

from __future__ import annotations

import hashlib
import itertools
import zoneinfo
from datetime import timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from .openapi import REFERENCE, Spec
from .posting import iso, now, parse_time, pin_ids, pin_url, sniff
from .server import Abort, EmulatorServer, Request, Response, route

ACCESS_KEY = "pp_live_emulator_access_key_7f3c9a"
ACCOUNT_ID = "66b0c2f4e1a9d3b5c7e8f012"  # an Integration._id (MongoDB ObjectId)
SPEC = REFERENCE / "postpeer" / "openapi.json"
PINTEREST_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
MEDIA_HOST = "https://media.postpeer.dev"
STATUSES = ("draft", "pending", "scheduled", "publishing", "published", "failed", "partial")


def _error(status: int, message: str) -> Abort:
    return Abort(Response(status, json={"success": False, "message": message}))


class PostPeerEmulator(EmulatorServer):
    """PostPeer's API under /v1.

    access_key: the `x-access-key` accepted. credits: what the project has left; each published
    or scheduled post costs 1, each platform deletion 1, failed posts nothing (402 when short).
    publish_polls: GET /posts/{postId} that still show a publish-now post `pending`.

    State, readable by tests (take `lock` while requests are in flight): `accounts` (integration
    id -> board id -> board), `posts` (postId -> post as GET shows it), `pins` (pin id -> post id
    of every pin live on Pinterest), `uploads` (key -> bytes).
    """

    base_path = "/v1"

    def __init__(
        self,
        *,
        access_key: str = ACCESS_KEY,
        credits: int = 100,
        publish_polls: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(seed=seed)
        self.spec = Spec(SPEC)
        self.access_key = access_key
        self.credits = credits
        self.publish_polls = publish_polls
        self.accounts: dict[str, dict[str, dict[str, Any]]] = {ACCOUNT_ID: {}}
        self.posts: dict[str, dict[str, Any]] = {}
        self.pins: dict[str, str] = {}
        self.uploads: dict[str, bytes] = {}
        self._upload_types: dict[str, str] = {}
        self._polls_left: dict[str, int] = {}
        self._failures: list[str] = []
        self._failing: dict[str, str] = {}
        self._pin_ids = pin_ids()
        self._ids = itertools.count(1)
        self._board_ids = itertools.count(1_070_000_000_000_001)

    # Helpers for tests

    def add_board(self, name: str, account_id: str = ACCOUNT_ID) -> str:
        with self.lock:
            board_id = str(next(self._board_ids))
            boards = self.accounts.setdefault(account_id, {})
            boards[board_id] = {"id": board_id, "name": name, "description": None}
            boards[board_id]["privacy"] = "public"
            return board_id

    def fail_next(self, reason: str) -> None:
        """The next post published now fails on Pinterest with this reason."""
        with self.lock:
            self._failures.append(reason)

    def publish_scheduled(self) -> None:
        """Publish every scheduled post, as if its time had come."""
        with self.lock:
            for post in self.posts.values():
                if post["status"] == "scheduled":
                    self._publish(post)

    def live_pins(self) -> list[dict[str, Any]]:
        """The pins live on Pinterest, each as the platform entry of its post."""
        with self.lock:
            return [self.posts[post_id]["platforms"][0] for post_id in self.pins.values()]

    # Hooks

    def admit(self, request: Request) -> None:
        if request.path.startswith("/upload/"):
            return
        if request.headers.get("x-access-key") != self.access_key:
            raise _error(401, "Invalid or missing access key")

    def error_response(self, status: int, message: str | None = None) -> Response:
        return Response(
            status, json={"success": False, "message": message or HTTPStatus(status).phrase}
        )

    def response_headers(self, request: Request) -> dict[str, str]:
        digest = hashlib.sha1(f"{request.arrived}{request.path}".encode()).hexdigest()
        return {"x-request-id": digest[:24]}

    # Boards

    @route("GET", "/v1/pinterest/boards")
    def boards(self, request: Request) -> Response:
        account = (request.query.get("accountId") or [next(iter(self.accounts))])[0]
        if account not in self.accounts:
            return Response(404, json={"error": "Pinterest account not found"})
        boards = list(self.accounts[account].values())
        return Response(200, json={"success": True, "boards": boards})

    # Media

    @route("POST", "/v1/media/upload")
    def media_upload(self, request: Request) -> Response:
        body = self._body(request, "/v1/media/upload")
        key = f"{next(self._ids):06d}-{hashlib.sha1(body['filename'].encode()).hexdigest()[:12]}"
        self._upload_types[key] = body["mimeType"]
        signature = hashlib.sha256(key.encode()).hexdigest()
        upload_url = (
            f"{self.origin}/upload/{key}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Expires=3600&X-Amz-Signature={signature}"
        )
        public_url = f"{MEDIA_HOST}/{key}/{body['filename']}"
        return Response(
            200, json={"success": True, "data": {"uploadUrl": upload_url, "publicUrl": public_url}}
        )

    @route("PUT", "/upload/{key}")
    def upload(self, request: Request) -> Response:
        key = request.params["key"]
        if key not in self._upload_types or "X-Amz-Signature" not in request.query:
            return Response(403, body=b"<Error><Code>AccessDenied</Code></Error>")
        if "x-access-key" in request.headers or "authorization" in request.headers:
            return Response(400, body=b"<Error><Code>InvalidArgument</Code></Error>")
        if request.content_type != self._upload_types[key]:
            return Response(403, body=b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
        self.uploads[key] = request.body
        return Response(200)

    # Posts

    @route("POST", "/v1/posts/")
    def create_post(self, request: Request) -> Response:
        body = self._body(request, "/v1/posts/")
        target = self._pinterest_target(body)
        media = self._media_items(body)
        scheduled = self._schedule(body)
        if self.credits < 1:
            raise _error(402, "Not enough credits. Add credits to keep posting.")
        post_id = hashlib.sha1(f"post-{next(self._ids)}".encode()).hexdigest()[:24]
        moment = iso(now())
        post = {
            "postId": post_id,
            "content": body["content"],
            "status": "scheduled" if scheduled else "pending",
            "scheduledFor": iso(scheduled) if scheduled else None,
            "timezone": body.get("timezone", "UTC"),
            "mediaItems": media,
            "platforms": [
                {
                    "platform": "pinterest",
                    "status": "scheduled" if scheduled else "pending",
                    "content": target.get("content"),
                    "platformPostId": None,
                    "platformPostUrl": None,
                    "publishedAt": None,
                    "errorMessage": None,
                    "warningMessage": None,
                }
            ],
            "crosspostingEnabled": False,
            "rawRequestBody": body,
            "createdAt": moment,
            "updatedAt": moment,
        }
        self.posts[post_id] = post
        if self._failures and not scheduled:
            self._failing[post_id] = self._failures.pop(0)
        if scheduled:
            self.credits -= 1
        elif self.publish_polls == 0:
            self._publish(post)
        else:
            self._polls_left[post_id] = self.publish_polls
        entry = post["platforms"][0]
        result: dict[str, Any] = {"platform": "pinterest", "success": entry["status"] != "failed"}
        if entry["platformPostUrl"]:
            result["platformPostUrl"] = entry["platformPostUrl"]
        if entry["errorMessage"]:
            result["error"] = entry["errorMessage"]
        answer: dict[str, Any] = {
            "success": result["success"],
            "status": post["status"],
            "postId": post_id,
            "platforms": [result],
        }
        if scheduled:
            answer["scheduledFor"] = post["scheduledFor"]
        return Response(202, json=answer)

    @route("POST", "/v1/posts")
    def create_post_without_slash(self, request: Request) -> Response:
        return self.create_post(request)

    @route("GET", "/v1/posts/")
    def list_posts(self, request: Request) -> Response:
        query = {name: values[0] for name, values in request.query.items()}
        limit, offset = self._int(query, "limit", 20, 1, 100), self._int(query, "offset", 0, 0)
        platforms = request.query.get("platform", [])
        after = self._time(query, "createdAfter")
        before = self._time(query, "createdBefore")
        status = query.get("status")
        if status is not None and status not in STATUSES:
            raise _error(400, "querystring/status must be equal to one of the allowed values")
        posts = [
            post
            for post in self.posts.values()
            if (status is None or post["status"] == status)
            and (not platforms or any(p["platform"] in platforms for p in post["platforms"]))
            and (after is None or parse_time(post["createdAt"]) >= after)
            and (before is None or parse_time(post["createdAt"]) <= before)
        ]
        if query.get("sort", "desc") == "desc":
            posts.reverse()
        page = posts[offset : offset + limit]
        return Response(200, json={"success": True, "total": len(posts), "posts": page})

    @route("GET", "/v1/posts")
    def list_posts_without_slash(self, request: Request) -> Response:
        return self.list_posts(request)

    @route("GET", "/v1/posts/{postId}")
    def get_post(self, request: Request) -> Response:
        post = self._post(request.params["postId"])
        left = self._polls_left.get(post["postId"])
        if left == 0:
            del self._polls_left[post["postId"]]
            self._publish(post)
        elif left is not None:
            self._polls_left[post["postId"]] = left - 1
        return Response(200, json={"success": True, "post": post})

    @route("DELETE", "/v1/posts/{postId}")
    def delete_post(self, request: Request) -> Response:
        post = self._post(request.params["postId"])
        if post["status"] in ("pending", "publishing"):
            raise _error(409, "Post is currently publishing; try again when it has finished")
        flag = (request.query.get("deleteFromPlatforms") or ["false"])[0]
        if flag not in ("true", "false"):
            raise _error(400, "querystring/deleteFromPlatforms must be boolean")
        results = []
        charged = 0
        entry = post["platforms"][0]
        if flag == "true" and entry["status"] == "published":
            if self.credits < 1:
                raise _error(402, "Not enough credits to delete from platforms.")
            self.credits -= 1
            charged = 1
            self.pins.pop(entry["platformPostId"], None)
            results.append(
                {
                    "platform": "pinterest",
                    "integrationId": post["rawRequestBody"]["platforms"][0]["accountId"],
                    "platformPostId": entry["platformPostId"],
                    "status": "deleted",
                    "success": True,
                }
            )
        del self.posts[post["postId"]]
        answer: dict[str, Any] = {"success": True, "creditsCharged": charged}
        if results:
            answer["platforms"] = results
        return Response(200, json=answer)

    @route("DELETE", "/v1/posts/scheduled/{postId}")
    def cancel_scheduled(self, request: Request) -> Response:
        post = self._post(request.params["postId"])
        if post["status"] != "scheduled":
            raise _error(409, f"Post is {post['status']}, not scheduled")
        post["status"] = post["platforms"][0]["status"] = "draft"
        post["updatedAt"] = iso(now())
        self.credits += 1
        return Response(200, json={"success": True, "message": "Post moved back to draft"})

    # Checks and state changes

    def _body(self, request: Request, path: str) -> dict[str, Any]:
        if request.content_type != "application/json":
            raise _error(415, "Unsupported Media Type: application/json expected")
        try:
            body = request.json
        except ValueError:
            raise _error(400, "Body is not valid JSON") from None
        escaped = path.replace("~", "~0").replace("/", "~1")
        pointer = f"/paths/{escaped}/post/requestBody/content/application~1json/schema"
        problems = self.spec.errors(body, pointer)
        if problems:
            raise _error(400, f"body{problems[0]}")
        assert isinstance(body, dict)
        return dict(body)

    def _pinterest_target(self, body: dict[str, Any]) -> dict[str, Any]:
        targets = [p for p in body["platforms"] if p["platform"] == "pinterest"]
        if len(targets) != 1:
            raise _error(400, "This emulator publishes to exactly one Pinterest account")
        target: dict[str, Any] = targets[0]
        boards = self.accounts.get(target["accountId"])
        if boards is None:
            raise _error(400, f"Integration {target['accountId']} not found")
        data = target.get("platformSpecificData")
        if data is None:
            raise _error(400, "Pinterest requires platformSpecificData.boardId")
        # Its Pinterest page: "Description: max 500 characters (from content field)".
        if len(target.get("content") or body.get("content") or "") > 500:
            raise _error(400, "Pinterest descriptions are limited to 500 characters")
        if data["boardId"] not in boards:
            raise _error(400, f"Pinterest board {data['boardId']} not found")
        for name in ("link", "coverImageUrl"):
            if name in data and urlsplit(data[name]).scheme != "https":
                raise _error(400, f"platformSpecificData.{name} must be an https URL")
        return target

    def _media_items(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        items = body.get("mediaItems") or []
        if not items:
            raise _error(400, "Pinterest requires at least one image or video")
        shown = []
        for item in items:
            url = urlsplit(item["url"])
            if url.scheme != "https" or not url.hostname:
                raise _error(400, f"Media URL must be a public https URL: {item['url']}")
            size, mime = 0, "video/mp4" if item["type"] == "video" else "image/jpeg"
            if item["url"].startswith(MEDIA_HOST + "/"):
                key = url.path.split("/")[1]
                if key not in self.uploads:
                    raise _error(400, f"Media could not be fetched: {item['url']}")
                size, mime = len(self.uploads[key]), sniff(self.uploads[key]) or "unknown"
            if item["type"] in ("image", "gif") and (
                item["type"] == "gif" or mime not in PINTEREST_IMAGE_TYPES
            ):
                raise _error(400, "Pinterest images must be JPG, PNG or WebP")
            filename = url.path.rsplit("/", 1)[-1]
            shown.append(
                {"type": item["type"], "url": item["url"], "filename": filename}
                | {"size": size, "mimeType": mime}
            )
        return shown

    def _schedule(self, body: dict[str, Any]) -> Any:
        publish_now, when = body.get("publishNow"), body.get("scheduledFor")
        if when is None:
            if publish_now is not True:
                raise _error(400, "publishNow is required when scheduledFor is omitted")
            return None
        if publish_now:
            raise _error(400, "Set either publishNow or scheduledFor, not both")
        zone = body.get("timezone", "UTC")
        try:
            tz = zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise _error(400, f"Invalid timezone: {zone}") from None
        moment = parse_time(when)
        if moment is None:
            naive = parse_time(when + "Z")
            if naive is None:
                raise _error(400, 'body/scheduledFor must match format "date-time"')
            moment = naive.replace(tzinfo=tz)
        if moment <= now() + timedelta(seconds=30):
            raise _error(400, "scheduledFor must be in the future")
        return moment

    def _publish(self, post: dict[str, Any]) -> None:
        entry = post["platforms"][0]
        moment = iso(now())
        reason = self._failing.pop(post["postId"], None)
        if reason is not None:
            post["status"] = entry["status"] = "failed"
            entry["errorMessage"] = reason
        else:
            pin_id = next(self._pin_ids)
            post["status"] = entry["status"] = "published"
            entry |= {"platformPostId": pin_id, "platformPostUrl": pin_url(pin_id)}
            entry["publishedAt"] = moment
            self.pins[pin_id] = post["postId"]
            if post["scheduledFor"] is None:
                self.credits -= 1
        post["updatedAt"] = moment

    def _post(self, post_id: str) -> dict[str, Any]:
        post = self.posts.get(post_id)
        if post is None:
            raise _error(404, "Post not found")
        return post

    @staticmethod
    def _int(
        query: dict[str, str], name: str, default: int, low: int, high: int | None = None
    ) -> int:
        raw = query.get(name)
        if raw is None:
            return default
        if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
            raise _error(400, f"querystring/{name} must be an integer from {low}")
        return int(raw)

    @staticmethod
    def _time(query: dict[str, str], name: str) -> Any:
        raw = query.get(name)
        if raw is None:
            return None
        moment = parse_time(raw)
        if moment is None:
            raise _error(400, f'querystring/{name} must match format "date-time"')
        return moment
