"""A strict local emulator of Crosspostify's API for Pinterest pins, served over real HTTP.

Crosspostify publishes no document that could be obtained: this follows what its docs pages
confirm (shared/reference/crosspostify/README.md, AGGREGATORS.md §1), and marks every choice it
had to make with ⚠️.

    with CrosspostifyEmulator() as api:
        board_id = api.add_board("Recipes")
        headers = {"X-API-Key": API_KEY}
        media_id = httpx.post(f"{api.base_url}/media", headers=headers, files=...).json()["mediaId"]

Served at the root: POST /media, POST /post/image, POST /post/video, GET /social-accounts,
GET /pinterest-boards/{accountId}.

Confirmed and emulated: `X-API-Key` on every request; `POST /media` returns a `mediaId`; a post
is `{mediaId, scheduledDate?, posts: [{accountId, boardId, title, caption, link}]}`, one entry of
`posts` per board, `boardId` mandatory for a Pinterest account, title ≤ 100 and caption ≤ 500
characters; its Pinterest page's `scheduledDate` ("ISO 8601 with 'Z' suffix", "Minimum lead
time: ~10 minutes ahead": a time sooner, past, or without its Z is refused) and image rules
("Format: JPG or PNG", "Min width: 200px"); the fields Crosspostify ignores for
Pinterest (`is_aigc`, `facebookFirstComment`, `textFormatPresetId`, `privacy`, `categoryId`,
`tags`) are accepted; form-encoded bodies (`posts[0][accountId]=…`) as well as JSON; status
codes 400 (a missing parameter), 401, 404, 429, 500; rate limits of 250 requests an hour, 50 a
minute, and 3 posts a minute per social account, each answered with a 429.

Emulator choices (⚠️ not in what could be read of the docs):
- Error bodies are `{"error": "<the docs' phrase for the status>"}`; a 429 has no Retry-After.
- `POST /media` takes a multipart `file` part and answers `{"mediaId"}`.
- A post answers 200 `{"success": true, "postId"}` once published: there is no status route,
  so nothing is asynchronous. No post listing, edit or delete route exists.
- Boards come as `{"boards": [{"id", "name"}]}`, social accounts as `{"accounts": [...]}`.
- JSON bodies are accepted (the docs say form-encoded; the nested `posts` array suggests JSON).
- Unknown fields are refused with a 400, so that a guessed field name (a cover field, say)
  cannot pass unnoticed.
- The lead time is taken as 10 minutes exactly; a scheduled post gets its pin id at once.
"""

from __future__ import annotations

import collections
import io
import itertools
import re
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import imagesize

from .posting import form_parts, now, parse_time, pin_ids, sniff
from .server import Abort, EmulatorServer, Request, Response, route

API_KEY = "cp_live_3c7e91d0a4b2f6e8"
ACCOUNT_ID = "acc_pin_5521"
PHRASES = {
    400: "The request was unacceptable, often due to missing a required parameter.",
    401: "No valid API key provided.",
    404: "The requested resource doesn't exist.",
    429: "Too many requests hit the API too quickly.",
    500: "Something went wrong on Crosspostify's end.",
}
SCHEDULE_LEAD = timedelta(minutes=10)
_UTC_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z")
_POST_FIELDS = {"accountId", "boardId", "title", "caption", "link"}
_IGNORED_FIELDS = {
    "is_aigc",
    "facebookFirstComment",
    "textFormatPresetId",
    "privacy",
    "categoryId",
    "tags",
}


def _fail(status: int, detail: str | None = None) -> Abort:
    return Abort(Response(status, json={"error": detail or PHRASES[status]}))


