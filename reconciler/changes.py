"""The plan's records: the changes it makes and shows, and the plan that holds them (plan.py
makes it; planjson.py writes it as JSON)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from reconciler.drift import Drift
from reconciler.settings import Setting
from reconciler.state import Record
from reconciler.targets import Target

# Actions that change something now, in the order apply performs them.
CHANGE_ACTIONS = ("adopt", "create", "update", "replace", "delete")
# Shown, but not changes: waiting for publish_at, needing a human, removed but kept, unchanged.
OTHER_ACTIONS = ("wait", "unresolved", "kept", "noop")
SYMBOLS = {
    "adopt": "=",
    "create": "+",
    "update": "~",
    "replace": "-/+",
    "delete": "-",
    "wait": "⏲",
    "unresolved": "?",
    "kept": "·",
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
    # What a reviewer must notice beyond the fields (caution.py).
    warnings: tuple[str, ...] = ()
    # The ids of the board and section it publishes to (boards.py); None: named only, so far.
    board_id: str | None = None
    section_id: str | None = None
    # When a wait paced behind its account's earlier creates gets its slot (pacing.py).
    due_at: datetime | None = None

    @property
    def makes(self) -> bool:
        """Whether apply acts on it: not a wait, an undecided create, or a pin kept as it is."""
        return self.action in CHANGE_ACTIONS

    @property
    def publishes(self) -> bool:
        return self.target is not None and self.makes

    @property
    def account(self) -> str:
        """The account the change publishes through (or deletes from)."""
        if self.target is not None:
            return self.target.account
        return self.record.account if self.record is not None else ""

    @property
    def remote_url(self) -> str | None:
        """The published pin's address, when the change acts on one."""
        if self.record is None or self.remote_id is None:
            return None
        return self.record.url if self.remote_id == self.record.pin_id else None

    @property
    def location(self) -> tuple[str | None, int | None]:
        if self.target is None:
            return None, None
        return self.target.location.file, self.target.location.line


@dataclass(frozen=True)
class Plan:
    lineage: str
    serial: int
    changes: tuple[Change, ...]
    blocked: tuple[str, ...] = ()
    drift: tuple[Drift, ...] = ()
    checksum: str = field(default="", compare=False)
    # Changes of pinops.yaml against the base's, and what the reviewer must know about the pull
    # request as a whole (e.g. that it changes the state file).
    settings: tuple[Setting, ...] = ()
    notices: tuple[str, ...] = ()
    # Whether pinops.yaml has several accounts: then every change names its own.
    several_accounts: bool = False
    # Board maps fetched from providers for this plan's names (boards.resolve): apply records them.
    boards: dict[str, dict[str, str]] = field(default_factory=dict)
    # Accounts whose boards could not be read then, with why: their changes without ids fail.
    unread: dict[str, str] = field(default_factory=dict)

    @property
    def counts(self) -> Counter[str]:
        return Counter(change.action for change in self.changes)

    @property
    def has_changes(self) -> bool:
        return any(change.action in CHANGE_ACTIONS for change in self.changes)

    @property
    def action_counts(self) -> dict[str, int]:
        """How many changes of each action, every action named."""
        counts = self.counts
        return {action: counts.get(action, 0) for action in (*CHANGE_ACTIONS, *OTHER_ACTIONS)}


REPLACED = "replaced earlier; the new pin is recorded"
