"""What the posting-service adapters share: the client they open, media as public URLs, following
a post until it is published, and the skeleton of an adapter (`Service`, `PostingService`) whose
hooks each service fills with what is its own."""

from __future__ import annotations

import dataclasses
import functools
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

import httpx

from reconciler import timestamps
from reconciler.config import Account
from reconciler.errors import (
    OutcomeUnknown,
    ProviderError,
    ProviderRejected,
    TransientError,
)
from reconciler.providers import base, serviceaccount
from reconciler.providers.base import Board, Capabilities, Connection, Media, PinContent, Published
from reconciler.providers.http import HttpClient, json_body

# How long a create waits for the service to publish before it records the post as pending
# (later plans follow it), and the first pause between status reads (doubled up to POLL_CAP).
PUBLISH_WAIT = 10.0
POLL_INTERVAL = 0.25
POLL_CAP = 2.0
UPLOAD_TIMEOUT = 300.0  # seconds for a file sent to a presigned URL

Post = dict[str, Any]  # a post as the service's JSON shows it
SHOWN = frozenset(field.name for field in dataclasses.fields(base.RemotePin))


class Service:
    """What every posting-service adapter has alike: its client, the account it publishes to,
    its board listing, uploads to presigned URLs, and no edit of a published pin."""

    capabilities: Capabilities
    default_url = ""  # the service's API
    what = ""  # what its account id is, in its own words (said when pinops.yaml lacks it)
    header = "Authorization"  # where the API key goes (in Authorization, as a Bearer token)
    key_form = ""  # what its API keys look like, said when one is refused
    # HttpClient's hooks: error_detail, explain, request_id_header.
    hooks: ClassVar[dict[str, Any]] = {}
    spaced = False  # writes are spaced by the account's `pace` (else the plan keeps it)
    boards_path = ""  # GET: the account's boards; {account} stands for its id
    boards_key = "data"  # where that answer holds them

    def __init__(self, client: HttpClient, account_id: str) -> None:
        self.client = client
        self.account_id = account_id
        self.name = self.capabilities.name

    @classmethod
    def connect(
        cls, account: Account, connection: Connection, **options: Any
    ) -> tuple[HttpClient, str]:
        """The account's client and the service's id of its Pinterest account; `options` go to
        HttpClient beside the class's hooks."""
        name = cls.capabilities.name
        key = serviceaccount.api_key(account, name)
        account_id = serviceaccount.account_id_of(account, name, cls.what)
        value = f"Bearer {key}" if cls.header == "Authorization" else key
        if cls.spaced and account.pace:
            options["spacing"] = account.pace.interval
        explain = serviceaccount.key_refused(account, name, cls.key_form, cls.hooks.get("explain"))
        client = HttpClient(
            account.base_url or cls.default_url,
            name=name,
            auth=lambda: {cls.header: value},
            retry=connection.retry,
            timeout=connection.timeout,
            connect_timeout=connection.connect_timeout,
            **(cls.hooks | {"explain": explain} | options),
        )
        return client, account_id

    def boards(self) -> list[Board]:
        answer = json_body(
            self.client.request("GET", self.boards_path.format(account=self.account_id))
        )
        return [Board(id=str(item["id"]), name=item["name"]) for item in answer[self.boards_key]]

    def update(self, pin_id: str, content: PinContent, changed: frozenset[str]) -> Published:  # noqa: ARG002
        raise ProviderRejected(f"{self.name} cannot edit a published pin (pin {pin_id})")

    def upload(self, url: str, data: bytes, headers: Mapping[str, str], **options: Any) -> None:
        """PUT a file to a presigned URL: without the API key, which is not that host's."""
        self.client.request(
            "PUT", url, content=data, headers=headers, auth=False, timeout=UPLOAD_TIMEOUT, **options
        )

    def close(self) -> None:
        self.client.close()


