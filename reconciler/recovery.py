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

from reconciler.errors import ProviderError
from reconciler.providers.base import Capabilities, PinContent, Provider, RemotePin
from reconciler.state import Record, State

# Clocks of this machine and the provider's may disagree a little.
CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class Finding:
    """What is known of one interrupted create."""

    outcome: str  # "found" | "absent" | "replay" | "unknown"
    pin: RemotePin | None = None
    detail: str = ""


def interrupted(record: Record) -> bool:
    """A create was sent (or about to be) and its result never recorded."""
    return record.intent is not None and record.intent.get("operation") == "create"


def started_at(record: Record) -> datetime:
    assert record.intent is not None
    return datetime.fromisoformat(record.intent["started_at"].replace("Z", "+00:00"))


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
    """Ask the providers about every interrupted create in the state."""
    findings: dict[str, Finding] = {}
    for key, record in state.pins.items():
        if not interrupted(record):
            continue
        started = started_at(record)
        window = capabilities(record.provider).idempotency_window
        if window and now - started < timedelta(seconds=window):
            findings[key] = Finding("replay", detail="replayed with its idempotency key")
            continue
        try:
            matches = provider(record.account).find(sent_content(record), started - CLOCK_SKEW)
        except ProviderError as exc:
            findings[key] = Finding("unknown", detail=f"could not look for it: {exc}")
            continue
        if len(matches) == 1:
            findings[key] = Finding("found", matches[0], f"found as pin {matches[0].pin_id}")
        elif not matches:
            findings[key] = Finding("absent", detail="not on the board: it was never created")
        else:
            ids = ", ".join(pin.pin_id for pin in matches)
            findings[key] = Finding("unknown", detail=f"several pins match it: {ids}")
    return findings
