"""Times as text: ISO 8601 with a Z for UTC, as state, plans and services write them, and the
shorter form reviews show."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
def iso(moment: datetime | None) -> str | None:
    """`moment` exactly as given (its microseconds too), a UTC offset written Z; None stays None."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def iso_utc(moment: datetime) -> str:
    """`moment` in UTC to the whole second, e.g. 2026-12-01T14:00:00Z."""
    return iso(moment.astimezone(UTC).replace(microsecond=0))


def utcnow() -> str:
    """Now, as iso_utc writes it."""
    return iso_utc(datetime.now(UTC))


def parse(text: str) -> datetime:
    """A time written in ISO 8601, Z or an offset for its zone; ValueError when it is not one."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def shown(moment: datetime) -> str:
    """`moment` to the minute, as reviews show it, e.g. 2026-12-01 14:00 UTC."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")
