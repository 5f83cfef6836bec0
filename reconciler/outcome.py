"""What applying a change came to, and where it stands in its account's changes (for progress)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reconciler.changes import Change


@dataclass(frozen=True)
class Outcome:
    change: Change
    error: str | None = None
    pin_id: str | None = None
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and not self.skipped


class Stop(Outcome):
    """A failure that would fail every remaining change of the account too."""


@dataclass(frozen=True)
class Step:
    """An outcome's number among its account's changes; `account` is named only when the run
    applies several accounts."""

    number: int
    total: int
    account: str | None = None


Progress = Callable[[Outcome, Step], None]
