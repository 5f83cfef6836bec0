"""A target's published fields: one typed record, read alike by plans, reviews, state and providers.

Its JSON form (`to_json`) is what plans show and the state records; a field the manifest leaves out
is None in the record and absent from the JSON.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from reconciler.providers.base import Media

MEDIA_FIELDS = ("image", "video", "cover")
# Published fields, in the order plans show them.
FIELD_ORDER = (
    "account",
    "board",
    "section",
    "title",
    "description",
    "link",
    "alt_text",
    "dominant_color",
    "image",
    "video",
    "cover",
    "cover_frame",
    "protect",
)
# Recorded in state but not published: changing it touches no pin.
LOCAL_FIELDS = frozenset({"protect"})


@dataclass(frozen=True, slots=True)
class PinFields:
    """One pin on one board as it should be published, fields in FIELD_ORDER."""

    account: str
    board: str
    section: str | None = None
    title: str | None = None
    description: str | None = None
    link: str | None = None
    alt_text: str | None = None
    dominant_color: str | None = None
    image: Media | None = None
    video: Media | None = None
    cover: Media | None = None
    cover_frame: float | None = None
    protect: bool | None = None

    @property
    def medium(self) -> Media | None:
        """The image or the video the pin shows."""
        return self.image or self.video

    @property
    def media(self) -> tuple[Media, ...]:
        return tuple(m for m in (self.image, self.video, self.cover) if m is not None)

    def to_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {}
        for name in FIELD_ORDER:
            value = getattr(self, name)
            if value is not None:
                shown[name] = value.to_json() if isinstance(value, Media) else value
        return shown


def comparable(fields: dict[str, Any]) -> dict[str, Any]:
    """Fields as compared and hashed: repository media by their bytes, not their path."""
    return {
        name: value["sha256"] if isinstance(value, dict) and "sha256" in value else value
        for name, value in fields.items()
        if name not in LOCAL_FIELDS
    }


def content_hash(fields: dict[str, Any]) -> str:
    text = CANONICAL.encode(comparable(fields))
    return hashlib.sha256(text.encode()).hexdigest()


# JSON as hashed, one text for equal data (a target's content hash, the plan's checksum); one
# encoder for every call, as json.dumps makes one per call.
CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
