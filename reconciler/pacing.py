"""Pace: creates beyond an account's `pace` wait for their slot on the account's timeline."""

from __future__ import annotations

import bisect
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from reconciler.config import Account
from reconciler.state import State
from reconciler.timestamps import iso_utc, parse

if TYPE_CHECKING:
    from reconciler.changes import Change


def hold(
    changes: list[Change], state: State, accounts: dict[str, Account], now: datetime
) -> list[Change]:
    """Hold back creates beyond an account's pace; each waits for its slot on the timeline."""
    paced = {name for name, account in accounts.items() if account.pace}
    if not paced:
        return changes
    published: dict[str, list[datetime]] = {name: [] for name in paced}
    for record in state.pins.values():
        if record.published_at and record.account in paced:
            moment = parse(record.published_at)
            published[record.account].append(moment)
    for times in published.values():
        times.sort()
    result: list[Change] = []
    for change in changes:
        target = change.target
        pace = accounts[target.account].pace if target and change.action == "create" else None
        if pace is None or target is None:
            result.append(change)
            continue
        window = timedelta(seconds=pace.seconds)
        # Slots only move forward, so the timeline stays sorted as it grows.
        times = published[target.account]
        recent = len(times) - bisect.bisect_right(times, now - window)
        slot = now if recent < pace.count else max(now, times[-pace.count] + window)
        times.append(slot)
        if slot <= now:
            result.append(change)
        else:
            reason = f"paced at {pace}: due about {iso_utc(slot)}"
            result.append(
                replace(
                    change, action="wait", changed=(), reason=reason, remote_id=None, due_at=slot
                )
            )
    return result
