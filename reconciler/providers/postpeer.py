"""PostPeer (https://api.postpeer.dev/v1): pins as posts to one Pinterest integration.

Contract: shared/reference/postpeer (PostPeer's OpenAPI 3.0.0 document) and AGGREGATORS.md §2.
- Auth `x-access-key`. Create `POST /posts/` with the pin in `platforms[].platformSpecificData`
  (`boardId`, `title`, `link`, `altText`, `dominantColor`, `coverImageUrl`), the description as
  `content`, media as public URLs in `mediaItems`; `publishNow: true`, or `scheduledFor` +
  `timezone` (PostPeer then publishes by itself).
- The create answers 202 with `postId` but never the pin id; `GET /posts/{postId}` shows
  `platformPostId` once published, so creates are followed until then.
- No idempotency key, and PostPeer's own SDK never re-sends a POST: a create whose answer was
  lost is settled through the post listing (`find`), matched on what was sent (the listing echoes
  it as `rawRequestBody`, ⚠️ its shape is not typed in the document).
- No edit of a published pin. `DELETE /posts/{postId}?deleteFromPlatforms=true` deletes it on
  Pinterest for 1 credit (⚠️ the document does not list which platforms are "supported").
- Every published or scheduled post costs a credit; 402 when the project has too few.
- Media: local files go through `POST /media/upload` (a presigned PUT, then its `publicUrl`)
  unless media_base_url serves them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from reconciler import timestamps
from reconciler.errors import OutOfCredits, ProviderError, ProviderRejected, TransientError
from reconciler.providers import posting, services
from reconciler.providers.base import Media, PinContent, Published
from reconciler.providers.http import Failure, json_body
from reconciler.providers.platformposts import PlatformPosting
from reconciler.providers.posting import Post

DEFAULT_BASE_URL = "https://api.postpeer.dev/v1"
PAGE = 100  # the listing's largest page

CAPABILITIES = services.POSTPEER


def _explain(failure: Failure) -> ProviderError | None:
    if failure.status == 402:
        # Every further post would be refused alike: stop the run, a later one resumes.
        return OutOfCredits(
            failure.describe(CAPABILITIES.name),
            hint="add credits to the PostPeer project: each published or scheduled post costs 1",
        )
    # PostPeer's SDK retries reads and deletes on 408 and 409 too; never a POST.
    if failure.status in (408, 409) and failure.method in ("GET", "DELETE"):
        return TransientError(failure.describe(CAPABILITIES.name))
    return None


class PostPeerProvider(PlatformPosting):
    capabilities, default_url = CAPABILITIES, DEFAULT_BASE_URL
    what = "the Integration id of the Pinterest account (GET /v1/connect/integrations)"
    header = "x-access-key"
    hooks: ClassVar[dict[str, Any]] = {"explain": _explain, "request_id_header": "x-request-id"}
    spaced = True
    post_key, id_key = "post", "postId"
    boards_path, boards_key = "/pinterest/boards?accountId={account}", "boards"
    dead_statuses = ("failed",)
    keys: ClassVar[dict[str, str]] = {
        "board_id": "boardId",
        "title": "title",
        "link": "link",
        "alt_text": "altText",
        "dominant_color": "dominantColor",
    }
    presign_path, presign_key = "/media/upload", "data"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._uploaded: dict[str, str] = {}  # sha256 -> publicUrl: a file used twice goes up once

    def create(self, content: PinContent, idempotency_key: str) -> Published:  # noqa: ARG002
        media, options = posting.medium(content), self.options(content)
        if content.cover is not None:
            options["coverImageUrl"] = self._url(content.cover)
        item = {"type": media.kind, "url": self._url(media)}
        # PostPeer refuses a scheduledFor in the past: post_body publishes a pin already due now.
        body = {"content": content.description or ""} | self.post_body(content, options, item)
        answer = json_body(self.client.request("POST", "/posts/", json=body))
        post_id = str(answer["postId"])
        status = answer["status"]
        if status in ("failed", "partial"):
            reasons = [p.get("error") for p in answer.get("platforms", []) if p.get("error")]
            raise ProviderRejected(
                f"{self.name} could not publish the pin: {'; '.join(reasons) or status}",
                hint=f"see post {post_id} in the PostPeer dashboard; failed posts cost no credit",
            )
        if status == "scheduled":
            return posting.unpublished(post_id, "scheduled")
        # Even a `published` answer lacks the pin id: the post is read until it shows one.
        return self.settle(posting.unpublished(post_id, "pending"))

    # The hooks of the skeleton

    def posts(self, since: datetime | None) -> list[Post]:
        query = {"createdAfter": timestamps.iso_utc(since)} if since else {}
        posts: list[Post] = []
        while True:
            params = {**query, "platform": "pinterest", "sort": "desc"}
            params |= {"limit": str(PAGE), "offset": str(len(posts))}
            page = json_body(self.client.request("GET", "/posts/", params=params))
            posts += page["posts"]
            if not page["posts"] or len(posts) >= page["total"]:
                return posts

    def published(self, post: Post) -> Published:
        post_id, entry = str(post["postId"]), posting.pinterest_entry(post)
        status = entry["status"] if entry else post["status"]
        if pin := self.pin_published(post):
            return pin
        if status in ("failed", "partial"):
            reason = entry.get("errorMessage") or status
            return posting.unpublished(post_id, "failed", reason)
        return posting.waiting(post_id, status)

    def sent_as(self, post: Post, content: PinContent) -> bool:
        sent = _sent(post)
        if sent is None:
            raise ProviderError(
                f"{self.name} post {post['postId']} does not show what was sent",
                hint="compare the pin with the PostPeer dashboard",
            )
        return sent.get("accountId") == self.account_id and super().sent_as(post, content)

    def unsettled(self, post: Post) -> ProviderError:
        if post["status"] != "scheduled":
            return super().unsettled(post)
        # It was created, but a pin id exists only once it is published, and a state record
        # cannot yet hold a found post without one.
        return ProviderError(
            f"{self.name} post {post['postId']} matches the pin: it was created, scheduled "
            f"for {post.get('scheduledFor')}",
            hint="resolve it with --published PIN_ID once PostPeer has published it, "
            "or cancel the post in PostPeer and resolve with --not-published",
        )

    def options_of(self, post: Post) -> Post:
        options: Post = (_sent(post) or {}).get("platformSpecificData", {})
        return options

    def remove(self, post: Post, pin_id: str) -> None:
        response = self.client.request(
            "DELETE", f"/posts/{post['postId']}", params={"deleteFromPlatforms": "true"}
        )
        for result in json_body(response).get("platforms", []):
            if result.get("platform") == "pinterest" and not result.get("success"):
                why = result.get("errorMessage") or result.get("message") or result.get("status")
                raise ProviderRejected(f"{self.name} could not delete pin {pin_id}: {why}")

    # The pieces

    def _url(self, media: Media) -> str:
        """A public URL of the media: as given, under media_base_url, or uploaded to PostPeer."""
        url = media.public_url or self._uploaded.get(media.sha256 or "")
        if url is not None:
            return url
        assert media.path is not None and media.content_type is not None and media.sha256
        presign = {"filename": media.path.name, "mimeType": media.content_type}
        url = self.uploaded(media, presign, media.read(), paced=False)
        self._uploaded[media.sha256] = url
        return url


def _sent(post: Post) -> Post | None:
    """The Pinterest target of the create request, as the listing echoes it."""
    raw = post.get("rawRequestBody")
    if not isinstance(raw, dict):
        return None
    targets = [p for p in raw.get("platforms", []) if p.get("platform") == "pinterest"]
    return targets[0] if targets else None


open_provider = PostPeerProvider.open
