"""Postproxy (https://api.postproxy.dev/api): pins as posts to one Pinterest profile.

Contract: shared/reference/postproxy/README.md and AGGREGATORS.md §3 (no OpenAPI document exists;
its SDKs, MCP server and docs pages).
- Auth `Authorization: Bearer`. Create `POST /posts` with the description as `post.body` (≤ 500
  characters for Pinterest), the profile in `profiles[]`, the pin in `platforms.pinterest`
  (`format: pin`, `board_id`, `title`, `destination_link`, and for video `cover_url` or
  `cover_file` or `thumb_offset`). Publish now by leaving `post.scheduled_at` out; with it,
  Postproxy publishes at that time by itself.
- Media: a public URL in `media[]` (the manifest's URL, or the file under media_base_url), else
  the file itself in a multipart create (`media[]`, `platforms[pinterest][cover_file]`).
- The create answers at once with the post pending; `GET /posts/{id}` shows the Pinterest entry
  `published` with `post_id` and `url` (⚠️ only Postproxy's MCP server reads those two; its SDK
  models omit them: without `post_id`, the record holds the post only, and plans act on it).
- Exactly once: `Idempotency-Key` (the intent's key) replays a create answered 2xx within 24 h;
  the multipart boundary is derived from the key, so that a replay's body is byte-identical.
  A replayed post that failed on Pinterest would be replayed for 24 h: an earlier run's failed
  post is posted again under a key named after it.
  A 409 naming `duplicate_post_id` (the same content posted again) is taken as this pin's post.
- No edit of a published pin (⚠️ `PATCH /posts/{id}` edits Postproxy's record; nothing says it
  reaches the live pin). `DELETE /posts/{id}?delete_on_platform=true` deletes it on Pinterest
  (⚠️ generic; Pinterest is not named).
"""

from __future__ import annotations

import email.utils
from datetime import datetime
from typing import Any, ClassVar

import httpx

from reconciler import timestamps
from reconciler.errors import ProviderError, ProviderRejected, TransientError
from reconciler.providers import posting, services
from reconciler.providers.base import PinContent, Published, cover_second
from reconciler.providers.http import Failure, generic_error, json_body
from reconciler.providers.posting import Post

DEFAULT_BASE_URL = "https://api.postproxy.dev/api"
PAGE = 100
# A create's own retries replay within seconds; a post older than this came from an earlier run.
REPLAY_AGE = 120.0

CAPABILITIES = services.POSTPROXY