class PostingService(Service, ABC):
    """A service that shows its posts: follow, get, find and delete are written once here, over
    hooks each adapter fills from its service's document (the abstract methods below; `gone`,
    `dead`, `post_of` and `unsettled` where the defaults do not fit)."""

    id_key = "id"  # the post's own id in the service's JSON
    post_path = "/posts/{id}"  # GET: one post
    post_key: str | None = None  # where that answer holds it (None: it is the answer)
    matched: tuple[str, ...] = (
        "board_id",
        "title",
        "link",
    )  # what find compares with the pin, as sent
    # Unpublished posts stay in the listing (`gone`): a pin in none was never published here.
    keeps_unpublished = False
    # The statuses of posts that are no pin, nor becoming one (none: a post that failed).
    dead_statuses: tuple[str, ...] = ()
    key_header = "Idempotency-Key"  # where a write's idempotency key goes
    # The pin's fields (PinContent's names) as the service names them in the pin's options.
    keys: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        client: HttpClient,
        account_id: str,
        connection: Connection = base.OWN_CONNECTION,
    ) -> None:
        super().__init__(client, account_id)
        wait, interval = connection.publish_wait, connection.poll_interval
        self.publish_wait = PUBLISH_WAIT if wait is None else wait
        self.poll_interval = POLL_INTERVAL if interval is None else interval

    @classmethod
    def open(
        cls,
        account: Account,
        connection: Connection = base.OWN_CONNECTION,
    ) -> Self:
        """The adapter of `account` (the module's open_provider)."""
        client, account_id = cls.connect(account, connection)
        return cls(client, account_id, connection)

    # The skeleton

    def follow(self, post_id: str) -> Published:
        post = self.read_post(post_id)
        if post is None:
            return unpublished(post_id, "failed", "post deleted")
        return self.published(post)

    def get(self, pin_id: str) -> base.RemotePin | None:
        post = self.post_of(pin_id)
        if post is None and self.keeps_unpublished:
            raise ProviderError(
                f"pin {pin_id} is not among the {self.name} posts of this account",
                hint="if it was published another way, `pinops state forget` it",
            )
        return None if post is None or self.gone(post) else self.remote(post, pin_id)

    def find(self, contents: Sequence[PinContent], since: datetime) -> list[list[base.RemotePin]]:
        posts = self.live(since)
        return [self._pins([p for p in posts if self.sent_as(p, c)]) for c in contents]

    def _pins(self, posts: list[Post]) -> list[base.RemotePin]:
        found = []
        for post in posts:
            pin_id = self.pin_of(post)
            if not pin_id:
                raise self.unsettled(post)
            found.append(self.remote(post, pin_id))
        return found

    def delete(self, pin_id: str) -> None:
        post = self.post_of(pin_id)
        if post is None or self.gone(post):
            return  # no post carries this pin any more, or it was unpublished
        self.remove(post, pin_id)

    def matching(self, content: PinContent, since: datetime) -> list[Post]:
        """The posts since `since` that are this pin as sent, and a pin or becoming one."""
        return [p for p in self.live(since) if self.sent_as(p, content)]

    def live(self, since: datetime) -> list[Post]:
        """The posts since `since` that are a pin or becoming one."""
        return [p for p in self.posts(since) if not self.dead(p)]

    def waited(self, published: Published) -> Published:
        """A create's outcome, followed for a while if still pending (see wait_for_publish)."""
        post_id = published.post_id
        if published.status != "pending" or not post_id:
            return published
        return wait_for_publish(
            functools.partial(self.follow, post_id), post_id, self.publish_wait, self.poll_interval
        )

    def checked(self, published: Published) -> Published:
        """A publish that failed raised with the service's reason: nothing was published."""
        if published.status == "failed":
            raise ProviderRejected(
                f"{self.name} could not publish the pin: {published.reason}",
                hint=f"see post {published.post_id} in {self.name}'s dashboard",
            )
        return published

    def settle(self, published: Published) -> Published:
        return self.checked(self.waited(published))

    def options(self, content: PinContent) -> dict[str, Any]:
        """The pin's fields that have a value, under the service's names (`keys`)."""
        return present(**{key: getattr(content, name) for name, key in self.keys.items()})

    def echoed(self, options: Post) -> dict[str, Any]:
        """RemotePin's fields among `keys`, as the post's options show them."""
        return {name: options.get(key) for name, key in self.keys.items() if name in SHOWN}

    def keyed(self, path: str, key: str, **options: Any) -> httpx.Response:
        """A POST under an idempotency key: the service answers a repeat as it did the first."""
        headers = {self.key_header: key, **options.pop("headers", {})}
        return self.client.request("POST", path, headers=headers, idempotent=True, **options)

    def create_keyed(self, path: str, key: str, **options: Any) -> httpx.Response:
        """A create under its key. Retried and still unanswered, it may have been acted on: the
        intent stays, and the next plan replays it under the same key."""
        try:
            return self.keyed(path, key, **options)
        except TransientError as exc:
            raise OutcomeUnknown(exc.message, hint="it is not sent again blindly") from None

    def discarded(self, post: Post) -> bool:
        """Whether the post was a draft or scheduled, so deleted itself: no pin to unpublish."""
        if post.get("status") not in ("draft", "scheduled"):
            return False
        self.client.request("DELETE", self.post_path.format(id=post[self.id_key]), allow=(404,))
        return True

    # Hooks with defaults

    def post_of(self, remote_id: str) -> Post | None:
        """The post of a pin id, or of a post id (a scheduled post has no pin id yet)."""
        for post in self.posts(None):
            if remote_id in (self.pin_of(post), str(post[self.id_key])):
                return post
        return None

    def read_post(self, post_id: str) -> Post | None:
        """One post by its id; None when the service has none."""
        response = self.client.request("GET", self.post_path.format(id=post_id), allow=(404,))
        if response.status_code == 404:
            return None
        answer = json_body(response)
        post: Post = answer[self.post_key] if self.post_key else answer
        return post

    def gone(self, post: Post) -> bool:  # noqa: ARG002
        """Whether the post's pin was unpublished since (the post itself remains)."""
        return False

    def dead(self, post: Post) -> bool:
        """Whether the post is no pin, nor becoming one (find passes over it)."""
        if self.dead_statuses:
            return post["status"] in self.dead_statuses
        return self.published(post).status == "failed"

    def sent_as(self, post: Post, content: PinContent) -> bool:
        """Whether the post is this pin, as pinops sent it (the `matched` fields)."""
        shown = self.shown(post)
        return all(shown.get(name) == getattr(content, name) for name in self.matched)

    def remote(self, post: Post, pin_id: str) -> base.RemotePin:
        return base.RemotePin(pin_id=pin_id, **self.shown(post))

    def unsettled(self, post: Post) -> ProviderError:
        """The error of find for a post that is the pin but has no pin id yet."""
        return ProviderError(
            f"{self.name} post {post[self.id_key]} matches the pin and is still {post['status']}",
            hint=f"run plan again once {self.name} has published it",
        )

    # Hooks each service fills

    @abstractmethod
    def posts(self, since: datetime | None) -> list[Post]:
        """The account's Pinterest posts, newest first; only those created since `since`."""

    @abstractmethod
    def published(self, post: Post) -> Published:
        """Where the post stands: published (with its pin), scheduled, pending or failed."""

    @abstractmethod
    def pin_of(self, post: Post) -> str | None:
        """The id of the pin the post published, once it has."""

    @abstractmethod
    def shown(self, post: Post) -> dict[str, Any]:
        """The pin as the post shows it: RemotePin's fields but its id."""

    @abstractmethod
    def remove(self, post: Post, pin_id: str) -> None:
        """Delete the post's pin on Pinterest."""


