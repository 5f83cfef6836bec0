"""Cancellation as CI runners do it: SIGINT, a few seconds later SIGTERM, then SIGKILL.

Until an apply starts making changes, a signal stops pinops at once, as usual. Once it has started,
the first signal asks it to stop after the provider calls in flight: they are finished and
recorded, nothing more is sent, and the state is written and pushed. A second signal abandons the
calls in flight: their intents stay recorded, so the next run settles them (replayed with their
key, or looked for on the board) instead of sending them again. Only a provider call is ever
abandoned; the writing of state and journal is not. Signals reach the main thread alone, and the
calls are made by workers (workers.py): the handler only counts, and the main thread acts.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)

CANCELLED = "not attempted: the run was cancelled"
ABANDONED = (
    "cancelled while the provider call was in flight: its intent is recorded, and the next run "
    "settles it (replayed with its key, or looked for) instead of sending it again"
)


class Cancelled(BaseException):
    """Raised in a worker whose provider call was abandoned on a second signal, when it would
    write (a BaseException, like KeyboardInterrupt, so that no handler of provider errors takes it
    for a failed call)."""


class Cancellation:
    def __init__(self) -> None:
        self.signals = 0
        self._armed = False
        self._calls: set[int] = set()  # the threads in a provider call

    def arm(self) -> None:
        """Changes are being made from now on: a signal ends the run in order, not at once."""
        self._armed = True

    @property
    def requested(self) -> bool:
        return self.signals > 0

    @property
    def abandoned(self) -> bool:
        """A second signal: the calls in flight are given up."""
        return self.signals > 1

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Catch SIGINT and SIGTERM while the block runs (in the main thread)."""
        previous = {number: signal.signal(number, self._handle) for number in SIGNALS}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    @contextmanager
    def call(self) -> Iterator[None]:
        """A provider call: what a second signal abandons."""
        thread = threading.get_ident()
        self._calls.add(thread)
        try:
            yield
        finally:
            self._calls.discard(thread)

    def in_call(self, thread: threading.Thread) -> bool:
        return thread.ident in self._calls

    def pause(self, seconds: float) -> bool:
        """Wait (for a rate limit) unless cancelled meanwhile; False when cancelled."""
        deadline = time.monotonic() + seconds
        while not self.requested and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))
        return not self.requested

    def _handle(self, _number: int, _frame: FrameType | None) -> None:
        # Only counts: a lock taken here could be held by the very code this interrupts.
        if not self._armed:
            raise KeyboardInterrupt
        self.signals += 1
