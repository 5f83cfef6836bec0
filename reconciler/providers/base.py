"""The provider interface: a small Protocol over plain dataclasses, and what providers can do."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol, runtime_checkable
from urllib.parse import quote

from reconciler import repofiles
from reconciler.errors import ProviderRejected
from reconciler.media import PINTEREST_LIMITS, MediaLimits

if TYPE_CHECKING:  # a plan imports no HTTP stack
    from reconciler.providers.http import Retry


@dataclass(frozen=True)
class TextLimits:
    title: int = 100
    description: int = 800
    alt_text: int = 500
    link: int = 2048


# The manifest's optional published fields. A provider without a field for one of them cannot
# publish it: a warning where the pin is the same without it, an error where it is not.
OPTIONAL_FIELDS = (
    "title",
    "description",
    "link",
    "alt_text",
    "dominant_color",
    "section",
    "cover",
    "cover_frame",
)
# Per field: how bad losing it is, what the pin is then, and the way out.
LOST_FIELDS = {
    "alt_text": ("warning", "the pin is published without alt text", "remove alt_text:"),
    "dominant_color": ("warning", "the pin is published without it", "remove dominant_color:"),
    "section": (
        "error",
        "the pin would land on the board itself, outside any section",
        "remove section: to pin to the board itself, or use an account that publishes sections",
    ),
    "cover": (
        "error",
        "Pinterest would take the video's first frame as its cover instead",
        "remove cover: and start the video with the frame it should show",
    ),
    "cover_frame": (
        "error",
        "Pinterest would take the video's first frame as its cover instead",
        "remove cover_frame: and start the video with the frame it should show",
    ),
}


@dataclass(frozen=True)
class Capabilities:
    """What a provider can do; the plan is decided from this, so that apply holds no surprises.

    `sources` cites, for each limit, format, field and flow that differs from Pinterest's own,
    the sentence of the service's page or API document it comes from (keys: see
    providers.table.ROWS); where they disagree the stricter is kept and the source names both.
    """

    updatable: frozenset[str]
    can_delete: bool
    # Who sets these limits, in messages.
    name: str = "Pinterest"
    # The manifest's optional fields it publishes (see OPTIONAL_FIELDS).
    fields: frozenset[str] = frozenset(OPTIONAL_FIELDS)
    # Seconds a create's idempotency key is honoured (0: the provider has none).
    idempotency_window: float = 0.0
    # Lists what was published (`find`), so a create whose outcome is unknown can be looked for.
    findable: bool = True
    # Takes `publish_at` and publishes then by itself, so the pin need not wait for a later run.
    schedules: bool = False
    # How far ahead (seconds) it takes a schedule; None: any time. Later pins wait until in reach.
    schedule_horizon: float | None = None
    # How far ahead (seconds) a schedule must be at least; nearer pins wait for a later run.
    schedule_lead: float = 0.0
    text_limits: TextLimits = field(default_factory=TextLimits)
    media_limits: MediaLimits = PINTEREST_LIMITS
    # The kinds of media ("image", "video") it takes by URL, not only as uploaded files.
    url_media: frozenset[str] = frozenset({"image", "video"})
    # The largest file it takes as an upload (a repository file without media_base_url).
    max_upload_bytes: int | None = None
    # A board written as a value matching this is its id, not a name to look up.
    board_ids: str = r"\d+"
    # Publishes one pin to several boards in one call (the provider is then `Batches`).
    boards_in_one_call: bool = False
    # Refuses links through URL shorteners (advice only warns of them).
    refuses_shorteners: bool = False
    sources: Mapping[str, str] = field(default_factory=dict)

    def source(self, about: str) -> str:
        """` (where it comes from)` for a message about the limit `about`, or nothing."""
        cited = self.sources.get(about)
        return f" ({self.name}: {cited})" if cited else ""


@dataclass(frozen=True)
class Connection:
    """How an adapter reaches its service: retries, timeouts, and how patiently it follows a
    post being published (None: the provider's own). Tests pass quick ones to open_provider."""

    retry: Retry | None = None
    timeout: float = 30.0
    connect_timeout: float = 10.0
    poll_interval: float | None = None
    publish_wait: float | None = None
    # The repository's folder, under which a local provider (the sandbox) keeps its accounts.
    folder: Path | None = None


OWN_CONNECTION = Connection()  # every provider's own settings


def url_under(base: str, file: str) -> str:
    """A repository file's address under a base URL (media_base_url, or the pull request's files
    at its head commit): the file's repository path quoted, so a name with a space or a '#' is
    fetched as itself."""
    return base + quote(file)


@dataclass(frozen=True, slots=True)
class Media:
    """An image or video: a repository file (path and hash), or an https URL."""

    kind: str
    path: Path | None = None
    url: str | None = None
    content_type: str | None = None
    sha256: str | None = None
    # The repository `path` lies in; uploads open the file from it (by default its own folder).
    root: Path | None = None
    # The file's path in the repository, as plans show it and the state records it.
    file: str | None = None
    # Where the repository file is served (url_under media_base_url); None when it is not.
    served: str | None = None

    @property
    def public_url(self) -> str | None:
        """Where a service or a reviewer can fetch it: its own https URL, or the repository file
        under media_base_url; None when the file must be uploaded instead."""
        return self.url or self.served

    def to_json(self) -> dict[str, str | None]:
        """As plans show it and the state records it: a file by its path and hash, so that a
        moved file compares by its bytes."""
        return {"url": self.url} if self.url else {"file": self.file, "sha256": self.sha256}

    def open(self) -> BinaryIO:
        """The repository file, opened as the plan inspected it: inside the repository and through
        no symlink (one swapped in since is refused)."""
        assert self.path is not None
        try:
            return repofiles.open_file(self.root, self.path)
        except repofiles.Unreadable as exc:
            raise ProviderRejected(f"{self.path.name}: {exc.message}", hint=exc.hint) from None

    def read(self) -> bytes:
        """The file's bytes, refused unless they are the ones the plan hashed."""
        assert self.path is not None
        with self.open() as file:
            data = file.read()
        if self.sha256 and hashlib.sha256(data).hexdigest() != self.sha256:
            raise ProviderRejected(
                f"{self.path.name} changed after the plan was made", hint="plan again"
            )
        return data


@dataclass(frozen=True)
class PinContent:
    """Everything a provider needs to publish one pin on one board."""

    board_id: str
    title: str | None = None
    description: str | None = None
    link: str | None = None
    alt_text: str | None = None
    dominant_color: str | None = None
    section_id: str | None = None
    media: Media | None = None
    cover: Media | None = None
    cover_frame: float | None = None
    publish_at: datetime | None = None


def cover_second(cover_frame: float | None) -> int:
    """The second whose frame is a video's cover, as every provider sends it: whole seconds,
    the first frame when `cover_frame` is not set."""
    return round(cover_frame or 0)


@dataclass(frozen=True)
class Board:
    id: str
    name: str
    sections: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Published:
    """The outcome of a create or update. Posting services may know the pin id only later.

    status: "published"; "scheduled" (the provider publishes it at publish_at); "pending" (the
    service is still publishing it); "failed" (the service gave up, saying why in `reason`).
    """

    pin_id: str | None
    post_id: str | None = None
    url: str | None = None
    status: str = "published"
    published_at: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RemotePin:
    """A pin as the provider reports it."""

    pin_id: str
    board_id: str | None
    title: str | None = None
    description: str | None = None
    link: str | None = None
    alt_text: str | None = None
    section_id: str | None = None
    url: str | None = None
    created_at: str | None = None


class Provider(Protocol):
    capabilities: Capabilities

    def boards(self) -> list[Board]: ...

    def create(self, content: PinContent, idempotency_key: str) -> Published: ...

    def update(self, pin_id: str, content: PinContent, changed: frozenset[str]) -> Published: ...

    def delete(self, pin_id: str) -> None: ...

    def get(self, pin_id: str) -> RemotePin | None: ...

    def find(self, contents: Sequence[PinContent], since: datetime) -> list[list[RemotePin]]:
        """For each of `contents`, the pins that match it as sent and were created since `since`:
        creates recorded at one moment, looked up together, each listing read once for all."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Batches(Protocol):
    """A provider that publishes one pin to several boards in one call: `contents` differ only in
    their board; one Published is answered per content, in order."""

    def create_many(self, contents: list[PinContent], idempotency_key: str) -> list[Published]: ...


@runtime_checkable
class Follows(Protocol):
    """A provider whose posts are published after its create call answers (asynchronous)."""

    def follow(self, post_id: str) -> Published: ...
