"""Intents written ahead: a create whose answer, if lost, can be settled (looked for on the board,
or replayed with its key) takes the intents of its account's next creates to the disk with its
own, under one sync. After a crash the next run looks each of those pins
up, as any interrupted create, and finds the unsent ones absent; a run that ends before sending
them withdraws their intents."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.changes import Change
    from reconciler.state import Record, State
    from reconciler.statefile import StateFile

# How many creates' intents go to the disk together, the one about to be sent included.
INTENTS_AHEAD = 32


class Ahead:
    """A run's settleable one-call creates, by account in the order they are made, and the
    intents on the disk of those not sent yet. `pending`: the record of a create about to be
    sent, its intent in it."""

    def __init__(
        self,
        store: StateFile,
        state: State,
        pending: Callable[[Change], Record],
        creates: Iterable[Change] = (),
    ) -> None:
        self._store, self._state, self._pending = store, state, pending
        self._queues: dict[str, list[Change]] = {}
        self._places: dict[str, int] = {}  # where each create is in its account's queue
        self._written: dict[str, tuple[Change, Record]] = {}
        for change in creates:
            queue = self._queues.setdefault(change.account, [])
            self._places[change.key] = len(queue)
            queue.append(change)

    def intent(self, change: Change) -> Record:
        """Record a create's intent, on the disk when this returns: written ahead, or now with
        those of the creates that follow it, under one sync."""
        written = self._written.pop(change.key, None)
        if written is not None:
            return written[1]
        group = [change]
        if (place := self._places.get(change.key)) is not None:
            later = self._queues[change.account][place + 1 : place + INTENTS_AHEAD]
            group += [c for c in later if c.key not in self._written]
        records = [(c.key, self._pending(c)) for c in group]
        self._store.put_all(self._state, records)
        for ahead, (_, record) in zip(group[1:], records[1:], strict=True):
            self._written[ahead.key] = (ahead, record)
        return records[0][1]

    def unsent(self) -> list[Change]:
        """The creates whose intents were written and whose calls were never sent (forgotten
        here)."""
        left = [change for change, _ in self._written.values()]
        self._written.clear()
        return left
