"""What a create or an update sends: a target's content, and a fresh idempotency key."""

from __future__ import annotations

import uuid

from reconciler import boards
from reconciler.desired import Target
from reconciler.providers.base import PinContent
from reconciler.state import State


def idempotency_key() -> str:
    """A fresh key for one create. It is kept in the create's intent, so a replay after an
    interruption sends the same key; a later create of the same content gets a new one, so a
    service never answers it with an old (perhaps deleted) post."""
    return uuid.uuid4().hex


def content(target: Target, state: State) -> PinContent:
    fields = target.fields
    section = fields.section
    return PinContent(
        board_id=boards.board_id(state, target),
        section_id=boards.lookup(state, target.account, f"{target.board}/{section}")
        if section
        else None,
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
