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

from datetime import UTC, datetime
from typing import Any

from reconciler.config import Account, Config
from reconciler.errors import OutOfCredits, ProviderError, ProviderRejected, TransientError
from reconciler.providers import posting, services
from reconciler.providers.base import (
    Board,
    Media,
    PinContent,
    Published,
    RemotePin,
)
from reconciler.providers.http import Failure, HttpClient, json_body

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

    def __init__(
        self, client: HttpClient, config: Config, account_id: str, **options: float
    ) -> None:
        super().__init__(client, config, account_id, **options)
        self._uploaded: dict[str, str] = {}  # sha256 -> publicUrl: a file used twice goes up once

    def boards(self) -> list[Board]:
        params = {"accountId": self.account_id}
        body = json_body(self.client.request("GET", "/pinterest/boards", params=params))
        return [Board(id=str(board["id"]), name=board["name"]) for board in body["boards"]]

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
            return Published(pin_id=None, post_id=post_id, status="scheduled")
        # Even a `published` answer lacks the pin id: the post is read until it shows one.
        accepted = Published(pin_id=None, post_id=post_id, status="pending")
        return posting.settle(accepted, self.follow, NAME, self.publish_wait, self.poll_interval)

    def follow(self, post_id: str) -> Published:
        response = self.client.request("GET", f"/posts/{post_id}", allow=(404,))
        if response.status_code == 404:
            return Published(pin_id=None, post_id=post_id, status="failed", reason="post deleted")
        post = json_body(response)["post"]
        entry = _pinterest(post)
        status = entry["status"] if entry else post["status"]
        if status == "published" and entry and entry.get("platformPostId"):
            return Published(
                pin_id=str(entry["platformPostId"]),
                post_id=post_id,
                url=entry.get("platformPostUrl"),
                published_at=entry.get("publishedAt"),
            )
        if status in ("failed", "partial"):
            reason = (entry or {}).get("errorMessage") or status
            return Published(pin_id=None, post_id=post_id, status="failed", reason=reason)
        if status == "scheduled":
            return Published(pin_id=None, post_id=post_id, status="scheduled")
        return Published(pin_id=None, post_id=post_id, status="pending")

    def update(self, pin_id: str, content: PinContent, changed: frozenset[str]) -> Published:  # noqa: ARG002
        raise ProviderRejected(f"{NAME} cannot edit a published pin (pin {pin_id})")

    def delete(self, pin_id: str) -> None:
        post = self._post_of(pin_id)
        if post is None:
            return  # no post carries this pin any more: nothing left to delete
        response = self.client.request(
            "DELETE", f"/posts/{post['postId']}", params={"deleteFromPlatforms": "true"}
        )
        for result in json_body(response).get("platforms", []):
            if result.get("platform") == "pinterest" and not result.get("success"):
                why = result.get("errorMessage") or result.get("message") or result.get("status")
                raise ProviderRejected(f"{NAME} could not delete pin {pin_id}: {why}")

    def get(self, pin_id: str) -> RemotePin | None:
        post = self._post_of(pin_id)
        return _remote(post, pin_id) if post else None

    def find(self, content: PinContent, since: datetime) -> list[RemotePin]:
        found = []
        for post in self._posts({"createdAfter": posting.iso_utc(since)}):
            sent = _sent(post)
            if sent is None:
                raise ProviderError(
                    f"{NAME} post {post['postId']} does not show what was sent",
                    hint="compare the pin with the PostPeer dashboard",
                )
            data = sent.get("platformSpecificData", {})
            if (
                sent.get("accountId") != self.account_id
                or data.get("boardId") != content.board_id
                or data.get("title") != content.title
                or data.get("link") != content.link
                or post["status"] == "failed"
            ):
                continue
            entry = _pinterest(post)
            pin_id = entry.get("platformPostId") if entry else None
            if not pin_id and post["status"] == "scheduled":
                # It was created, but a pin id exists only once it is published, and a state
                # record cannot yet hold a found post without one.
                raise ProviderError(
                    f"{NAME} post {post['postId']} matches the pin: it was created, scheduled "
                    f"for {post.get('scheduledFor')}",
                    hint="resolve it with --published PIN_ID once PostPeer has published it, "
                    "or cancel the post in PostPeer and resolve with --not-published",
                )
            if not pin_id:
                raise ProviderError(
                    f"{NAME} post {post['postId']} matches the pin and is still {post['status']}",
                    hint="run plan again once PostPeer has published it",
                )
            found.append(_remote(post, str(pin_id)))
        return found

    # The pieces

    def _post_body(self, content: PinContent) -> dict[str, Any]:
        if content.media is None:
            raise ProviderRejected("a pin needs an image or a video")
        data: dict[str, Any] = {"boardId": content.board_id}
        for name, value in (
            ("title", content.title),
            ("link", content.link),
            ("altText", content.alt_text),
            ("dominantColor", content.dominant_color),
        ):
            if value:
                data[name] = value
        if content.cover is not None:
            data["coverImageUrl"] = self._url(content.cover)
        body: dict[str, Any] = {
            "content": content.description or "",
            "mediaItems": [{"type": content.media.kind, "url": self._url(content.media)}],
            "platforms": [
                {
                    "platform": "pinterest",
                    "accountId": self.account_id,
                    "platformSpecificData": data,
                }
            ],
        }
        # PostPeer refuses a scheduledFor in the past: a pin already due is published now.
        if content.publish_at is not None and content.publish_at > datetime.now(UTC):
            body["scheduledFor"] = posting.iso_utc(content.publish_at)
            body["timezone"] = "UTC"
        else:
            body["publishNow"] = True
        return body

    def _url(self, media: Media) -> str:
        """A public URL of the media: as given, under media_base_url, or uploaded to PostPeer."""
        url = posting.public_url(media, self.config) or self._uploaded.get(media.sha256 or "")
        if url is not None:
            return url
        assert media.path is not None and media.content_type is not None and media.sha256
        presign = {"filename": media.path.name, "mimeType": media.content_type}
        # A presigned upload publishes nothing: asking again is harmless.
        answer = self.client.request(
            "POST", "/media/upload", json=presign, idempotent=True, paced=False
        )
        target = json_body(answer)["data"]
        self.client.request(
            "PUT",
            target["uploadUrl"],
            content=media.read(),
            headers={"Content-Type": media.content_type},
            auth=False,
            paced=False,
            timeout=300.0,
        )
        self._uploaded[media.sha256] = str(target["publicUrl"])
        return self._uploaded[media.sha256]

    def _posts(self, query: dict[str, str]) -> list[dict[str, Any]]:
        """Every Pinterest post the listing shows for `query`, newest first."""
        posts: list[dict[str, Any]] = []
        while True:
            params = {**query, "platform": "pinterest", "sort": "desc"}
            params |= {"limit": str(PAGE), "offset": str(len(posts))}
            page = json_body(self.client.request("GET", "/posts/", params=params))
            posts += page["posts"]
            if not page["posts"] or len(posts) >= page["total"]:
                return posts

    def _post_of(self, remote_id: str) -> dict[str, Any] | None:
        """The post of a pin id, or of a post id (a scheduled post has no pin id yet)."""
        for post in self._posts({}):
            entry = _pinterest(post)
            if remote_id in (post["postId"], entry and entry.get("platformPostId")):
                return post
        return None


