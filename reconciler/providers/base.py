"""The provider interface: a small Protocol over plain dataclasses, and what providers can do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from reconciler.media import PINTEREST_LIMITS, MediaLimits


@dataclass(frozen=True)
class TextLimits:
    title: int = 100
    description: int = 800
    alt_text: int = 500
    link: int = 2048


@dataclass(frozen=True)
class Capabilities:
    """What a provider can do; the plan is decided from this, so that apply holds no surprises."""

    updatable: frozenset[str]
    can_delete: bool
    # Seconds a create's idempotency key is honoured (0: the provider has none).
    idempotency_window: float = 0.0
    # Takes `publish_at` and publishes then by itself, so the pin need not wait for a later run.
    schedules: bool = False
    # How far ahead (seconds) it takes a schedule; None: any time. Later pins wait until in reach.
    schedule_horizon: float | None = None
    # Answers a create before the pin exists; the post is followed up with `Follows.follow`.
    asynchronous: bool = False
    text_limits: TextLimits = field(default_factory=TextLimits)
    media_limits: MediaLimits = PINTEREST_LIMITS
    # Takes a video's cover as a frame of it (`cover_frame`), not only as an image (`cover`).
    cover_frame: bool = True
    # Takes a video by URL, not only as an uploaded file.
    video_urls: bool = True


@dataclass(frozen=True)
class Media:
    """An image or video: a repository file (path and hash), or an https URL."""

    kind: str
    path: Path | None = None
    url: str | None = None
    content_type: str | None = None
    sha256: str | None = None


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

    def find(self, content: PinContent, since: datetime) -> list[RemotePin]: ...

    def close(self) -> None: ...


@runtime_checkable
class Follows(Protocol):
    """A provider whose posts are published after its create call answers (asynchronous)."""

    def follow(self, post_id: str) -> Published: ...