def unpublished(post_id: str, status: str, reason: str | None = None) -> Published:
    """A post with no pin yet: scheduled, pending, or failed (saying why)."""
    return Published(pin_id=None, post_id=post_id, status=status, reason=reason)


def waiting(post_id: str, status: str | None) -> Published:
    """A post still to publish: scheduled when its status says so, else pending."""
    return unpublished(post_id, "scheduled" if status == "scheduled" else "pending")


def pinterest_entry(post: Post) -> Post:
    """The post's Pinterest entry in its `platforms` (pinops sends exactly one), or {}."""
    entries = [p for p in post.get("platforms", []) if p.get("platform") == "pinterest"]
    return entries[0] if entries else {}


def medium(content: PinContent) -> Media:
    """The pin's image or video, which every service needs."""
    if content.media is None:
        raise ProviderRejected("a pin needs an image or a video")
    return content.media


def file_part(media: Media) -> tuple[str, bytes, str]:
    """A repository file as a multipart upload's part: its name, bytes and type."""
    assert media.path is not None
    return (media.path.name, media.read(), media.content_type or "application/octet-stream")


def present(**fields: Any) -> dict[str, Any]:
    """The fields that have a value: services take an absent field, not an empty one."""
    return {name: value for name, value in fields.items() if value}


def scheduled(content: PinContent) -> str | None:
    """The pin's publish_at, while it is ahead, in the form the services take; None: publish
    now (a publish_at already past, after a late merge or a paced wait, is not a schedule)."""
    if content.publish_at is None or content.publish_at <= datetime.now(UTC):
        return None
    return timestamps.iso_utc(content.publish_at)


def wait_for_publish(
    follow: Callable[[], Published], post_id: str, patience: float, interval: float
) -> Published:
    """Read a new post's status until it is no longer pending, for at most `patience` seconds.

    The post exists already, so a failure to read its status is no failure of the create: the
    post is reported pending, and later plans follow it.
    """
    deadline = time.monotonic() + patience
    while True:
        try:
            published = follow()
        except ProviderError:
            return unpublished(post_id, "pending")
        if published.status != "pending" or time.monotonic() + interval > deadline:
            return published
        time.sleep(interval)
        interval = min(interval * 2, POLL_CAP)
