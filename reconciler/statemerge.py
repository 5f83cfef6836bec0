"""Merging the state of runs that apply different accounts at the same time (`apply --account`, one
job per account in a matrix), so that every job's commit lands and none overwrites another's.

One state file stays the contract (the plan on a pull request reads every account from it); what
changes is how a run for some accounts commits it. Its state is laid onto the branch's newest
state: the records and board maps this run changed since it last met the branch are its own, all
the others are the branch's. A key both sides changed differently, or any change of the branch to
an account this run applies, is a conflict: two runs applied one account at once (the workflow's
concurrency group per account prevents that), and the run stops as a run for every account does.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.errors import StateError
from reconciler.state import dumps


def merge(
    synced: bytes | None,
    known: bytes | None,
    ours: bytes,
    theirs: bytes | None,
    accounts: frozenset[str],
) -> bytes:
    """The state to commit on a branch whose state is `theirs`.

    `synced` is the branch's state when this run last met it (pulled or pushed), `known` this
    run's own state at that moment, `ours` its state now; `accounts` are the accounts it applies.
    """
    if theirs == synced and known == synced:
        return ours  # nobody else committed and nothing was merged before: today's state as is
    base, mine, now, branch = (_parse(data) for data in (synced, known, ours, theirs))
    merged = dict(branch or now)
    merged["version"] = now.get("version", merged.get("version"))
    merged["lineage"] = _lineage(base, now, branch)
    for part in ("pins", "boards"):
        merged[part] = _merge_part(
            part,
            _part(base, part),
            _part(mine, part),
            _part(now, part),
            _part(branch, part),
            accounts,
        )
    serial, their_serial = int(now.get("serial", 0)), int(branch.get("serial", 0))
    # Newer than both: a later pull of either side's state takes the merged one.
    merged["serial"] = serial if serial > their_serial else their_serial + 1
    return dumps(merged).encode()


def _merge_part(
    part: str,
    base: dict[str, Any],
    mine: dict[str, Any],
    now: dict[str, Any],
    branch: dict[str, Any],
    accounts: frozenset[str],
) -> dict[str, Any]:
    ours_changed = {key for key in mine.keys() | now.keys() if mine.get(key) != now.get(key)}
    theirs_changed = {
        key for key in base.keys() | branch.keys() if base.get(key) != branch.get(key)
    }
    for key in theirs_changed:
        account = key if part == "boards" else _account(branch.get(key) or base.get(key))
        if account in accounts:
            raise StateError(
                f"another run changed {_what(part, key)} of account '{account}', which this run "
                "applies: two runs applied one account at the same time"
            )
    merged = dict(branch)
    for key in ours_changed:
        if key in theirs_changed and branch.get(key) != now.get(key):
            raise StateError(f"this run and another changed {_what(part, key)} differently")
        if key in now:
            merged[key] = now[key]
        else:
            merged.pop(key, None)
    return merged


def _lineage(base: dict[str, Any], now: dict[str, Any], branch: dict[str, Any]) -> str:
    """The state's lineage: the branch's. A run that started from no state made its own, which
    gives way; a branch whose lineage changed since this run met it holds another state."""
    ours, theirs = str(now.get("lineage", "")), str(branch.get("lineage", ""))
    if not theirs or ours == theirs:
        return ours or theirs
    met = str(base.get("lineage", ""))
    if met and met != theirs:
        raise StateError(
            f"the state on the branch is another state (lineage {theirs}, this run's {met})"
        )
    return theirs


def _what(part: str, key: str) -> str:
    return f"the record '{key}'" if part == "pins" else f"the boards of account '{key}'"


def _account(record: Any) -> str | None:
    return str(record.get("account")) if isinstance(record, dict) else None


def _part(state: dict[str, Any], part: str) -> dict[str, Any]:
    found = state.get(part, {})
    return found if isinstance(found, dict) else {}


def _parse(data: bytes | None) -> dict[str, Any]:
    if not data:
        return {}
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise StateError("the state on the branch is not a pinops state file")
    return parsed
