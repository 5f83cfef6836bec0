"""Settling what an interrupted apply left: creates whose intent was recorded but not their result.

Such a pin may or may not exist. It is never posted again blindly: a provider with an idempotency
key replays the create within the key's lifetime; otherwise the board is searched for the pin by
what was sent (title, link, board) since the intent started. One match is adopted, none means the
create never happened, and anything else is left for a person (`pinops state resolve`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from reconciler.errors import ProviderError
from reconciler.providers.base import Capabilities, Follows, PinContent, Provider, RemotePin
from reconciler.state import Record, State
from reconciler.timestamps import parse, utcnow

if TYPE_CHECKING:
    from reconciler.targets import Target

# Clocks of this machine and the provider's may disagree a little.
CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class Finding:
    """What is known of one interrupted create, or of a post a service is still publishing."""

    outcome: str  # "found" | "absent" | "replay" | "unknown" | "pending" | "failed"
    pin_id: str | None = None
    detail: str = ""


def interrupted(record: Record) -> bool:
    """A create was sent (or about to be) and its result never recorded."""
    return record.intent is not None and record.intent.get("operation") == "create"


def create_intent(target: Target, key: str, previous: Record | None = None) -> dict[str, object]:
    """What a create records before it is sent, so that an interrupted run can settle it: the
    key it sends, and the record it would replace (restored if it never happened)."""
    sent: dict[str, object] = {
        "operation": "create",
        "started_at": utcnow(),
        "content_hash": target.content_hash,
        "idempotency_key": key,
    }
    if previous is not None:
        sent["previous"] = previous.to_json()
    return sent


def previous_of(pending: Record) -> Record | None:
    """The record an interrupted create would have replaced, kept in its intent."""
    assert pending.intent is not None
    previous = pending.intent.get("previous")
    return Record.from_json(previous) if previous else None


def replayed_key(record: Record | None, target: Target | None) -> str | None:
    """The key of an interrupted create of the same content: sent again, so that the service
    answers with the post it may have made."""
    if record is None or record.intent is None or target is None or not interrupted(record):
        return None
    if record.content_hash != target.content_hash:
        return None
    key = record.intent.get("idempotency_key")
    return str(key) if key else None


def awaited(record: Record, now: datetime) -> bool:
    """A post the service took but has not (yet) reported published: still being published, or
    scheduled with the service and due by now."""
    if interrupted(record) or not record.post_id:
        return False
    if record.status == "pending":
        return True
    if record.status != "scheduled" or not record.scheduled_at:
        return False
    return parse(record.scheduled_at) <= now


def started_at(record: Record) -> datetime:
    assert record.intent is not None
    return parse(record.intent["started_at"])


def sent_content(record: Record) -> PinContent:
    """The identifying part of what the interrupted create sent, from the pending record."""
    fields = record.fields
    return PinContent(
        board_id=record.board_id or "",
        title=fields.get("title"),
        description=fields.get("description"),
        link=fields.get("link"),
        alt_text=fields.get("alt_text"),
    )


def investigate(
    state: State,
    provider: Callable[[str], Provider],
    capabilities: Callable[[str], Capabilities],
    now: datetime,
) -> dict[str, Finding]:
    """Ask the providers about every interrupted create in the state. Creates an account recorded
    at the same moment (those a run wrote ahead together, say) are looked for together, so that
    a board is listed once for all of them, not once each."""
    findings: dict[str, Finding] = {}
    sought: dict[tuple[str, datetime], list[tuple[str, Record]]] = {}
    for key, record in state.pins.items():
        if awaited(record, now):
            assert record.post_id is not None
            findings[key] = _follow(provider(record.account), record.post_id)
            continue
        if not interrupted(record):
            continue
        started = started_at(record)
        window = capabilities(record.provider).idempotency_window
        if window and now - started < timedelta(seconds=window):
            findings[key] = Finding("replay", detail="replayed with its idempotency key")
            continue
        sought.setdefault((record.account, started), []).append((key, record))
    for (account, started), records in sought.items():
        findings |= _look_for(provider(account), records, started - CLOCK_SKEW)
    return findings


def _look_for(
    provider: Provider, records: list[tuple[str, Record]], since: datetime
) -> dict[str, Finding]:
    """What became of these creates: each found once, found nowhere, or unknown. A lookup that
    fails leaves every one of them unknown, to be looked for again by the next plan."""
    try:
        found = provider.find([sent_content(record) for _, record in records], since)
    except ProviderError as exc:
        unknown = Finding("unknown", detail=f"could not look for it: {exc}")
        return dict.fromkeys((key for key, _ in records), unknown)
    return {key: _matched(matches) for (key, _), matches in zip(records, found, strict=True)}


def _matched(matches: list[RemotePin]) -> Finding:
    if len(matches) == 1:
        return Finding("found", matches[0].pin_id, f"found as pin {matches[0].pin_id}")
    if not matches:
        return Finding("absent", detail="not on the board: it was never created")
    ids = ", ".join(pin.pin_id for pin in matches)
    return Finding("unknown", detail=f"several pins match it: {ids}")


def _follow(provider: Provider, post_id: str) -> Finding:
    """Where a post the service answered for before publishing it has got to."""
    if not isinstance(provider, Follows):
        return Finding("unknown", detail=f"the provider cannot report on post {post_id}")
    try:
        published = provider.follow(post_id)
    except ProviderError as exc:
        return Finding("pending", detail=f"post {post_id}: could not ask the service: {exc}")
    if published.status == "failed":
        return Finding("failed", detail=f"the service failed to publish it: {published.reason}")
    if published.status == "published" and published.pin_id:
        return Finding("found", published.pin_id, f"published as pin {published.pin_id}")
    return Finding("pending", detail=f"the service is still publishing it (post {post_id})")
