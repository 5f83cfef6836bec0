"""Drift: published pins deleted or edited on the provider, outside pinops.

Found by reading every recorded pin back (`pinops refresh`, `plan --refresh`). A deleted pin is
planned for re-creation; edited fields are reported apart from planned changes and restored.
`pinops refresh` also records what it found in the state, as Terraform's refresh does, so that the
next plan and apply restore it without being asked to look again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from reconciler.pinfields import content_hash
from reconciler.providers.base import Provider, RemotePin
from reconciler.state import Record, State

# The status of a record whose pin a refresh found deleted on the provider.
DELETED = "deleted"

# Remote attribute → the field of a state record it publishes.
_COMPARED = ("title", "description", "link", "alt_text")


@dataclass(frozen=True)
class Drift:
    key: str
    deleted: bool = False
    edited: tuple[tuple[str, Any, Any], ...] = ()  # (field, recorded, found on the provider)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for name, _, _ in self.edited)


def _differences(record: Record, remote: RemotePin) -> tuple[tuple[str, Any, Any], ...]:
    found: list[tuple[str, Any, Any]] = []
    for name in _COMPARED:
        recorded, actual = record.fields.get(name), getattr(remote, name)
        # Providers return "" or null for an empty field; both mean "not set".
        if (recorded or None) != (actual or None):
            found.append((name, recorded, actual))
    if record.board_id and remote.board_id and remote.board_id != record.board_id:
        found.append(("board", record.board, remote.board_id))
    if record.section_id != remote.section_id and (record.section_id or remote.section_id):
        found.append(("section", record.fields.get("section"), remote.section_id))
    return tuple(found)


def detect(state: State, provider: Callable[[str], Provider]) -> dict[str, Drift]:
    """Read back every published pin; return the ones that differ from their record."""
    drifted: dict[str, Drift] = {}
    for key, record in sorted(state.pins.items()):
        if record.pin_id is None or record.intent is not None or record.status != "published":
            continue
        remote = provider(record.account).get(record.pin_id)
        if remote is None:
            drifted[key] = Drift(key, deleted=True)
            continue
        edited = _differences(record, remote)
        if edited:
            drifted[key] = Drift(key, edited=edited)
    return drifted


def remembered(key: str, record: Record) -> Drift | None:
    """The drift a refresh recorded in the state: a deleted pin (edits are in its fields)."""
    return Drift(key, deleted=True) if record.status == DELETED else None


def remember(state: State, found: Iterable[Drift]) -> None:
    """Record drift in the state: a deleted pin's record says so, and an edited pin's record holds
    what the provider shows, so that plans compare the manifests with what is really there."""
    for drift in found:
        record = state.pins.get(drift.key)
        if record is None:
            continue
        if drift.deleted:
            state.pins[drift.key] = replace(record, status=DELETED)
            continue
        fields = dict(record.fields)
        board_id, section_id = record.board_id, record.section_id
        for name, _, value in drift.edited:
            if name == "board":
                board_id = value  # as an id: planned as a move back to the declared board
            elif name == "section":
                section_id = value
            if value:
                fields[name] = value
            else:
                fields.pop(name, None)
        state.pins[drift.key] = replace(
            record,
            fields=fields,
            board_id=board_id,
            section_id=section_id,
            content_hash=content_hash(fields),
        )
