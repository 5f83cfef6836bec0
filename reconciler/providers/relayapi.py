"""RelayAPI (https://api.relayapi.dev): pins as posts to one Pinterest account.

Contract: shared/reference/relayapi (its OpenAPI document) and AGGREGATORS.md §5 (its server
source, where the document is silent).
- Bearer auth. `POST /v1/posts`: `targets: [account id]` (a bare "pinterest" would mean every
  Pinterest account), the pin in `target_options.pinterest` (`board_id`, `title`, `link`,
  `alt_text`, `cover_image_url` | `cover_image_key_frame_time`), the description as `content`,
  the medium in `media`; `scheduled_at` "now", or an ISO time at most 30 days ahead. Publishing is
  asynchronous: the post is read until its target shows `platform_post_id` and `url`.
- Exactly once: `Idempotency-Key` on every write (⚠️ the document declares it on few operations;
  the server takes it on all of /v1 and keeps receipts 30 days). A repeat is answered from the
  receipt; IDEMPOTENCY_IN_PROGRESS is waited out; IDEMPOTENCY_OUTCOME_UNKNOWN and _KEY_REUSED are
  settled through the listing (the pin's post is taken, else it is posted under a derived key),
  and so is a replay of a post that failed or was unpublished since.
- Media go up presigned (a PUT with exactly its `upload_headers`, then the mandatory confirm) and
  are used by `reference_url`, unless media_base_url serves them.
- No edit of a published pin: a change is a replace, and `POST /v1/posts/{id}/unpublish`
  deletes the old pin.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from reconciler import timestamps
from reconciler.errors import ProviderError
from reconciler.providers import posting, relayapi_receipts, services
from reconciler.providers.base import Media, PinContent, Published, cover_second
from reconciler.providers.http import json_body
from reconciler.providers.posting import Post

DEFAULT_BASE_URL = "https://api.relayapi.dev"
PAGE = 100  # the listing's largest page
OPTIONS = ("board_id", "title", "link", "alt_text")  # named as PinContent names them

CAPABILITIES = services.RELAYAPI


class RelayAPIProvider(posting.PostingService):
    capabilities, default_url = CAPABILITIES, DEFAULT_BASE_URL
    what = "the id of its Pinterest account (acc_…)"
    key_form = "rlay_live_…"
    # `pace` is kept by the plan, which holds back creates beyond it.
    hooks: ClassVar[dict[str, Any]] = {"error_detail": relayapi_receipts.error_detail}
    post_path = "/v1/posts/{id}"
    keeps_unpublished, dead_statuses = True, ("draft", "failed", "cancelled")
    boards_path = "/v1/accounts/{account}/pinterest-boards"
    matched = ("board_id", "title", "link", "description")
    keys: ClassVar[dict[str, str]] = {name: name for name in OPTIONS}

    def create(self, content: PinContent, idempotency_key: str) -> Published:
        body = self._post_body(content, idempotency_key)
        key = idempotency_key
        for _ in range(3):
            send = functools.partial(self.create_keyed, "/v1/posts", key, json=body, allow=(409,))
            sent = relayapi_receipts.answered(send)
            if sent is None:  # the key cannot tell what it did: the listing can
                post = self._settle(content, body)
                anew = post is None
            else:
                post, replayed = sent
                if replayed:  # answered from the receipt: the post as it is now
                    post = self.read_post(post["id"]) or {**post, "status": "cancelled"}
                anew = replayed and post["status"] in ("failed", "cancelled")
            if not anew and post is not None:
                return self.settle(self.published(post))
            # Nothing was made under the key, or what was made failed or was unpublished since:
            # post anew, under a key derived from the first.
            key = f"{idempotency_key}.{post['id'] if post else 'anew'}"
        raise ProviderError(f"{self.name} kept answering the create with an earlier post")

    # The hooks of the skeleton

    def posts(self, since: datetime | None) -> list[Post]:
        posts: list[Post] = []
        params = {"account_id": self.account_id, "limit": str(PAGE)}
        if since is not None:
            params["from"] = timestamps.iso_utc(since)
        while True:
            page = json_body(self.client.request("GET", "/v1/posts", params=params))
            posts += page["data"]
            if not page.get("has_more") or not page.get("next_cursor"):
                return posts
            params["cursor"] = str(page["next_cursor"])

    def published(self, post: Post) -> Published:
        post_id, status = str(post["id"]), post["status"]
        target = post.get("targets", {}).get(self.account_id, {})
        account = self._delivery(post)
        if status == "cancelled":
            return posting.unpublished(post_id, "failed", "the post was unpublished since")
        if target.get("status") == "published" and account.get("platform_post_id"):
            pin_id, url = str(account["platform_post_id"]), account.get("url")
            return Published(pin_id, post_id, url, published_at=post.get("published_at"))
        if target.get("status") == "failed" or status == "failed":
            problem = target.get("error") or {}
            reason = f"{problem.get('message', status)} ({problem.get('code', 'no code')})"
            return posting.unpublished(post_id, "failed", reason)
        if account.get("delivery_state") == "unknown":
            hint = f"reconcile target {account.get('target_id')} in RelayAPI, then plan again"
            raise ProviderError(
                f"{self.name} does not know if post {post_id} reached Pinterest", hint=hint
            )
        return posting.waiting(post_id, status)

    def pin_of(self, post: Post) -> str | None:
        pin_id = self._delivery(post).get("platform_post_id")
        return str(pin_id) if pin_id else None

    def post_of(self, remote_id: str) -> Post | None:
        # A scheduled post has no pin id yet: pinops then names the post itself.
        if remote_id.startswith("post_"):
            return self.read_post(remote_id)
        return next((p for p in self.posts(None) if self.pin_of(p) == remote_id), None)

    def gone(self, post: Post) -> bool:
        return bool(post["status"] == "cancelled")

    def shown(self, post: Post) -> dict[str, Any]:
        options = (post.get("target_options") or {}).get("pinterest") or {}
        created = post.get("published_at") or post.get("created_at")
        shown = {"description": post.get("content") or None, "created_at": created}
        return self.echoed(options) | shown | {"url": self._delivery(post).get("url")}

    def remove(self, post: Post, pin_id: str) -> None:  # noqa: ARG002
        if self.discarded(post):
            return
        path, key = f"/v1/posts/{post['id']}/unpublish", f"unpublish.{post['id']}"
        self.keyed(path, key, json={"platforms": ["pinterest"]})

    # The pieces

    def _post_body(self, content: PinContent, key: str) -> dict[str, Any]:
        media, options = posting.medium(content), self.options(content)
        if content.cover is not None:
            options["cover_image_url"] = self._url(content.cover, f"{key}.cover")
        elif media.kind == "video":
            # Its server refuses a video without a cover: none given is the first frame, as
            # Pinterest shows it.
            options["cover_image_key_frame_time"] = cover_second(content.cover_frame)
        item = {"url": self._url(media, f"{key}.media"), "type": media.kind}
        item |= posting.present(mime_type=media.content_type, alt_text=content.alt_text)
        body = {"targets": [self.account_id], "media": [item], "scheduled_at": "now"}
        body |= {"target_options": {"pinterest": options}}
        body |= posting.present(content=content.description)
        if when := posting.scheduled(content):
            body |= {"scheduled_at": when, "timezone": "UTC"}
        return body

    def _url(self, media: Media, key: str) -> str:
        """The media's URL: as given, under media_base_url, or uploaded under the create's key, so
        that a create sent again carries the same `reference_url` and is replayed."""
        url = media.public_url
        if url is not None:
            return url
        assert media.path is not None and media.content_type is not None
        request = {"filename": media.path.name, "content_type": media.content_type}
        for presign_key in (key, uuid.uuid4().hex):
            target = json_body(self.keyed("/v1/media/presign", presign_key, json=request))
            # 412: uploaded by an earlier attempt; 403: its URL expired (confirm then decides).
            # Exactly its upload_headers: the URL is signed over them.
            allow = (403, 412) if presign_key == key else ()
            self.upload(target["upload_url"], media.read(), target["upload_headers"], allow=allow)
            storage_key = urlsplit(target["url"]).path.lstrip("/")
            confirm_key = hashlib.sha256(storage_key.encode()).hexdigest()[:32]
            confirm = {"storage_key": storage_key}
            confirmed = self.keyed("/v1/media/confirm", confirm_key, json=confirm, allow=(404,))
            if confirmed.status_code != 404:  # else never uploaded: upload a copy of its own
                return str(json_body(confirmed).get("reference_url") or target["url"])
        raise ProviderError(f"{self.name} did not confirm the upload of {media.path.name}")

    def _settle(self, content: PinContent, body: dict[str, Any]) -> Post | None:
        """The post an earlier use of the key made (same pin, same media URLs), or None."""
        since = datetime.now(UTC) - timedelta(days=services.RELAYAPI_RECEIPT_DAYS)
        return relayapi_receipts.earlier(self.matching(content, since), body)

    def _delivery(self, post: Post) -> Post:
        """The post's delivery to the account: pin id, URL, delivery state."""
        accounts = post.get("targets", {}).get(self.account_id, {}).get("accounts") or [{}]
        first: Post = accounts[0]
        return first


open_provider = RelayAPIProvider.open
