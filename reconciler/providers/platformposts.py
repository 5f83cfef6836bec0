"""The post shape PostPeer and Zernio share: a post carries one entry per platform in
`platforms[]` (the pin's options in its `platformSpecificData`, the pin once published as
`platformPostId` and `platformPostUrl`), its media in `mediaItems`, its description as `content`,
and is published now (`publishNow: true`) or at `scheduledFor` in a `timezone`; files go up to a
presigned URL whose answer names their `uploadUrl` and `publicUrl`."""

from __future__ import annotations

from typing import Any

from reconciler.providers.base import Media, PinContent, Published
from reconciler.providers.http import json_body
from reconciler.providers.posting import Post, PostingService, pinterest_entry, scheduled


class PlatformPosting(PostingService):
    """A posting service of this shape; `options_of` says where a post shows the pin's options."""

    presign_path = ""  # POST: a presigned URL for a file
    presign_key: str | None = None  # where that answer holds it (None: it is the answer)

    def options_of(self, post: Post) -> Post:
        """The pin's options as the post shows them (`platformSpecificData`)."""
        return pinterest_entry(post).get("platformSpecificData") or {}

    def pin_of(self, post: Post) -> str | None:
        pin_id = pinterest_entry(post).get("platformPostId")
        return str(pin_id) if pin_id else None

    def pin_published(self, post: Post) -> Published | None:
        """The pin its Pinterest entry shows published, or None."""
        entry, pin_id = pinterest_entry(post), self.pin_of(post)
        if entry.get("status") != "published" or pin_id is None:
            return None
        return Published(
            pin_id=pin_id,
            post_id=str(post[self.id_key]),
            url=entry.get("platformPostUrl"),
            published_at=entry.get("publishedAt") or post.get("publishedAt"),
        )

    def shown(self, post: Post) -> dict[str, Any]:
        entry = pinterest_entry(post)
        return self.echoed(self.options_of(post)) | {
            "description": entry.get("content") or post.get("content") or None,
            "url": entry.get("platformPostUrl"),
            "created_at": entry.get("publishedAt") or post.get("createdAt"),
        }

    def post_body(self, content: PinContent, options: Post, item: Post) -> dict[str, Any]:
        """The post of `item` (the medium) to the account's Pinterest, with the pin's options;
        published now unless the pin's publish_at is still ahead."""
        target = {"platform": "pinterest", "accountId": self.account_id}
        body: dict[str, Any] = {
            "mediaItems": [item],
            "platforms": [{**target, "platformSpecificData": options}],
        }
        when = scheduled(content)
        return body | ({"scheduledFor": when, "timezone": "UTC"} if when else {"publishNow": True})

    def uploaded(self, media: Media, presign: Post, data: bytes, **options: Any) -> str:
        """The public URL of a repository file PUT to the presigned URL `presign` asks for (a
        presigned URL publishes nothing: asking again is harmless)."""
        assert media.content_type is not None
        answer = self.client.request(
            "POST", self.presign_path, json=presign, idempotent=True, **options
        )
        target = json_body(answer)
        target = target[self.presign_key] if self.presign_key else target
        self.upload(target["uploadUrl"], data, {"Content-Type": media.content_type}, **options)
        return str(target["publicUrl"])
