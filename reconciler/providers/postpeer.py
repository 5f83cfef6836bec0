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
  Pinterest for 1 credit (⚠️ the document does not list which platforms are "supported"). pinops
  records the pin id, so get and delete find the post through the listing (by pin id, or by post
  id for a scheduled post, which has no pin yet).
- Every published or scheduled post costs a credit; 402 when the project has too few.
- Media: local files go through `POST /media/upload` (a presigned PUT, then its `publicUrl`)
  unless media_base_url serves them. Limits and fields: CAPABILITIES, from its Pinterest page.
  There is no key-frame field: a `cover_frame:` other than 0 is refused at plan time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from reconciler import timestamps
from reconciler.errors import OutOfCredits, ProviderError, ProviderRejected, TransientError
from reconciler.providers import posting, services
from reconciler.providers.base import (
    Media,
    PinContent,
    Published,
)
from reconciler.providers.http import Failure, json_body
from reconciler.providers.posting import Post

DEFAULT_BASE_URL = "https://api.postpeer.dev/v1"
PAGE = 100  # the listing's largest page

CAPABILITIES = services.POSTPEER
NAME = CAPABILITIES.name


def _explain(failure: Failure) -> ProviderError | None:
    if failure.status == 402:
        # Every further post would be refused alike: stop the run, a later one resumes.
        return OutOfCredits(
            failure.describe(NAME),
            hint="add credits to the PostPeer project: each published or scheduled post costs 1",
        )
    # PostPeer's SDK retries reads and deletes on 408 and 409 too; never a POST.
    if failure.status in (408, 409) and failure.method in ("GET", "DELETE"):
        return TransientError(failure.describe(NAME))
    return None


class PostPeerProvider(posting.PostingService):
    capabilities = CAPABILITIES
    default_url = DEFAULT_BASE_URL
    what = "the Integration id of the Pinterest account (GET /v1/connect/integrations)"
    header = "x-access-key"
    hooks: ClassVar[dict[str, Any]] = {"explain": _explain, "request_id_header": "x-request-id"}
    spaced = True
    post_key = "post"
    id_key = "postId"
    boards_path = "/pinterest/boards?accountId={account}"
    boards_key = "boards"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._uploaded: dict[str, str] = {}  # sha256 -> publicUrl: a file used twice goes up once

    def create(self, content: PinContent, idempotency_key: str) -> Published:  # noqa: ARG002
        body = self._post_body(content)
        answer = json_body(self.client.request("POST", "/posts/", json=body))
        post_id = str(answer["postId"])
        status = answer["status"]
        if status in ("failed", "partial"):
            reasons = [p.get("error") for p in answer.get("platforms", []) if p.get("error")]
            raise ProviderRejected(
                f"{NAME} could not publish the pin: {'; '.join(reasons) or status}",
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
        if status == "published" and entry and entry.get("platformPostId"):
            return Published(
                pin_id=str(entry["platformPostId"]),
                post_id=post_id,
                url=entry.get("platformPostUrl"),
                published_at=entry.get("publishedAt"),
            )
        if status in ("failed", "partial"):
            reason = entry.get("errorMessage") or status
            return posting.unpublished(post_id, "failed", reason)
        if status == "scheduled":
            return posting.unpublished(post_id, "scheduled")
        return posting.unpublished(post_id, "pending")

    def pin_of(self, post: Post) -> str | None:
        pin_id = posting.pinterest_entry(post).get("platformPostId")
        return str(pin_id) if pin_id else None

    def sent_as(self, post: Post, content: PinContent) -> bool:
        sent = _sent(post)
        if sent is None:
            raise ProviderError(
                f"{NAME} post {post['postId']} does not show what was sent",
                hint="compare the pin with the PostPeer dashboard",
            )
        return sent.get("accountId") == self.account_id and super().sent_as(post, content)

    def dead(self, post: Post) -> bool:
        return bool(post["status"] == "failed")

    def unsettled(self, post: Post) -> ProviderError:
        if post["status"] != "scheduled":
            return super().unsettled(post)
        # It was created, but a pin id exists only once it is published, and a state record
        # cannot yet hold a found post without one.
        return ProviderError(
            f"{NAME} post {post['postId']} matches the pin: it was created, scheduled "
            f"for {post.get('scheduledFor')}",
            hint="resolve it with --published PIN_ID once PostPeer has published it, "
            "or cancel the post in PostPeer and resolve with --not-published",
        )

    def shown(self, post: Post) -> dict[str, Any]:
        data = (_sent(post) or {}).get("platformSpecificData", {})
        entry = posting.pinterest_entry(post)
        return {
            "board_id": data.get("boardId"),
            "title": data.get("title"),
            "description": entry.get("content") or post.get("content") or None,
            "link": data.get("link"),
            "alt_text": data.get("altText"),
            "url": entry.get("platformPostUrl"),
            "created_at": entry.get("publishedAt") or post.get("createdAt"),
        }

    def remove(self, post: Post, pin_id: str) -> None:
        response = self.client.request(
            "DELETE", f"/posts/{post['postId']}", params={"deleteFromPlatforms": "true"}
        )
        for result in json_body(response).get("platforms", []):
            if result.get("platform") == "pinterest" and not result.get("success"):
                why = result.get("errorMessage") or result.get("message") or result.get("status")
                raise ProviderRejected(f"{NAME} could not delete pin {pin_id}: {why}")

    # The pieces

    def _post_body(self, content: PinContent) -> dict[str, Any]:
        media = posting.medium(content)
        data = {"boardId": content.board_id} | posting.present(
            title=content.title,
            link=content.link,
            altText=content.alt_text,
            dominantColor=content.dominant_color,
        )
        if content.cover is not None:
            data["coverImageUrl"] = self._url(content.cover)
        target = {"platform": "pinterest", "accountId": self.account_id}
        body: dict[str, Any] = {
            "content": content.description or "",
            "mediaItems": [{"type": media.kind, "url": self._url(media)}],
            "platforms": [{**target, "platformSpecificData": data}],
        }
        # PostPeer refuses a scheduledFor in the past: a pin already due is published now.
        when = posting.scheduled(content)
        return body | ({"scheduledFor": when, "timezone": "UTC"} if when else {"publishNow": True})

    def _url(self, media: Media) -> str:
        """A public URL of the media: as given, under media_base_url, or uploaded to PostPeer."""
        url = self.media_url(media) or self._uploaded.get(media.sha256 or "")
        if url is not None:
            return url
        assert media.path is not None and media.content_type is not None and media.sha256
        presign = {"filename": media.path.name, "mimeType": media.content_type}
        # A presigned upload publishes nothing: asking again is harmless.
        answer = self.client.request(
            "POST", "/media/upload", json=presign, idempotent=True, paced=False
        )
        target = json_body(answer)["data"]
        self.upload(
            target["uploadUrl"], media.read(), {"Content-Type": media.content_type}, paced=False
        )
        self._uploaded[media.sha256] = str(target["publicUrl"])
        return self._uploaded[media.sha256]


def _sent(post: Post) -> Post | None:
    """The Pinterest target of the create request, as the listing echoes it."""
    raw = post.get("rawRequestBody")
    if not isinstance(raw, dict):
        return None
    targets = [p for p in raw.get("platforms", []) if p.get("platform") == "pinterest"]
    return targets[0] if targets else None


open_provider = PostPeerProvider.open
