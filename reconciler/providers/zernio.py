"""Zernio (formerly Late, https://zernio.com/api): pins as posts to one Pinterest account.

Contract: shared/reference/zernio (Zernio's OpenAPI 3.1 document) and AGGREGATORS.md §4.
- Bearer auth. `POST /v1/posts`: the pin in `platforms[].platformSpecificData` (`boardId`, `title`,
  `link`, `coverImageUrl` | `coverImageKeyFrameTime`), the description as `content`, the medium
  and its `altText` in `mediaItems`; always `publishNow: true` or `scheduledFor` + `timezone`, as a
  post with neither is saved as a draft. Publish-now publishes inside the request.
- Exactly once: `x-request-id` (a UUID derived from the intent's key) replays the original post
  (200, `existingPost`) for about five minutes. Later, the same description and media to the
  account within 24 h is a 409 naming `existingPostId`: taken when it is this pin (same board,
  title, link), else refused clearly. A media URL carries the pin's content version as its
  fragment, so a replace (new title, link, board or bytes) is never the old post to that check.
  Older interrupted creates are settled by `find`.
- A published pin is never edited (`/edit` changes only the description and is refused until
  Pinterest admits Zernio to its pin-update beta, ⚠️): a change is a replace, and `POST
  /v1/posts/{id}/unpublish {"platform": "pinterest"}` deletes the old pin.
- ⚠️ "cancelled", the status unpublish sets, is missing from the document's status enum.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any, ClassVar

from reconciler import timestamps
from reconciler.errors import ProviderError
from reconciler.providers import posting, services, zernio_errors
from reconciler.providers.base import Media, PinContent, Published, cover_second
from reconciler.providers.http import json_body
from reconciler.providers.pinterest import PIN_URL
from reconciler.providers.platformposts import PlatformPosting
from reconciler.providers.posting import Post
from reconciler.providers.zernio_errors import explain

DEFAULT_BASE_URL = "https://zernio.com/api"
PAGE = 500  # the listing's largest page
# A publish-now create is answered once the pin is published; Zernio's own SDK waits 300 s.
PUBLISH_TIMEOUT = 300.0
# Namespace of the x-request-id UUIDs derived from pinops' idempotency keys.
REQUEST_IDS = uuid.UUID("8a4e2f0c-5b1d-4c8e-9f3a-2d6b7c1e0a95")
# What a pin's version digests, besides its media.
VERSIONED = ("board_id", "title", "description", "link", "alt_text", "cover_frame")

CAPABILITIES = services.ZERNIO


class ZernioProvider(PlatformPosting):
    capabilities, default_url = CAPABILITIES, DEFAULT_BASE_URL
    what = "the _id of its Pinterest account"
    key_form = "keys start sk_"
    # `pace` is kept by the plan, which holds back creates beyond it; spacing writes in-process
    # as well would sleep an hour between pins at 25 a day.
    hooks: ClassVar[dict[str, Any]] = {"explain": explain, "request_id_header": "x-request-id"}
    post_path, post_key, id_key = "/v1/posts/{id}", "post", "_id"
    boards_path, boards_key = "/v1/accounts/{account}/pinterest-boards", "boards"
    keeps_unpublished, dead_statuses = True, ("draft", "failed", "cancelled")
    key_header = "x-request-id"
    keys: ClassVar[dict[str, str]] = {"board_id": "boardId", "title": "title", "link": "link"}
    presign_path = "/v1/media/presign"

    def create(self, content: PinContent, idempotency_key: str) -> Published:
        body = self._post_body(content)
        request_id = uuid.uuid5(REQUEST_IDS, idempotency_key)
        post, replayed = self._send(body, request_id, content)
        if replayed and self.published(post).status == "failed":
            # The replay of an earlier attempt that failed, or was deleted since: post anew.
            post, _ = self._send(body, uuid.uuid5(request_id, post["_id"]), content)
        return self.settle(self.published(post))

    # The hooks of the skeleton

    def posts(self, since: datetime | None) -> list[Post]:
        posts: list[Post] = []
        query = {"accountId": self.account_id, "platform": "pinterest", "sortBy": "created-desc"}
        page = 1
        while True:
            params = {**query, "page": str(page), "limit": str(PAGE)}
            answer = json_body(self.client.request("GET", "/v1/posts", params=params))
            for post in answer["posts"]:
                created = post.get("createdAt")
                if since and created and timestamps.parse(created) < since:
                    return posts
                posts.append(post)
            if page >= int(answer.get("pagination", {}).get("pages", page)):
                return posts
            page += 1

    def published(self, post: Post) -> Published:
        post_id, status, entry = str(post["_id"]), post.get("status"), posting.pinterest_entry(post)
        if self.gone(post):
            reason = "the pin was deleted since (unpublished, or removed on Pinterest)"
            return posting.unpublished(post_id, "failed", reason)
        if pin := self.pin_published(post):
            return pin
        if status in ("failed", "partial") or entry.get("status") == "failed":
            reason = entry.get("errorMessage") or f"the post is {status}"
            return posting.unpublished(post_id, "failed", reason)
        if status == "draft":
            raise ProviderError(f"{self.name} saved post {post_id} as a draft: it will not publish")
        return posting.waiting(post_id, status)

    def sent_as(self, post: Post, content: PinContent) -> bool:
        """Account, board, title and link as pinops sent them."""
        account = posting.pinterest_entry(post).get("accountId")
        sent_to = account.get("_id") if isinstance(account, dict) else account  # answers expand it
        return sent_to == self.account_id and super().sent_as(post, content)

    def gone(self, post: Post) -> bool:
        """Unpublished through Zernio, or found deleted on Pinterest by Zernio's sync."""
        removed = posting.pinterest_entry(post).get("removedFromPlatformAt")
        return post.get("status") == "cancelled" or bool(removed)

    def shown(self, post: Post) -> dict[str, Any]:
        alt_text = (post.get("mediaItems") or [{}])[0].get("altText")
        return super().shown(post) | {"alt_text": alt_text}

    def remove(self, post: Post, pin_id: str) -> None:
        if self.discarded(post):
            return
        # Repeated after a lost answer, it is a 400 "not published": the post read again decides.
        path = f"/v1/posts/{post['_id']}/unpublish"
        response = self.client.request(
            "POST", path, json={"platform": "pinterest"}, idempotent=True, allow=(400,)
        )
        now = self.read_post(post["_id"]) if response.status_code == 400 else None
        if response.status_code == 400 and not self.gone(now or {"status": "cancelled"}):
            why = json_body(response).get("error", "unpublish refused")
            url = posting.pinterest_entry(post).get("platformPostUrl") or PIN_URL.format(pin_id)
            raise zernio_errors.undeletable(pin_id, why, url)

    # The pieces

    def _post_body(self, content: PinContent) -> dict[str, Any]:
        media, options = posting.medium(content), self.options(content)
        version = _version(content)
        if content.cover is not None:
            options["coverImageUrl"] = self._url(content.cover, version)
        elif content.cover_frame is not None:
            options["coverImageKeyFrameTime"] = cover_second(content.cover_frame)
        item = {"type": media.kind, "url": self._url(media, version)}
        item |= posting.present(altText=content.alt_text)
        # publishNow (else a schedule) is always sent: without either, Zernio saves a draft.
        body = self.post_body(content, options, item)
        return body | posting.present(content=content.description)

    def _url(self, media: Media, version: str) -> str:
        """A public URL of the media: as given (with the pin's version as its fragment, which no
        server receives, for the duplicate check: see above), under media_base_url, or uploaded
        to Zernio, each pin its own copy for the same reason."""
        url = media.public_url
        if url is not None:
            return f"{url.split('#', 1)[0]}#pinops-{version}"
        assert media.path is not None and media.content_type is not None
        data = media.read()
        presign = {"filename": media.path.name, "contentType": media.content_type}
        return self.uploaded(media, {**presign, "size": len(data)}, data)

    def _send(
        self, body: dict[str, Any], request_id: uuid.UUID, content: PinContent
    ) -> tuple[Post, bool]:
        """The post the create made (or an earlier attempt made), and whether it was a replay."""
        # A repeat carries the same x-request-id; one left unanswered is replayed or found later.
        response = self.create_keyed(
            "/v1/posts", str(request_id), json=body, allow=(409,), timeout=PUBLISH_TIMEOUT
        )
        answer = json_body(response)
        if response.status_code == 409:
            return self._duplicate(answer, content), True
        post = answer.get("post") or answer.get("existingPost")
        if not isinstance(post, dict):
            raise ProviderError(f"{self.name} answered the create without its post")
        return post, response.status_code == 200

    def _duplicate(self, answer: dict[str, Any], content: PinContent) -> Post:
        """The post a 409 names, when it is this very pin (an earlier attempt of this create)."""
        existing = str((answer.get("details") or {}).get("existingPostId", ""))
        post = (self.read_post(existing) if existing else None) or {}
        if post and self.sent_as(post, content):
            return post
        raise zernio_errors.duplicate(existing)


def _version(content: PinContent) -> str:
    """A short digest of everything a pin is published with."""
    media = [(m.url, m.path and m.path.name, m.sha256) for m in (content.media, content.cover) if m]
    sent = [getattr(content, name) for name in VERSIONED] + [media]
    return hashlib.sha256(json.dumps(sent, default=str).encode()).hexdigest()[:16]


open_provider = ZernioProvider.open
