"""The plan: a pure diff of desired targets against state, and the safety checks over it."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.config import Policy
from reconciler.desired import FIELD_ORDER, LOCAL_FIELDS, Target, comparable
from reconciler.providers.base import Capabilities
from reconciler.state import Record, State

FORMAT_VERSION = 1

# Actions that change something now, in the order apply performs them.
CHANGE_ACTIONS = ("create", "update", "replace", "delete")
# Shown, but not changes: waiting for publish_at, needing a human, removed but kept, unchanged.
OTHER_ACTIONS = ("wait", "unresolved", "kept", "noop")
SYMBOLS = {
    "create": "+",
    "update": "~",
    "replace": "-/+",
    "delete": "-",
    "wait": "⏲",
    "unresolved": "?",
    "kept": "=",
    "noop": " ",
}


@dataclass(frozen=True)
class Change:
    action: str
    key: str
    target: Target | None = None
    record: Record | None = None
    changed: tuple[str, ...] = ()
    reason: str = ""
    remote_id: str | None = None

    @property
    def location(self) -> tuple[str | None, int | None]:
        if self.target is None:
            return None, None
        return self.target.location.file, self.target.location.line

    def to_json(self) -> dict[str, Any]:
        file, line = self.location
        return {
            "action": self.action,
            "key": self.key,
            "file": file,
            "line": line,
            "before": self.record.fields if self.record else None,
            "after": self.target.fields if self.target else None,
            "changed": list(self.changed),
            "reason": self.reason,
            "remote_id": self.remote_id,
            "publish_at": _iso(self.target.publish_at) if self.target else None,
        }


@dataclass(frozen=True)
class Plan:
    lineage: str
    serial: int
    changes: tuple[Change, ...]
    blocked: tuple[str, ...] = ()
    checksum: str = field(default="", compare=False)

    @property
    def counts(self) -> Counter[str]:
        return Counter(change.action for change in self.changes)

    @property
    def has_changes(self) -> bool:
        return any(change.action in CHANGE_ACTIONS for change in self.changes)

    def to_json(self) -> dict[str, Any]:
        counts = self.counts
        return {
            "format_version": FORMAT_VERSION,
            "checksum": self.checksum,
            "state": {"lineage": self.lineage, "serial": self.serial},
            "summary": {
                action: counts.get(action, 0) for action in (*CHANGE_ACTIONS, *OTHER_ACTIONS)
            },
            "blocked": list(self.blocked),
            "changes": [change.to_json() for change in self.changes if change.action != "noop"],
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _checksum(lineage: str, serial: int, changes: tuple[Change, ...]) -> str:
    body = {"lineage": lineage, "serial": serial, "changes": [c.to_json() for c in changes]}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def make(
    targets: dict[str, Target],
    state: State,
    capabilities: Callable[[str], Capabilities],
    provider_of: Callable[[str], str],
    policy: Policy,
    now: datetime,
    allow_destroy: bool = False,
) -> Plan:
    """Decide, for every target and every record, what apply must do."""
    changes: list[Change] = []
    for key in sorted(targets.keys() | state.pins.keys()):
        target, record = targets.get(key), state.pins.get(key)
        if target is None:
            assert record is not None
            changes.append(_removed(key, record, policy.prune))
        elif record is None:
            due = target.publish_at is None or target.publish_at <= now
            if due:
                changes.append(Change("create", key, target))
            else:
                changes.append(
                    Change("wait", key, target, reason=f"publish_at {_iso(target.publish_at)}")
                )
        else:
            changes.append(_compare(key, target, record, capabilities(provider_of(target.account))))
        if record is not None and record.replaced and record.intent is None:
            changes.append(
                Change(
                    "delete",
                    key,
                    record=record,
                    remote_id=record.replaced,
                    reason="replaced earlier",
                )
            )
    result = tuple(changes)
    blocked = _safety(result, state, policy) if not allow_destroy else ()
    return Plan(
        state.lineage, state.serial, result, blocked, _checksum(state.lineage, state.serial, result)
    )


def _removed(key: str, record: Record, prune: bool) -> Change:
    if record.intent is not None and record.pin_id is None:
        return _unresolved(key, record, None)
    if not prune:
        return Change("kept", key, record=record, reason="no longer declared; kept (prune is off)")
    return Change(
        "delete", key, record=record, remote_id=record.pin_id, reason="no longer declared"
    )


def _unresolved(key: str, record: Record, target: Target | None) -> Change:
    started = record.intent.get("started_at", "?") if record.intent else "?"
    return Change(
        "unresolved",
        key,
        target,
        record,
        reason=(
            f"an apply was interrupted while creating this pin (started {started}); "
            "it may or may not have been published"
        ),
    )


def _compare(key: str, target: Target, record: Record, caps: Capabilities) -> Change:
    if record.intent is not None and record.pin_id is None:
        return _unresolved(key, record, target)
    new, old = comparable(target.fields), comparable(record.fields)
    changed = tuple(
        name
        for name in FIELD_ORDER
        if (
            name in LOCAL_FIELDS
            and target.fields.get(name, False) != record.fields.get(name, False)
        )
        or (name not in LOCAL_FIELDS and new.get(name) != old.get(name))
    )
    if not changed:
        return Change("noop", key, target, record)
    if target.account != record.account:
        return Change("replace", key, target, record, changed, "the account changed", record.pin_id)
    fixed = [name for name in changed if name not in caps.updatable and name not in LOCAL_FIELDS]
    if not fixed:
        return Change("update", key, target, record, changed, remote_id=record.pin_id)
    reason = f"{', '.join(fixed)} cannot be changed on a published pin"
    return Change("replace", key, target, record, changed, reason, record.pin_id)


def _safety(changes: tuple[Change, ...], state: State, policy: Policy) -> tuple[str, ...]:
    managed = len(state.pins)
    counts = Counter(change.action for change in changes)
    reasons: list[str] = []
    deletes = sum(1 for c in changes if c.action == "delete" and c.reason != "replaced earlier")
    if deletes and deletes >= managed:
        reasons.append(f"the plan deletes every managed pin ({deletes})")
    elif not policy.max_deletes.allows(deletes, managed):
        reasons.append(
            f"{deletes} deletes exceed max_deletes ({policy.max_deletes} of {managed} pins)"
        )
    if not policy.max_replaces.allows(counts["replace"], managed):
        reasons.append(
            f"{counts['replace']} replaces exceed max_replaces "
            f"({policy.max_replaces} of {managed} pins)"
        )
    for change in changes:
        protected = change.record is not None and change.record.protect
        destroys = change.action == "replace" or (
            change.action == "delete" and change.reason != "replaced earlier"
        )
        if protected and destroys:
            reasons.append(f"'{change.key}' is protected and would be {change.action}d")
    return tuple(reasons)
