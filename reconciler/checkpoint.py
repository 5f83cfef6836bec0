"""Checkpoints: the state pushed to git while an apply runs, so that what it published outlives the
runner it ran on (`apply --commit`).

A CI runner's disk, the journal with it, is gone after a kill, a timeout or a lost machine. So the
remote must always know every create that may have happened. Before the first create, a checkpoint
records each create the run is about to make as an intent (with the idempotency key it will send);
a run started from that checkpoint settles those as any interrupted create: replayed with the key,
or looked for on the board and adopted. Later checkpoints (every `EVERY_CHANGES` changes or
`EVERY_SECONDS` seconds) record the results, so that fewer need looking for. A provider that can
neither replay nor be searched gets a checkpoint before each of its creates: at most the one in
flight is then left for a person to settle.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from reconciler.errors import StateError
from reconciler.providers.base import Capabilities
from reconciler.state import Record, State, dumps
from reconciler.statefile import StateFile

if TYPE_CHECKING:
    from reconciler.changes import Change

EVERY_CHANGES = 25
EVERY_SECONDS = 60.0

# Pushes one state (the file's bytes) to git with a commit message.
Push = Callable[[bytes, str], None]


def recoverable(caps: Capabilities) -> bool:
    """Whether a create whose outcome is lost can be settled: replayed or looked for."""
    return caps.findable or caps.idempotency_window > 0


class Checkpoints:
    """When to push the state, and what: without `push` (no --commit), nothing is pushed."""

    def __init__(self, push: Push | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._push = push
        self._clock = clock
        self._last = clock()
        self._since = 0
        self._ahead: dict[str, Change] = {}  # creates not yet attempted, by key

    def bind(
        self,
        store: StateFile,
        state: State,
        pending: Callable[[Change], Record],
        blind: Callable[[Change], bool],
    ) -> None:
        """The apply's state, how it records a create about to be sent, and which are blind."""
        self._store, self._state, self._pending, self._blind = store, state, pending, blind

    def start(self, creates: list[Change], total: int) -> None:
        """Before the first change: push every create to come (but blind ones) as an intent."""
        self._ahead = {change.key: change for change in creates}
        if any(not self._blind(change) for change in creates):
            self.now(f"apply started: {total} changes to make")

    def attempted(self, changes: Iterable[Change]) -> None:
        for change in changes:
            if self._ahead.get(change.key) is change:
                del self._ahead[change.key]

    def before(self, change: Change) -> None:
        """Just before a create is sent: a blind one's intent must outlive the runner."""
        if self._blind(change):
            self.now(f"creating {change.key}")

    def after(self, what: str) -> None:
        """One more change done: push when enough changes or time have passed."""
        self._since += 1
        if self._since >= EVERY_CHANGES or self._clock() - self._last >= EVERY_SECONDS:
            self.now(what)

    def now(self, what: str, final: bool = False) -> None:
        if self._push is None:
            return
        state = self._state
        if not final:
            # The pushed state gets a serial of its own; the journal keeps it, so that the state
            # file written later (or folded from the journal) is newer than every checkpoint.
            self._store.record(state, {"op": "serial", "serial": state.serial + 1})
        snapshot = state.to_json()
        snapshot["pins"].update(
            {
                key: self._pending(c).to_json()
                for key, c in self._ahead.items()
                if not self._blind(c)
            }
        )
        self._push(dumps(snapshot).encode(), f"pinops: checkpoint: {what}\n")
        self._last, self._since = self._clock(), 0

    def finish(self) -> None:
        """Write the state file at the end; if that fails (a full disk), the state still reaches
        git when checkpoints are on."""
        try:
            self._store.finish(self._state)
        except StateError:
            if self._push is not None:
                self._ahead.clear()
                self._state.serial += 1  # as the state file folded from the journal will be
                self.now("the state file could not be written here", final=True)
            raise