def _pinterest(post: dict[str, Any]) -> dict[str, Any] | None:
    """The post's Pinterest entry (pinops sends one)."""
    entries = [p for p in post.get("platforms", []) if p.get("platform") == "pinterest"]
    return entries[0] if entries else None


def _sent(post: dict[str, Any]) -> dict[str, Any] | None:
    """The Pinterest target of the create request, as the listing echoes it."""
    raw = post.get("rawRequestBody")
    if not isinstance(raw, dict):
        return None
    targets = [p for p in raw.get("platforms", []) if p.get("platform") == "pinterest"]
    return targets[0] if targets else None


def _remote(post: dict[str, Any], pin_id: str) -> RemotePin:
    sent = _sent(post) or {}
    data = sent.get("platformSpecificData", {})
    entry = _pinterest(post) or {}
    return RemotePin(
        pin_id=pin_id,
        board_id=data.get("boardId"),
        title=data.get("title"),
        description=entry.get("content") or post.get("content") or None,
        link=data.get("link"),
        alt_text=data.get("altText"),
        url=entry.get("platformPostUrl"),
        created_at=entry.get("publishedAt") or post.get("createdAt"),
    )


def open_provider(config: Config, account: Account) -> PostPeerProvider:
    key = posting.api_key(account, NAME)
    account_id = posting.account_id(
        account, NAME, "the Integration id of the Pinterest account (GET /v1/connect/integrations)"
    )
    client = HttpClient(
        account.base_url or DEFAULT_BASE_URL,
        name=NAME,
        auth=lambda: {"x-access-key": key},
        explain=_explain,
        request_id_header="x-request-id",
        spacing=account.pace.interval if account.pace else 0.0,
    )
    return PostPeerProvider(client, config, account_id)
