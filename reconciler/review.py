"""Reviewed plan = applied plan: what the plan about to be applied does that no reviewer saw.

A pull request's plan (`pinops plan --out plan.json`) is what its reviewers approved. The run after
the merge plans again; since the review the state may have moved (another pull request published
first, a pin was edited outside pinops) or other merges changed the manifests. Each change the new
plan makes now is compared with the reviewed change of the same pin: its action (a pin reviewed as
waiting for `publish_at` may now be created: that is the same change), what it publishes
(`after`), what it starts from (`before`) and which remote pin it replaces or deletes. Reviewed
changes that are no longer planned (applied meanwhile, or withdrawn) are reported but never stop
an apply: nothing unreviewed happens because of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import planjson
from reconciler.changes import CHANGE_ACTIONS, Plan
from reconciler.errors import PlanError
from reconciler.planjson import FORMAT_VERSION

# Actions that are the same change at a later time.
_SAME = {"wait": "create"}


@dataclass(frozen=True)
class Difference:
    key: str
    what: str
    blocking: bool  # the change would be applied without having been reviewed as it is


def load(path: Path) -> dict[str, Any] | None:
    """The reviewed plan saved at `path`; None when there is none (no plan was reviewed)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PlanError(f"cannot read the reviewed plan {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("changes"), list):
        raise PlanError(
            f"{path} is not a plan saved by pinops", hint="save one with: pinops plan --out FILE"
        )
    if "format_version" not in data:
        raise PlanError(
            f"{path} is not a plan saved by pinops: it has no format_version",
            hint="save one with: pinops plan --out FILE",
        )
    if data.get("format_version") != FORMAT_VERSION:
        raise PlanError(
            f"{path} was saved by another version of pinops (plan format "
            f"{data.get('format_version')}, this one reads {FORMAT_VERSION})",
            hint="plan the pull request again with this version",
        )
    return data


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("file") or value.get("url") or value)
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:58] + '…"'


def _fields(name: str, reviewed: Any, now: Any) -> list[str]:
    old = reviewed if isinstance(reviewed, dict) else {}
    new = now if isinstance(now, dict) else {}
    return [
        f"{name} {field} {_short(old.get(field))} when reviewed, {_short(new.get(field))} now"
        for field in sorted(old.keys() | new.keys())
        if old.get(field) != new.get(field)
    ]


def _compare(reviewed: dict[str, Any], now: dict[str, Any]) -> list[str]:
    found: list[str] = []
    was, is_ = reviewed.get("action"), now.get("action")
    if _SAME.get(str(was), was) != _SAME.get(str(is_), is_):
        found.append(f"reviewed as {was}, now {is_}")
    found += _fields("publishes", reviewed.get("after"), now.get("after"))
    found += _fields("starts from", reviewed.get("before"), now.get("before"))
    if reviewed.get("remote_id") != now.get("remote_id") and is_ in ("replace", "delete"):
        found.append(f"acts on pin {now.get('remote_id')}, reviewed as {reviewed.get('remote_id')}")
    return found


def of_accounts(reviewed: dict[str, Any] | None, accounts: frozenset[str]) -> dict[str, Any] | None:
    """The reviewed plan's changes of `accounts` alone, as `apply --account` compares them; its
    checksum, which is the whole plan's, no longer applies."""
    if reviewed is None:
        return None
    changes = [
        c
        for c in reviewed.get("changes", [])
        if isinstance(c, dict) and c.get("account") in accounts
    ]
    return {**reviewed, "changes": changes, "checksum": None}


def compare(reviewed: dict[str, Any] | None, plan: Plan) -> list[Difference]:
    """Every way the plan differs from the reviewed one; blocking ones would apply unreviewed."""
    current = json.loads(json.dumps(planjson.plan(plan), ensure_ascii=False))
    differences = _settings(reviewed, current["settings"])
    if reviewed is not None and reviewed.get("checksum") == plan.checksum:
        return differences
    by_key = {c["key"]: c for c in (reviewed or {}).get("changes", []) if isinstance(c, dict)}
    for change in current["changes"]:
        key = change["key"]
        if change["action"] not in CHANGE_ACTIONS:
            continue
        if reviewed is None:
            differences.append(Difference(key, f"{change['action']}: no plan was reviewed", True))
        elif key not in by_key:
            differences.append(
                Difference(key, f"{change['action']}: not in the reviewed plan", True)
            )
        else:
            differences += [Difference(key, what, True) for what in _compare(by_key[key], change)]
    planned = {c["key"] for c in current["changes"]}
    for key, change in sorted(by_key.items()):
        if key not in planned and change.get("action") in (*CHANGE_ACTIONS, "wait"):
            differences.append(
                Difference(key, f"reviewed as {change.get('action')}, no longer planned", False)
            )
    return differences


def _settings(reviewed: dict[str, Any] | None, now: list[dict[str, Any]]) -> list[Difference]:
    """Settings changed now but not as reviewed. They are known only against a base (`--base`):
    a run without one has none to compare."""
    if not now or (reviewed or {}).get("settings", []) == now:
        return []
    shown = "; ".join(f"{s['setting']}: {s['before']} → {s['after']}" for s in now)
    return [Difference("pinops.yaml", f"settings changed as not reviewed: {shown}", True)]