class CrosspostifyEmulator(EmulatorServer):
    """Crosspostify's API.

    api_key: the X-API-Key accepted. posts_per_minute, requests_per_minute, requests_per_hour:
    the documented limits; `minute` and `hour` shorten their windows (seconds) for fast tests.

    State, readable by tests (take `lock` while requests are in flight): `accounts` (id ->
    social account), `boards` (account id -> board id -> {id, name}), `media` (mediaId -> (type,
    bytes)), `posts` (postId -> {mediaId, post, kind}), `pins` (pin id -> post id).
    """

    def __init__(
        self,
        *,
        api_key: str = API_KEY,
        posts_per_minute: int = 3,
        requests_per_minute: int = 50,
        requests_per_hour: int = 250,
        minute: float = 60.0,
        hour: float = 3600.0,
        seed: int = 0,
    ) -> None:
        super().__init__(seed=seed)
        self.api_key = api_key
        self.posts_per_minute = posts_per_minute
        self.requests_per_minute = requests_per_minute
        self.requests_per_hour = requests_per_hour
        self.minute = minute
        self.hour = hour
        self.accounts: dict[str, dict[str, Any]] = {}
        self.boards: dict[str, dict[str, dict[str, str]]] = {}
        self.media: dict[str, tuple[str, bytes]] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self.pins: dict[str, str] = {}
        self._requests: collections.deque[float] = collections.deque()
        self._account_posts: dict[str, collections.deque[float]] = {}
        self._pin_ids = pin_ids()
        self._ids = itertools.count(1)
        self._board_ids = itertools.count(4_404_000_000_000_001)
        self.add_account(ACCOUNT_ID)

    # Helpers for tests

    def add_account(self, account_id: str, platform: str = "pinterest") -> None:
        with self.lock:
            self.accounts[account_id] = {"id": account_id, "platform": platform, "name": "pinops"}
            self.boards[account_id] = {}

    def add_board(
        self, name: str, account_id: str = ACCOUNT_ID, board_id: str | None = None
    ) -> str:
        with self.lock:
            board_id = board_id or str(next(self._board_ids))
            self.boards[account_id][board_id] = {"id": board_id, "name": name}
            return board_id

    # Hooks

    def admit(self, request: Request) -> None:
        if request.headers.get("x-api-key") != self.api_key:
            raise _fail(401)
        now = time.monotonic()
        for window, limit in (
            (self.hour, self.requests_per_hour),
            (self.minute, self.requests_per_minute),
        ):
            if sum(1 for t in self._requests if t > now - window) >= limit:
                raise _fail(429)
        self._requests.append(now)
        while self._requests and self._requests[0] <= now - self.hour:
            self._requests.popleft()

    def error_response(self, status: int, message: str | None = None) -> Response:
        return Response(status, json={"error": message or PHRASES.get(status, "Error")})

    # Accounts and boards

    @route("GET", "/social-accounts")
    def social_accounts(self, request: Request) -> Response:  # noqa: ARG002
        return Response(200, json={"accounts": list(self.accounts.values())})

    @route("GET", "/pinterest-boards/{account_id}")
    def pinterest_boards(self, request: Request) -> Response:
        account = self.accounts.get(request.params["account_id"])
        if account is None or account["platform"] != "pinterest":
            raise _fail(404)
        boards = list(self.boards[account["id"]].values())
        return Response(200, json={"boards": boards})

    # Media and posts

    @route("POST", "/media")
    def upload(self, request: Request) -> Response:
        parts = form_parts(request) or []
        files = [part for part in parts if part.name == "file" and part.filename is not None]
        if len(files) != 1:
            raise _fail(400, "Missing required parameter: file")
        kind = sniff(files[0].data)
        if kind is None:
            raise _fail(400, "Unsupported media type: upload an image or a video")
        media_id = f"med_{next(self._ids):06d}"
        self.media[media_id] = (kind, files[0].data)
        return Response(200, json={"mediaId": media_id})

    @route("POST", "/post/image")
    def post_image(self, request: Request) -> Response:
        return self._post(request, "image")

    @route("POST", "/post/video")
    def post_video(self, request: Request) -> Response:
        return self._post(request, "video")

    def _post(self, request: Request, kind: str) -> Response:
        body = self._body(request)
        unknown = sorted(set(body) - {"mediaId", "posts", "scheduledDate"})
        if unknown:
            raise _fail(400, f"Unknown parameter: {unknown[0]}")
        media_id, posts = body.get("mediaId"), body.get("posts")
        if not isinstance(media_id, str) or not media_id:
            raise _fail(400, "Missing required parameter: mediaId")
        if not isinstance(posts, list) or not posts:
            raise _fail(400, "Missing required parameter: posts")
        media = self.media.get(media_id)
        if media is None:
            raise _fail(404, f"Media {media_id} not found")
        if not media[0].startswith(f"{kind}/"):
            raise _fail(400, f"Media {media_id} is not an {kind}")
        if kind == "image":
            _check_image(*media)
        scheduled = body.get("scheduledDate")
        if scheduled is not None:
            _check_schedule(scheduled)
        for post in posts:
            self._check(post)
        now = time.monotonic()
        # "post creation 3 requests per minute per social account": a request to several boards
        # of one account counts once.
        accounts = {post["accountId"] for post in posts}
        for account in accounts:
            sent = self._account_posts.setdefault(account, collections.deque())
            if sum(1 for t in sent if t > now - self.minute) >= self.posts_per_minute:
                raise _fail(429)
        post_id = f"post_{next(self._ids):06d}"
        for account in accounts:
            self._account_posts[account].append(now)
        for _ in posts:
            self.pins[next(self._pin_ids)] = post_id
        self.posts[post_id] = {
            "mediaId": media_id,
            "posts": posts,
            "kind": kind,
            "scheduledDate": scheduled,
        }
        return Response(200, json={"success": True, "postId": post_id})

    def _body(self, request: Request) -> dict[str, Any]:
        if request.content_type == "application/x-www-form-urlencoded":
            return _from_form(request.form)
        if request.content_type != "application/json":
            raise _fail(400, "Send the body as JSON or form-encoded")
        try:
            body = request.json
        except ValueError:
            raise _fail(400, "The body is not valid JSON") from None
        if not isinstance(body, dict):
            raise _fail(400)
        return body

    def _check(self, post: object) -> None:
        if not isinstance(post, dict):
            raise _fail(400, "Each entry of posts must be an object")
        unknown = sorted(set(post) - _POST_FIELDS - _IGNORED_FIELDS)
        if unknown:
            raise _fail(400, f"Unknown parameter: posts[].{unknown[0]}")
        account = self.accounts.get(post.get("accountId", ""))
        if account is None:
            raise _fail(400, "Missing required parameter: posts[].accountId")
        if account["platform"] == "pinterest":
            board = post.get("boardId")
            if not board:
                raise _fail(400, "Missing required parameter: boardId is mandatory for Pinterest")
            if board not in self.boards[account["id"]]:
                raise _fail(404, f"Board {board} not found")
        for name, limit in (("title", 100), ("caption", 500)):
            value = post.get(name)
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                raise _fail(400, f"{name} must be at most {limit} characters")
        link = post.get("link")
        if link is not None and urlsplit(str(link)).scheme not in ("http", "https"):
            raise _fail(400, "link must be a URL")


