"""The plan as JSON: what `pinops plan --json` prints and `--out` saves, what reviews compare and
previews read, and the checksum a saved plan is applied by."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from reconciler.pinfields import CANONICAL
from reconciler.timestamps import iso, iso_utc

if TYPE_CHECKING:
    from reconciler.changes import Change, Plan

FORMAT_VERSION = 1


def change(made: Change) -> dict[str, Any]:
    """A change as a saved plan holds it."""
    due = iso_utc(made.due_at) if made.due_at is not None else None
    return {**_checksummed(made), "due_at": due}


def _checksummed(made: Change) -> dict[str, Any]:
    # `due_at` stays out of the checksum: the reason holds the same time, and a plan saved before
    # the key was written keeps its checksum.
    file, line = made.location
    return {
        "action": made.action,
        "key": made.key,
        "file": file,
        "line": line,
        "before": made.record.fields if made.record else None,
        "after": made.target.fields.to_json() if made.target else None,
        "changed": list(made.changed),
        "reason": made.reason,
        "remote_id": made.remote_id,
        "remote_url": made.remote_url,
        "account": made.account,
        "warnings": list(made.warnings),
        "publish_at": iso(made.target.publish_at) if made.target else None,
    }


def plan(made: Plan) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "checksum": made.checksum,
        "state": {"lineage": made.lineage, "serial": made.serial},
        "summary": made.action_counts,
        "blocked": list(made.blocked),
        "settings": [setting.to_json() for setting in made.settings],
        "notices": list(made.notices),
        "drift": [
            {
                "key": d.key,
                "deleted": d.deleted,
                "edited": [{"field": f, "recorded": r, "found": v} for f, r, v in d.edited],
            }
            for d in made.drift
        ],
        "changes": [change(c) for c in made.changes if c.action != "noop"],
    }


def checksum(lineage: str, serial: int, changes: tuple[Change, ...]) -> str:
    """The digest of {"changes": [...], "lineage": ..., "serial": ...} as canonical JSON, hashed a
    thousand changes at a time: the same digest, without holding the whole text (50 MB at
    100,000 pins)."""
    digest = hashlib.sha256(b'{"changes":[')
    for start in range(0, len(changes), _CHUNK):
        held = CANONICAL.encode([_held(c) for c in changes[start : start + _CHUNK]])
        digest.update((b"," if start else b"") + held[1:-1].encode())
    rest = CANONICAL.encode({"lineage": lineage, "serial": serial})
    digest.update(b"]," + rest[1:].encode())
    return digest.hexdigest()


_CHUNK = 1000


def _held(made: Change) -> dict[str, Any]:
    """What a saved plan is held to of one change."""
    if made.action == "noop" and made.target is not None:
        # An unchanged pin counts by its key and content: whole fields of every pin would make
        # hashing the plan cost more than making it.
        return {"action": "noop", "key": made.key, "content_hash": made.target.content_hash}
    held = _checksummed(made)
    if made.due_at is not None:
        # A paced pin's time follows the moment of planning; that it waits is what was reviewed,
        # and this apply does not publish it, so its time alone makes no plan stale.
        held["reason"] = None
    return held
