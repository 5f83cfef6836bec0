"""The desired targets: one pin on one board as it should be published, and all of them as a load
of the manifests gives them (desired.load)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from reconciler.errors import Location, Problem
from reconciler.pinfields import PinFields


@dataclass(frozen=True, slots=True)
class Target:
    """One pin on one board, as it should be published."""

    key: str
    pin: str
    location: Location
    fields: PinFields
    publish_at: datetime | None
    content_hash: str
    # The board's id when the manifest writes the board as one (by the provider's rule).
    board_id: str | None = None
    # Where the board was named (a `_defaults.yaml` line, say), for errors about the name.
    board_location: Location | None = None

    @property
    def account(self) -> str:
        return self.fields.account

    @property
    def board(self) -> str:
        return self.fields.board

    @property
    def protect(self) -> bool:
        return bool(self.fields.protect)


@dataclass(frozen=True)
class Desired:
    targets: dict[str, Target]
    warnings: list[Problem]
    # Pins marked `state: absent`: their published pins are deleted on purpose.
    absent: dict[str, Location] = field(default_factory=dict)

    def texts(self) -> dict[str, str]:
        """The texts of the targets that their state records repeat, each by itself: a state read
        with them holds no second copy of an unchanged pin's text (statefile.StateFile.read)."""
        held: dict[str, str] = {}
        for target in self.targets.values():
            fields = target.fields
            for value in (target.content_hash, fields.title, fields.description, fields.link):
                if value is not None:
                    held[value] = value
            if fields.alt_text is not None:
                held[fields.alt_text] = fields.alt_text
        return held


def target_key(pin: str, board: str, several: bool) -> str:
    """State key of a target: the pin id, with the board when the pin is saved to several."""
    return f"{pin}@{board}" if several else pin
