"""The plan: a pure diff of desired targets against state, and the safety checks over it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from reconciler import boards, caution, pacing, planjson
from reconciler.changes import REPLACED, Change, Plan
from reconciler.config import Account, Policy
from reconciler.drift import Drift, remembered
from reconciler.errors import Location, PlanError
from reconciler.pinfields import FIELD_ORDER, LOCAL_FIELDS, comparable
from reconciler.providers.base import Capabilities
from reconciler.recovery import Finding, awaited, interrupted
from reconciler.settings import Setting
from reconciler.state import Record, State
from reconciler.targets import Desired, Target
from reconciler.timestamps import iso


@dataclass(frozen=True)
class Observations:
    """What providers said before planning: the fate of interrupted creates, and drift."""

    interrupted: dict[str, Finding] = field(default_factory=dict)
    drift: dict[str, Drift] = field(default_factory=dict)


def make(
    desired: Desired,
    state: State,
    capabilities: Callable[[str], Capabilities],
    accounts: dict[str, Account],
    policy: Policy,
    now: datetime,
    *,
    allow_destroy: bool = False,
    observed: Observations | None = None,
) -> Plan:
    """Decide, for every target and every record, what apply must do."""
    seen = observed or Observations()
    targets = desired.targets

    def caps(account: str) -> Capabilities:
        return capabilities(accounts[account].provider)

    changes: list[Change] = []
    for key in sorted(targets.keys() | state.pins.keys()):
        target, record = targets.get(key), state.pins.get(key)
        if record is None:
            assert target is not None
            changes.append(_new(key, target, now, caps(target.account)))
        elif interrupted(record) or awaited(record, now):
            changes.append(_settle(key, target, record, seen.interrupted.get(key)))
        elif target is None:
            found = seen.drift.get(key) or remembered(key, record)
            change = _removed(key, record, policy.prune, desired.absent, found)
            changes.append(_unsupported(change, caps(record.account), policy))
        else:
            found = seen.drift.get(key) or remembered(key, record)
            change = _compare(key, target, record, caps(target.account), found)
            changes.append(_unsupported(change, caps(target.account), policy))
        if record is not None and record.replaced and not interrupted(record):
            changes.append(
                Change("delete", key, record=record, remote_id=record.replaced, reason=REPLACED)
            )
    refused = [c for c in changes if c.action == "unsupported"]
    if refused:
        keys = ", ".join(c.key for c in refused)
        raise PlanError(
            f"the provider cannot change or delete published pins, and these need it: {keys}",
            location=refused[0].target.location if refused[0].target else None,
            hint=(
                "undo those edits, or set policy.on_unsupported_change in pinops.yaml to "
                "`republish` (publish a new pin, leave the old one) or `ignore`"
            ),
        )
    held = pacing.hold(changes, state, accounts, now)
    paced = tuple(boards.placed(_cautioned(c), state.boards) for c in held)
    blocked = () if allow_destroy else _safety(paced, state, policy)
    checksum = planjson.checksum(state.lineage, state.serial, paced)
    drifted = tuple(seen.drift.values())
    several = len(accounts) > 1
    return Plan(state.lineage, state.serial, paced, blocked, drifted, checksum, (), (), several)


def only(made: Plan, accounts: frozenset[str]) -> Plan:
    """The changes of `accounts` alone, with their own checksum: what `--account` applies. The
    safety checks stay those of the whole plan."""
    changes = tuple(c for c in made.changes if c.account in accounts)
    return replace(
        made, changes=changes, checksum=planjson.checksum(made.lineage, made.serial, changes)
    )


def with_review(made: Plan, settings: tuple[Setting, ...], notices: tuple[str, ...]) -> Plan:
    """The plan with the configuration changes and notices of a pull request. They stay out of
    the checksum, which is about pins (a saved plan applies whether or not it was made against a
    base); the merge run compares them with the reviewed ones on their own (review.py)."""
    return replace(made, settings=settings, notices=notices)


def _cautioned(change: Change) -> Change:
    if change.action in ("noop", "delete", "kept", "unresolved"):
        return change  # nothing is published: nothing in its text to notice
    before = change.record.fields if change.record else None
    after = change.target.fields.to_json() if change.target else None
    found = caution.warnings(after, before if change.record else None)
    return replace(change, warnings=found) if found else change


def _new(key: str, target: Target, now: datetime, caps: Capabilities) -> Change:
    if target.publish_at is not None and target.publish_at > now:
        horizon = caps.schedule_horizon
        reach = now + timedelta(seconds=horizon) if horizon is not None else target.publish_at
        soonest = now + timedelta(seconds=caps.schedule_lead)
        if caps.schedules and soonest <= target.publish_at <= reach:
            return Change("create", key, target, reason=f"scheduled for {iso(target.publish_at)}")
        return Change("wait", key, target, reason=f"publish_at {iso(target.publish_at)}")
    return Change("create", key, target)


def _unsupported(change: Change, caps: Capabilities, policy: Policy) -> Change:
    """A replace or delete the provider cannot carry out, decided by policy at plan time."""
    if caps.can_delete or not change.remote_id or change.action not in ("replace", "delete"):
        return change
    why = "the provider cannot change or delete a published pin"
    match policy.on_unsupported_change:
        case "republish" if change.action == "replace":
            reason = f"{why}: publishing a new pin, the old one stays"
            return Change(
                "create", change.key, change.target, change.record, change.changed, reason
            )
        case "republish" | "ignore":
            reason = (
                f"{why}: kept as published (on_unsupported_change: {policy.on_unsupported_change})"
            )
            return Change("kept", change.key, change.target, change.record, change.changed, reason)
        case _:
            return replace(change, action="unsupported")


def _settle(key: str, target: Target | None, record: Record, finding: Finding | None) -> Change:
    started = record.intent.get("started_at", "?") if record.intent else "?"
    if not interrupted(record) and (finding is None or finding.outcome == "pending"):
        detail = finding.detail if finding else f"post {record.post_id}, not checked this time"
        return Change("wait", key, target, record, reason=f"still being published: {detail}")
    if finding is not None and finding.outcome == "failed" and target is not None:
        return Change("create", key, target, record, reason=finding.detail)
    if finding is None or finding.outcome in ("unknown", "failed"):
        detail = f"; {finding.detail}" if finding else ""
        return Change(
            "unresolved",
            key,
            target,
            record,
            reason=(
                f"an apply was interrupted while creating this pin (started {started}) and it "
                f"may or may not exist{detail}; settle it with `pinops state resolve {key} "
                "--published PIN_ID` or `--not-published`"
            ),
        )
    if finding.outcome == "found" and finding.pin_id is not None:
        return Change("adopt", key, target, record, reason=finding.detail, remote_id=finding.pin_id)
    if target is None:
        # Never created, and no longer wanted: only the pending record goes.
        return Change("delete", key, record=record, reason=finding.detail)
    return Change("create", key, target, record, reason=finding.detail)


def _remote(record: Record) -> str | None:
    """What a replace or delete acts on: the pin, or the service's post while it has no pin id
    (scheduled, or published through a service that never reports one)."""
    return record.pin_id or record.post_id


def _removed(
    key: str, record: Record, prune: bool, absent: dict[str, Location], drift: Drift | None
) -> Change:
    if drift and drift.deleted:
        return Change("delete", key, record=record, reason="already deleted outside pinops")
    pin = key.split("@", 1)[0]
    if pin in absent:
        return Change(
            "delete", key, record=record, remote_id=_remote(record), reason="marked state: absent"
        )
    if not prune:
        return Change("kept", key, record=record, reason="no longer declared; kept (prune is off)")
    return Change(
        "delete", key, record=record, remote_id=_remote(record), reason="no longer declared"
    )


def _compare(
    key: str, target: Target, record: Record, caps: Capabilities, drift: Drift | None
) -> Change:
    if drift and drift.deleted:
        return Change(
            "create", key, target, record, reason="deleted outside pinops; publishing it again"
        )
    # The common case, without a field: a record's hash is always made from its fields, and what
    # it leaves out (media paths, local fields) is compared here or is not a change.
    if (
        drift is None
        and target.content_hash == record.content_hash
        and (target.fields.protect or False) == record.fields.get("protect", False)
    ):
        return Change("noop", key, target, record)
    fields = target.fields.to_json()
    if drift is None and fields == record.fields:
        return Change("noop", key, target, record)
    new, old = comparable(fields), comparable(record.fields)
    planned = [
        name
        for name in FIELD_ORDER
        if (name in LOCAL_FIELDS and fields.get(name, False) != record.fields.get(name, False))
        or (name not in LOCAL_FIELDS and new.get(name) != old.get(name))
    ]
    restored = [name for name in (drift.fields if drift else ()) if name not in planned]
    changed = tuple(name for name in FIELD_ORDER if name in planned or name in restored)
    if not changed:
        return Change("noop", key, target, record)
    note = f"restoring what was edited outside pinops: {', '.join(restored)}" if restored else ""
    if target.account != record.account:
        return Change(
            "replace", key, target, record, changed, "the account changed", _remote(record)
        )
    fixed = [name for name in changed if name not in caps.updatable and name not in LOCAL_FIELDS]
    if not fixed:
        return Change("update", key, target, record, changed, note, remote_id=record.pin_id)
    reason = f"{', '.join(fixed)} cannot be changed on a published pin"
    return Change("replace", key, target, record, changed, reason, _remote(record))


def _safety(changes: tuple[Change, ...], state: State, policy: Policy) -> tuple[str, ...]:
    managed = len(state.pins)
    destroys = [c for c in changes if c.action == "delete" and c.remote_id and c.reason != REPLACED]
    replaces = [c for c in changes if c.action == "replace"]
    reasons: list[str] = []
    if destroys and len(destroys) >= managed:
        reasons.append(f"the plan deletes every managed pin ({len(destroys)})")
    elif not policy.max_deletes.allows(len(destroys), managed):
        reasons.append(
            f"{len(destroys)} deletes exceed max_deletes ({policy.max_deletes} of {managed} pins)"
        )
    if not policy.max_replaces.allows(len(replaces), managed):
        reasons.append(
            f"{len(replaces)} replaces exceed max_replaces "
            f"({policy.max_replaces} of {managed} pins)"
        )
    for change in (*destroys, *replaces):
        if change.record is not None and change.record.protect:
            reasons.append(f"'{change.key}' is protected and would be {change.action}d")
    return tuple(reasons)
