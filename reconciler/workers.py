"""Workers: accounts applied side by side, one worker per account, at most `parallel` at once.

Each worker makes its account's changes in plan order through the account's own provider, so
with its own pacing and rate-limit waits, and stops on its own: a failure that would fail every
remaining change of the account (authentication, a spent budget, a rate limit longer than the run
waits) stops that account alone. Accounts that one change touches together (a pin moved from one
account to another) share a worker, so that a provider is only ever used by one thread.

Every write of state and journal, every checkpoint and every progress line goes through one door
(`Writes`), one at a time, as in a run of one worker. Signals reach the main thread alone, which
waits for the workers: the first asks each worker to stop after its call in flight; the second
abandons the calls in flight once every worker still running is in one. The door is then shut: a
call that answers later writes nothing, its intent stays recorded and the next run settles it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from reconciler.cancellation import ABANDONED, CANCELLED, Cancellation, Cancelled
from reconciler.changes import Change
from reconciler.checkpoint import Checkpoints
from reconciler.outcome import Outcome, Progress, Step, Stop

# How often the main thread looks at the workers and at the signals it was sent.
_POLL = 0.05


class Writes:
    """The one door to state, journal, checkpoints and progress: one writer at a time. Once shut,
    a worker that tries to write is abandoned (raises Cancelled); the main thread still writes."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._shut = False

    def __enter__(self) -> None:
        self._lock.acquire()
        if self._shut and threading.current_thread() is not threading.main_thread():
            self._lock.release()
            raise Cancelled("the run was abandoned")

    def __exit__(self, *_: object) -> None:
        self._lock.release()

    def shut(self) -> None:
        with self._lock:
            self._shut = True


@dataclass
class Lane:
    """The changes one worker makes, in plan order, with their places in the whole plan."""

    changes: list[tuple[int, Change]] = field(default_factory=list)
    done: int = 0  # how many of `changes` have their outcome reported
    thread: threading.Thread | None = None  # the worker making it, while it does


def lanes(todo: list[Change]) -> list[Lane]:
    """The plan's changes by worker: one per account, or per group of accounts a change joins;
    the longest first, so that the slowest account is not the last one started."""
    joined: dict[str, str] = {}

    def root(account: str) -> str:
        while joined.setdefault(account, account) != account:
            account = joined[account]
        return account

    for change in todo:
        accounts = {c.account for c in (change.target, change.record) if c is not None}
        first, *others = sorted(accounts) or [""]
        for other in others:
            joined[root(other)] = root(first)
    by_root: dict[str, Lane] = {}
    for place, change in enumerate(todo):
        by_root.setdefault(root(change.account), Lane()).changes.append((place, change))
    return sorted(by_root.values(), key=lambda lane: -len(lane.changes))


# Makes one change (or the batch it leads): apply.Applier._one.
Make = Callable[[Change, list[Change] | None], Outcome]


class Workers:
    """Makes a plan's changes on at most `parallel` threads and waits for them, signals included."""

    def __init__(
        self,
        parallel: int,
        writes: Writes,
        cancellation: Cancellation,
        checkpoints: Checkpoints,
        make: Make,
        progress: Progress | None = None,
    ) -> None:
        self.parallel = max(1, parallel)
        self.writes = writes
        self.cancellation = cancellation
        self.checkpoints = checkpoints
        self.make = make
        self.progress = progress
        self.failure: BaseException | None = None  # a worker's unexpected error: the run stops
        self._queue: list[Lane] = []
        self._taken = threading.Lock()
        self._batches: dict[str, list[Change]] = {}
        self._outcomes: dict[int, Outcome] = {}  # by place in the plan
        self._totals: Counter[str] = Counter()  # changes per account
        self._counted: Counter[str] = Counter()

    def run(self, todo: list[Change], batches: dict[str, list[Change]]) -> list[Outcome]:
        """Every change's outcome, in plan order. `batches`: creates made in one call, by the
        first's key."""
        all_lanes = lanes(todo)
        self._batches, self._totals = batches, Counter(c.account for c in todo)
        self._queue = list(reversed(all_lanes))
        threads = [
            threading.Thread(target=self._worker, name=f"pinops-worker-{n}", daemon=True)
            for n in range(min(self.parallel, len(all_lanes)))
        ]
        # Daemons: a call abandoned on a second signal must not keep the process alive.
        for thread in threads:
            thread.start()
        while alive := [thread for thread in threads if thread.is_alive()]:
            # Abandon only calls: a worker outside one is a moment from its next write.
            if self.cancellation.abandoned and all(map(self.cancellation.in_call, alive)):
                with self.writes:  # no worker writes (or leaves its lane) meanwhile
                    if not all(map(self.cancellation.in_call, alive)):
                        continue  # a call answered meanwhile: its worker is about to record it
                    self.writes.shut()
                    for lane in all_lanes:
                        for place, change, error, skipped in _left(lane):
                            self._report(place, Outcome(change, error=error, skipped=skipped))
                break
            alive[0].join(_POLL)
        if self.failure is not None:
            raise self.failure
        return [self._outcomes[place] for place in sorted(self._outcomes)]

    def _worker(self) -> None:
        while True:
            with self._taken:
                if not self._queue:
                    return
                lane = self._queue.pop()
                lane.thread = threading.current_thread()
            try:
                self._lane(lane)
            except Cancelled:
                return  # abandoned: the main thread reports what was left
            except BaseException as exc:  # the run stops; the main thread raises it
                with self._taken:
                    self.failure = self.failure or exc
                return
            finally:
                lane.thread = None

    def _lane(self, lane: Lane) -> None:
        """Make one worker's changes in order, until they are done or its account stops."""
        stop: str | None = None
        done: dict[str, Outcome] = {}
        for place, change in lane.changes:
            if not stop and self.cancellation.requested:
                stop = CANCELLED
            elif not stop and self.failure is not None:
                stop = "not attempted: the run stopped on an error"
            batch = self._batches.get(change.key)
            if change.key in done:
                outcome = done.pop(change.key)  # made with the first of its batch
            elif stop:
                outcome = Outcome(change, error=stop, skipped=True)
            else:
                with self.writes:
                    self.checkpoints.attempted(batch or [change])
                outcome = self.make(change, batch)
                for sibling in (batch or [])[1:]:
                    done[sibling.key] = Outcome(sibling, outcome.error, outcome.pin_id)
                if isinstance(outcome, Stop):
                    stop = f"not attempted: {outcome.error}"
                    outcome = Outcome(change, error=outcome.error)
            with self.writes:
                self._report(place, outcome)
                lane.done += 1
                if stop:  # nothing more is sent for these accounts
                    self.checkpoints.attempted(c for _, c in lane.changes[lane.done :])
                else:
                    self.checkpoints.after(f"{len(self._outcomes)} changes made")

    def _report(self, place: int, outcome: Outcome) -> None:
        self._outcomes[place] = outcome
        account = outcome.change.account
        self._counted[account] += 1
        if self.progress:
            shown = account if len(self._totals) > 1 else None
            self.progress(outcome, Step(self._counted[account], self._totals[account], shown))


def _left(lane: Lane) -> Iterator[tuple[int, Change, str, bool]]:
    """What a lane left when the run was abandoned: its change in flight, then the untouched ones
    (place, change, error, skipped)."""
    for number, (place, change) in enumerate(lane.changes[lane.done :]):
        in_flight = lane.thread is not None and number == 0
        yield place, change, (ABANDONED if in_flight else CANCELLED), not in_flight
