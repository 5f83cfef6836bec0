"""Executing a plan: an intent recorded before every provider call and the result right after,
so that an interrupted run never loses a published pin's id (intents of creates that can be
settled are written a group at a time: ahead.py).

Accounts are applied side by side, each by a worker of its own, one change at a time
(workers.py). Order within an account: adoptions and creates, then updates, then replaces (create
the new pin, record it, delete the old one), then deletes. A failed pin is recorded and the run
goes on, except for failures that would fail every pin of the account alike (authentication,
Pinterest's spam block), which stop that account. With `--commit` the state is pushed to git as
the run goes (checkpoint.py); a cancellation ends it in order (cancellation.py).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from reconciler import answers, workers
from reconciler.ahead import Ahead
from reconciler.cancellation import CANCELLED, Cancellation
from reconciler.changes import CHANGE_ACTIONS, REPLACED, Change, Plan
from reconciler.checkpoint import Checkpoints, recoverable
from reconciler.content import content, idempotency_key
from reconciler.errors import OutcomeUnknown, ProviderError, RateLimited, StopsRun, Undeletable
from reconciler.outcome import Outcome, Progress, Stop
from reconciler.pinfields import LOCAL_FIELDS
from reconciler.providers import capabilities
from reconciler.providers.base import Batches, Provider, Published
from reconciler.recovery import create_intent, interrupted, previous_of, replayed_key
from reconciler.state import Record, State
from reconciler.statefile import StateFile
from reconciler.targets import Target
from reconciler.timestamps import iso, utcnow

# A rate-limited change is tried again this many times, waiting as long as the provider asks,
# unless it asks for longer than this: then the run stops and a later run resumes.
RATE_LIMIT_ROUNDS = 8
MAX_RATE_LIMIT_WAIT = 300.0


class Applier:
    def __init__(
        self,
        state: State,
        store: StateFile,
        provider: Callable[[str], Provider],
        provider_name: Callable[[str], str],
        commit: str | None = None,
        checkpoints: Checkpoints | None = None,
        cancellation: Cancellation | None = None,
        *,
        parallel: int,
    ) -> None:
        self.state = state
        self.store = store
        self.provider = provider
        self.provider_name = provider_name
        self.commit = commit
        self.held = answers.Held(state)
        self.checkpoints = checkpoints or Checkpoints(None)
        self.checkpoints.bind(store, state, self._pending, self._blind)
        self.cancellation = cancellation or Cancellation()
        self.parallel = parallel
        self.writes = workers.Writes()
        self._keys: dict[str, str] = {}  # the idempotency key each create of this run sends
        self._ahead = Ahead(store, state, self._pending)
        self._unread: dict[str, str] = {}  # why an account's boards could not be read, by account

    def run(self, plan: Plan, progress: Progress | None = None) -> list[Outcome]:
        """Carry out a plan whose boards are resolved (boards.resolve), recording its board maps."""
        todo = sorted(
            (c for c in plan.changes if c.action in CHANGE_ACTIONS),
            key=lambda c: CHANGE_ACTIONS.index(c.action),
        )
        self._unread = plan.unread
        makeable = [c for c in todo if not self._unplaced(c)]
        batches = self._batches(makeable)
        creates = [c for c in makeable if c.action in ("create", "replace")]
        self._keys = {c.key: replayed_key(c.record, c.target) or idempotency_key() for c in creates}
        for group in batches.values():  # one call, one key
            self._keys.update((c.key, self._keys[group[0].key]) for c in group)
        batched = {c.key for group in batches.values() for c in group}
        settleable = (c for c in creates if c.key not in batched and not self._blind(c))
        self._ahead = Ahead(self.store, self.state, self._pending, settleable)
        run = workers.Workers(
            self.parallel, self.writes, self.cancellation, self.checkpoints, self._one, progress
        )
        self.cancellation.arm()
        # The plan's objects, most of a large plan's memory, live as long as the run: frozen, the
        # collector no longer walks them in every collection the changes' own objects set off.
        gc.freeze()
        try:
            self.store.begin(self.state)
            try:
                for account, names in plan.boards.items():
                    self._write({"op": "boards", "account": account, "boards": names})
                self.checkpoints.start(creates, len(todo))
                return run.run(todo, batches)
            finally:
                try:
                    self._withdraw()
                finally:  # a journal that cannot take them leaves intents to look up: no harm
                    self.checkpoints.finish()
        finally:
            gc.unfreeze()

    def _unplaced(self, change: Change) -> str | None:
        """Why a change cannot be made: it publishes to a board whose id its account's provider
        could not give (boards.resolve)."""
        if change.publishes and change.board_id is None:
            return self._unread.get(change.account)
        return None

    def _blind(self, change: Change) -> bool:
        """A create whose outcome, if lost, could be neither replayed nor looked for."""
        assert change.target is not None
        return not recoverable(capabilities(self.provider_name(change.target.account)))

    def _write(self, entry: dict[str, object]) -> None:
        with self.writes:
            self.store.record(self.state, entry)

    def _put(self, key: str, record: Record) -> None:
        with self.writes:
            self.store.put(self.state, key, record)

    def _one(self, change: Change, batch: list[Change] | None = None) -> Outcome:
        """Carry out one change (or the batch it leads); a rate limit pauses the run, then the
        same change is tried again (a 429 means the provider did nothing, and the record was
        restored)."""
        if unplaced := self._unplaced(change):
            return Outcome(change, error=unplaced)
        rounds = 0
        while True:
            try:
                return self._create_many(batch) if batch else self._attempt(change)
            except RateLimited as exc:
                rounds += 1
                wait = exc.retry_after
                if wait is None or wait > MAX_RATE_LIMIT_WAIT:
                    return Stop(change, error=str(exc))
                if rounds == RATE_LIMIT_ROUNDS:
                    return Outcome(change, error=str(exc))
                if not self.cancellation.pause(wait):
                    return Outcome(change, error=CANCELLED, skipped=True)
            except StopsRun as exc:
                return Stop(change, error=str(exc))
            except ProviderError as exc:
                return Outcome(change, error=str(exc))

    def _attempt(self, change: Change) -> Outcome:
        match change.action:
            case "adopt":
                return self._adopt(change)
            case "create" | "replace":
                return self._create(change)
            case "update":
                return self._update(change)
            case _:
                return self._delete(change)

    def _new_record(
        self,
        change: Change,
        *,
        status: str = "published",
        intent: dict[str, Any] | None = None,
        replaced: str | None = None,
    ) -> Record:
        target = change.target
        assert target is not None
        media = target.fields.medium
        account = target.account
        return Record(
            status=status,
            intent=intent,
            replaced=replaced,
            provider=self.provider_name(account),
            account=account,
            content_hash=target.content_hash,
            board=target.board,
            board_id=change.board_id,
            section_id=change.section_id,
            media_hash=media.sha256 if media else None,
            fields=target.fields.to_json(),
            protect=target.protect,
            commit=self.commit,
        )

    def _pending(self, change: Change) -> Record:
        """The record of a create about to be sent: its intent, and what it replaces."""
        target, previous = change.target, change.record
        assert target is not None
        if previous is not None and interrupted(previous):
            # Settling an interrupted create: carry on with what it was doing.
            restore, replaced = previous_of(previous), previous.replaced
        elif previous is not None and previous.status == "pending":
            # The service failed to publish it: post again, under a key of its own.
            restore, replaced = previous, previous.replaced
        else:
            restore = previous
            replaced = change.remote_id if previous and change.action == "replace" else None
        key = self._keys.get(change.key) or replayed_key(previous, target) or idempotency_key()
        sent = create_intent(target, key, restore)
        return self._new_record(change, status="pending", intent=sent, replaced=replaced)

    def _withdraw(self) -> None:
        """Take back the intents of creates written ahead and never sent: their records become
        what they were before the run."""
        with self.writes:
            for change in self._ahead.unsent():
                self._restore(change.key, change.record)

    def _create(self, change: Change) -> Outcome:
        target = change.target
        assert target is not None
        with self.writes:
            pending = self._ahead.intent(change)
            self.checkpoints.before(change)
        assert pending.intent is not None
        restore, key = previous_of(pending), str(pending.intent["idempotency_key"])
        try:
            with self.cancellation.call():
                published = self.provider(target.account).create(content(change), key)
            published = self._checked(change.key, target, published)
        except OutcomeUnknown:
            raise  # the intent stays: the next run settles it instead of posting again
        except ProviderError:
            self._restore(change.key, restore)
            raise
        done = _answered(pending, target, published)
        self._put(change.key, done)
        if done.replaced:
            self._retire(change.key, done)
        return Outcome(change, pin_id=published.pin_id)

    def _checked(
        self, key: str, target: Target, published: Published, *, shared: bool = False
    ) -> Published:
        """The create's answer as it may be recorded (see answers); `shared`: a batch's ids."""
        service = self.provider_name(target.account)
        publish_now = target.publish_at is None or target.publish_at <= datetime.now(UTC)
        published = answers.checked(published, service, publish_now=publish_now)
        with self.writes:  # another worker may be holding an id right now
            if not shared:
                self.held.check(key, service, published.pin_id, published.post_id)
            self.held.add(key, published.pin_id, published.post_id)
        return published

    def _batches(self, todo: list[Change]) -> dict[str, list[Change]]:
        """Fresh creates of one pin on boards a provider takes in one call, by the first's key."""
        groups: dict[tuple[str, str], list[Change]] = {}
        for c in todo:
            if c.action == "create" and c.record is None and c.target is not None:
                groups.setdefault((c.target.account, c.target.pin), []).append(c)
        return {
            group[0].key: group
            for (account, _), group in groups.items()
            if len(group) > 1 and capabilities(self.provider_name(account)).boards_in_one_call
        }

    def _create_many(self, changes: list[Change]) -> Outcome:
        """Fresh creates of one pin on several boards, in one call: every intent recorded first."""
        targets = [c.target for c in changes if c.target is not None]
        key = self._keys.get(changes[0].key) or idempotency_key()
        pending = [
            (c.key, self._new_record(c, status="pending", intent=create_intent(t, key)))
            for c, t in zip(changes, targets, strict=True)
        ]
        with self.writes:  # every intent on the disk, with one sync
            self.store.put_all(self.state, pending)
            self.checkpoints.before(changes[0])
        provider = self.provider(targets[0].account)
        assert isinstance(provider, Batches)  # boards_in_one_call says so
        try:
            with self.cancellation.call():
                results = provider.create_many([content(c) for c in changes], key)
        except ProviderError as exc:
            if not isinstance(exc, OutcomeUnknown):  # an unknown outcome keeps the intents
                for change in changes:
                    self._restore(change.key, None)
            raise
        for number, (change, target, (_, record), answer) in enumerate(
            zip(changes, targets, pending, results, strict=True)
        ):
            # One call, one post: the boards' records share its id.
            published = self._checked(change.key, target, answer, shared=number > 0)
            self._put(change.key, _answered(record, target, published))
        return Outcome(changes[0], pin_id=results[0].pin_id)

    def _adopt(self, change: Change) -> Outcome:
        """Record a pin an interrupted create did publish, instead of publishing it again."""
        pending = change.record
        assert pending is not None and change.remote_id is not None
        service = self.provider_name(pending.account)
        answers.checked(Published(pin_id=change.remote_id), service, publish_now=True)
        with self.writes:
            self.held.check(change.key, service, change.remote_id, None)
            self.held.add(change.key, change.remote_id)
        done = replace(
            pending,
            pin_id=change.remote_id,
            status="published",
            published_at=pending.intent.get("started_at")
            if pending.intent
            else pending.scheduled_at or utcnow(),
            intent=None,
        )
        self._put(change.key, done)
        if done.replaced:
            self._retire(change.key, done)
        return Outcome(change, pin_id=change.remote_id)

    def _retire(self, key: str, record: Record) -> None:
        """Delete the pin a replace superseded; the new pin is already recorded."""
        assert record.replaced is not None
        self._put(key, replace(record, intent={"operation": "delete", "started_at": utcnow()}))
        try:
            with self.cancellation.call():
                self.provider(record.account).delete(record.replaced)
        except Undeletable as exc:
            # Asking again would be refused again: the old pin is recorded as left instead.
            left = [*(record.left or []), record.replaced]
            self._put(key, replace(record, replaced=None, intent=None, left=left))
            exc.message += f"; the state records it under `left` of {key}"
            raise
        self._put(key, replace(record, replaced=None, intent=None))

    def _restore(self, key: str, previous: Record | None) -> None:
        if previous is None:
            self._write({"op": "forget", "key": key})
        else:
            self._put(key, previous)

    def _update(self, change: Change) -> Outcome:
        target, previous = change.target, change.record
        assert target is not None and previous is not None and previous.pin_id is not None
        updated = replace(
            self._new_record(change),
            pin_id=previous.pin_id,
            post_id=previous.post_id,
            url=previous.url,
            status=previous.status,
            published_at=previous.published_at,
        )
        remote = frozenset(change.changed) - LOCAL_FIELDS
        if remote:
            intent = {"operation": "update", "started_at": utcnow()}
            self._put(change.key, replace(previous, intent=intent))
            try:
                with self.cancellation.call():
                    self.provider(target.account).update(previous.pin_id, content(change), remote)
            except OutcomeUnknown:
                raise  # an update is safe to send again: the next plan still shows it
            except ProviderError:
                self._put(change.key, previous)
                raise
        self._put(change.key, updated)
        return Outcome(change, pin_id=previous.pin_id)

    def _delete(self, change: Change) -> Outcome:
        record = change.record
        assert record is not None
        if change.reason == REPLACED:
            self._retire(change.key, record)
            return Outcome(change, pin_id=record.replaced)
        if interrupted(record):
            self._restore(change.key, previous_of(record))  # that create never happened
            return Outcome(change)
        if change.remote_id:
            intent = {"operation": "delete", "started_at": utcnow()}
            self._put(change.key, replace(record, intent=intent))
            try:
                with self.cancellation.call():
                    self.provider(record.account).delete(change.remote_id)
            except Undeletable as exc:
                self._put(change.key, record)
                exc.hint += f", then `pinops state forget {change.key}`"
                raise
        self._write({"op": "forget", "key": change.key})
        return Outcome(change, pin_id=change.remote_id)


def _answered(pending: Record, target: Target, published: Published) -> Record:
    """A create's pending record as the provider's answer leaves it."""
    return replace(
        pending,
        pin_id=published.pin_id,
        post_id=published.post_id,
        url=published.url,
        status=published.status,
        published_at=published.published_at,
        scheduled_at=iso(target.publish_at) if published.status == "scheduled" else None,
        intent=None,
    )