def _check_image(content_type: str, data: bytes) -> None:
    """Its Pinterest page: "Format: JPG or PNG", "Min width: 200px"."""
    if content_type not in ("image/jpeg", "image/png"):
        raise _fail(400, "Pinterest images must be JPG or PNG")
    width, _ = imagesize.get(io.BytesIO(data))
    if 0 <= width < 200:
        raise _fail(400, "Pinterest images must be at least 200px wide")


def _check_schedule(value: object) -> None:
    """UTC ISO 8601 with a Z, at least the lead time ahead."""
    moment = parse_time(value) if isinstance(value, str) and _UTC_Z.fullmatch(value) else None
    if moment is None:
        raise _fail(400, "scheduledDate must be in UTC (ISO 8601 with 'Z' suffix)")
    if moment < now() + SCHEDULE_LEAD:
        raise _fail(400, "scheduledDate must be at least 10 minutes in the future")


def _from_form(form: dict[str, list[str]]) -> dict[str, Any]:
    """A form-encoded post, `posts[0][accountId]=…` style, as the JSON body it stands for."""
    body: dict[str, Any] = {}
    posts: dict[int, dict[str, str]] = {}
    for name, values in form.items():
        match = re.fullmatch(r"posts\[(\d+)\]\[(\w+)\]", name)
        if match:
            posts.setdefault(int(match[1]), {})[match[2]] = values[0]
        else:
            body[name] = values[0]
    if posts:
        body["posts"] = [posts[index] for index in sorted(posts)]
    return body
