"""Crosspostify (https://v1.api.crosspostify.com): pins as posts to one Pinterest social account.

Contract: shared/reference/crosspostify/README.md and AGGREGATORS.md §1. The least documented of
the services: only the opening parts of its docs pages could be read, and its Swagger file
could not be obtained. Confirmed:
- Auth `X-API-Key`. Media first: `POST /media` returns a `mediaId` (media go by id, never by
  URL). Then `POST /post/image` (or `/post/video`) `{mediaId, posts: [{accountId, boardId,
  title, caption, link}]}`: `caption` is the description (≤ 500), `title` ≤ 100.
- Boards: `GET /pinterest-boards/{accountId}`.
- Limits: 250 requests an hour, 50 a minute, and 3 posts a minute per social account (429).
  Posts are paced at 3 a minute unless the account's `pace` says otherwise.
- No status, edit, delete, listing or idempotency key: a pin, once posted, cannot be changed or
  removed through the API, and a create whose answer was lost cannot be looked up (`find`
  says so, and the plan leaves it for a person).
- Its Pinterest page (shared/reference/crosspostify/pinterest-page.txt): `scheduledDate` (UTC,
  with a Z, at least ~10 minutes ahead) schedules a pin; board ids look like
  `board_living_room_456`; JPG or PNG images at least 200 px wide. It names no field for alt
  text, dominant colour, board sections or a video's cover (Pinterest takes the first frame):
  the plan says so for a pin that has them (CAPABILITIES).
Unsure (⚠️), so kept to the least:
- The create's answer is not documented: the post id is read from `postId` (or `id`); if the
  answer names none, the record keeps pinops' idempotency key as the post's handle. No pin id is
  known, so records carry the post only.
- The upload's form: a multipart `file` part is sent. JSON post bodies are sent (the docs say
  form-encoded; the nested `posts` array suggests JSON works).
- Media given as URLs cannot be used: Crosspostify takes uploaded files only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reconciler.config import Account, Pace
from reconciler.errors import ProviderError, ProviderRejected
from reconciler.providers import posting, services
from reconciler.providers.base import (
    OWN_CONNECTION,
    Board,
    Connection,
    Media,
    PinContent,
    Published,
    RemotePin,
)
from reconciler.providers.http import HttpClient, json_body

DEFAULT_BASE_URL = "https://v1.api.crosspostify.com"
POSTS_PER_MINUTE = Pace(3, "minute")

CAPABILITIES = services.CROSSPOSTIFY


class CrosspostifyProvider(posting.Service):
    capabilities, default_url = CAPABILITIES, DEFAULT_BASE_URL
    what = "the id of the Pinterest social account (GET /social-accounts)"
    header = "X-API-Key"

    def __init__(self, client: HttpClient, account_id: str) -> None:
        super().__init__(client, account_id)
        self._uploaded: dict[str, str] = {}  # sha256 -> mediaId: a file used twice goes up once

    def boards(self) -> list[Board]:
        body = json_body(self.client.request("GET", f"/pinterest-boards/{self.account_id}"))
        # ⚠️ The listing's shape is undocumented: a list, or one under "boards" or "data".
        items = body if isinstance(body, list) else body.get("boards", body.get("data", []))
        return [Board(id=str(item["id"]), name=item["name"]) for item in items]

    def create(self, content: PinContent, idempotency_key: str) -> Published:
        return self.create_many([content], idempotency_key)[0]

    def create_many(self, contents: list[PinContent], idempotency_key: str) -> list[Published]:
        """One pin on several boards in one call: "You can include multiple entries in the posts
        array — each with a different boardId", spending one post of the 3-a-minute budget."""
        content = contents[0]
        media = posting.medium(content)
        posts = [
            {"accountId": self.account_id, "boardId": each.board_id}
            | posting.present(title=each.title, caption=each.description, link=each.link)
            for each in contents
        ]
        body: dict[str, Any] = {"mediaId": self.media_id(media), "posts": posts}
        # "Omit to post immediately": a publish_at already past is published at once.
        scheduled = posting.scheduled(content)
        body |= posting.present(scheduledDate=scheduled)
        kind = "video" if media.kind == "video" else "image"
        answer = json_body(self.client.request("POST", f"/post/{kind}", json=body))
        post_id = answer.get("postId") or answer.get("id") if isinstance(answer, dict) else None
        # No pin id is known: the record holds the post, which plans act on in its stead.
        published = Published(
            pin_id=None,
            post_id=str(post_id or f"pinops-{idempotency_key}"),
            status="scheduled" if scheduled else "published",
        )
        return [published] * len(contents)

    def delete(self, pin_id: str) -> None:
        raise ProviderRejected(f"{self.name} cannot delete a published pin (pin {pin_id})")

    def get(self, pin_id: str) -> RemotePin | None:
        raise ProviderError(
            f"{self.name} cannot read a post back (pin {pin_id}): it has no such route",
            hint="drift cannot be checked for pins published through Crosspostify",
        )

    def find(self, contents: Sequence[PinContent], since: datetime) -> list[list[RemotePin]]:  # noqa: ARG002
        raise ProviderError(
            f"{self.name} has no post listing to look for the pin in",
            hint="check the Crosspostify dashboard for a post to this board since then",
        )

    def media_id(self, media: Media) -> str:
        """The mediaId of a repository file, uploaded once per run."""
        if media.path is None or media.sha256 is None:
            raise ProviderRejected(
                f"{self.name} takes uploaded files only, not media URLs ({media.url})",
                hint="put the file in the repository and point the pin at its path",
            )
        if media.sha256 not in self._uploaded:
            # An upload publishes nothing: sending it again is harmless.
            file = {"file": posting.file_part(media)}
            answer = self.client.request("POST", "/media", files=file, idempotent=True, paced=False)
            self._uploaded[media.sha256] = str(json_body(answer)["mediaId"])
        return self._uploaded[media.sha256]


def open_provider(
    account: Account,
    connection: Connection = OWN_CONNECTION,
) -> CrosspostifyProvider:
    client, account_id = CrosspostifyProvider.connect(
        account, connection, pace=(account.pace or POSTS_PER_MINUTE,)
    )
    return CrosspostifyProvider(client, account_id)
