"""What a create or an update sends: a target's content, and a fresh idempotency key."""

from __future__ import annotations

import uuid

from reconciler.changes import Change
from reconciler.providers.base import PinContent


def idempotency_key() -> str:
    """A fresh key for one create. It is kept in the create's intent, so a replay after an
    interruption sends the same key; a later create of the same content gets a new one, so a
    service never answers it with an old (perhaps deleted) post."""
    return uuid.uuid4().hex


def content(change: Change) -> PinContent:
    """What a change publishes, to the ids the plan resolved (boards.resolve)."""
    target = change.target
    assert target is not None and change.board_id is not None
    fields = target.fields
    return PinContent(
        board_id=change.board_id,
        section_id=change.section_id,
        title=fields.title,
        description=fields.description,
        link=fields.link,
        alt_text=fields.alt_text,
        dominant_color=fields.dominant_color,
        media=fields.medium,
        cover=fields.cover,
        cover_frame=fields.cover_frame,
        publish_at=target.publish_at,
    )
