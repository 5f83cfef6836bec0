"""How fast one account's writes may go: quota windows (at most `count` per `period`, bursts
allowed) and a minimum spacing between writes. Used by the HTTP client, one pacer per account.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Sequence

from reconciler.config import Pace


class Pacer:
    def __init__(self, windows: Sequence[Pace] = (), spacing: float = 0.0) -> None:
        self.windows = tuple(windows)
        self.spacing = spacing
        self._sent: collections.deque[float] = collections.deque()

    def window_wait(self) -> float:
        """Seconds until every quota window has room for one more write."""
        now = time.monotonic()
        longest = max((window.seconds for window in self.windows), default=0.0)
        while len(self._sent) > 1 and self._sent[0] <= now - longest:
            self._sent.popleft()
        wait = 0.0
        sent = self._sent
        for window in self.windows:
            # Writes are counted in the order they were sent, so the window is full when the
            # `count`th latest write is still inside it.
            if len(sent) >= window.count and sent[-window.count] > now - window.seconds:
                wait = max(wait, sent[-window.count] + window.seconds - now)
        return wait

    def spacing_wait(self) -> float:
        """Seconds until the last write is `spacing` behind us."""
        if not self._sent:
            return 0.0
        return max(0.0, self._sent[-1] + self.spacing - time.monotonic())

    def sent(self) -> None:
        """Count a write, as of its answer: the service saw it no later than that."""
        self._sent.append(time.monotonic())