def _error_detail(response: httpx.Response) -> tuple[str | None, str]:
    """Postproxy's four error shapes: {error}, {status, error, message}, {errors: [...]}."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return None, "; ".join(str(error) for error in body["errors"])
    return generic_error(response)


class _Duplicate(ProviderRejected):
    """A 409: this content was posted already, as `post_id`."""

    def __init__(self, message: str, post_id: str) -> None:
        super().__init__(message)
        self.post_id = post_id


def _explain(failure: Failure) -> ProviderError | None:
    body = failure.body if isinstance(failure.body, dict) else {}
    if failure.status == 409 and body.get("duplicate_post_id"):
        return _Duplicate(failure.describe(CAPABILITIES.name), str(body["duplicate_post_id"]))
    if failure.status == 409:
        # The same Idempotency-Key is still being handled: its answer can be replayed shortly.
        return TransientError(failure.describe(CAPABILITIES.name))
    return None


class PostproxyProvider(posting.PostingService):
    """`account_id` is Postproxy's profile id."""

    capabilities, default_url = CAPABILITIES, DEFAULT_BASE_URL
    what = "the id of the Pinterest profile (GET /api/profiles)"
    hooks: ClassVar[dict[str, Any]] = {"error_detail": _error_detail, "explain": _explain}
    spaced = True
    boards_path = "/profiles/{account}/placements"
    keys: ClassVar[dict[str, str]] = {
        "board_id": "board_id",
        "title": "title",
        "link": "destination_link",
    }

    def create(self, content: PinContent, idempotency_key: str) -> Published:
        key = idempotency_key
        while True:
            try:
                response = self._send(content, key)
            except _Duplicate as duplicate:
                return self.checked(self.follow(duplicate.post_id))
            post = json_body(response)
            published = self.waited(self.published(post))
            if published.status != "failed" or not _replayed(response, post):
                return self.checked(published)
            # The key replayed a post an earlier run made, which failed: that key is spent.
            # The next is named after the failed post, so that it too replays if need be.
            key = f"{idempotency_key}.{post['id']}"

    # The hooks of the skeleton

    def posts(self, since: datetime | None) -> list[Post]:
        posts: list[Post] = []
        page = 0
        while True:
            params = {"platforms": "pinterest", "page": str(page), "per_page": str(PAGE)}
            body = json_body(self.client.request("GET", "/posts", params=params))
            posts += body["data"]
            if not body["data"] or len(posts) >= body["total"]:
                return [post for post in posts if since is None or _created(post) >= since]
            page += 1

    def published(self, post: Post) -> Published:
        post_id, entry = str(post["id"]), posting.pinterest_entry(post)
        status = entry.get("status")
        if post.get("status") == "media_processing_failed":
            errors = [m.get("error_message") for m in post.get("media", [])]
            reason = "; ".join(e for e in errors if e) or "its media could not be processed"
            return posting.unpublished(post_id, "failed", reason)
        if status == "failed":
            details = entry.get("error_details") or {}
            reason = details.get("platform_error_message") or entry.get("error") or "failed"
            return posting.unpublished(post_id, "failed", reason)
        if status == "published":
            url, at = entry.get("url"), entry.get("attempted_at")
            return Published(self.pin_of(post), post_id, url, published_at=at)
        return posting.waiting(post_id, post.get("status"))

    def pin_of(self, post: Post) -> str | None:
        entry = posting.pinterest_entry(post)
        pin_id = entry.get("post_id") if entry.get("status") == "published" else None
        return str(pin_id) if pin_id else None  # ⚠️ see the module docstring

    def shown(self, post: Post) -> dict[str, Any]:
        entry = posting.pinterest_entry(post)
        shown = {"description": post.get("body") or None, "created_at": post.get("created_at")}
        return self.echoed(entry.get("params") or {}) | shown | {"url": entry.get("url")}

    def remove(self, post: Post, pin_id: str) -> None:  # noqa: ARG002
        params = {"delete_on_platform": "true"}
        self.client.request("DELETE", f"/posts/{post['id']}", params=params, allow=(404,))

    # The pieces

    def _send(self, content: PinContent, key: str) -> httpx.Response:
        """POST /posts: JSON when the media has a public URL, else multipart with the files."""
        medium = posting.medium(content)
        pinterest: dict[str, Any] = {"format": "pin"} | self.options(content)
        if content.cover_frame is not None:
            pinterest["thumb_offset"] = cover_second(content.cover_frame)  # an integer there
        post = {"body": content.description or ""}
        post |= posting.present(scheduled_at=posting.scheduled(content))
        media = medium.public_url
        cover = content.cover.public_url if content.cover else None
        if cover:
            pinterest["cover_url"] = cover
        sent: dict[str, Any] = {}
        if media is not None and (content.cover is None or cover is not None):
            body = {"post": post, "profiles": [self.account_id], "media": [media]}
            sent["json"] = body | {"platforms": {"pinterest": pinterest}}
        else:
            # Rails-style names; the boundary is fixed by the key so that a replay is the same.
            fields: dict[str, Any] = {f"post[{name}]": value for name, value in post.items()}
            fields["profiles[]"] = [self.account_id]
            fields |= {f"platforms[pinterest][{name}]": str(v) for name, v in pinterest.items()}
            files = [("media[]", posting.file_part(medium))] if media is None else []
            fields |= {} if media is None else {"media[]": [media]}
            if content.cover is not None and cover is None:
                files.append(("platforms[pinterest][cover_file]", posting.file_part(content.cover)))
            boundary = {"Content-Type": f"multipart/form-data; boundary=pinops-{key}"}
            sent |= {"data": fields, "files": files, "headers": boundary}
        return self.keyed("/posts", key, **sent)


def _created(post: Post) -> datetime:
    return timestamps.parse(str(post["created_at"]))


def _replayed(response: httpx.Response, post: Post) -> bool:
    """Whether the answer is a replay of a post made before this create began: older, by the
    service's own clock (its Date header), than a create's retries take."""
    try:
        answered = email.utils.parsedate_to_datetime(response.headers["date"])
        created = _created(post)
    except (KeyError, TypeError, ValueError):
        return False
    return (answered - created).total_seconds() > REPLAY_AGE


open_provider = PostproxyProvider.open
