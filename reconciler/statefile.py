"""The state file: the recorded state on disk, under a lock, written atomically and durably.

An apply records each change in a journal beside it (journal.py) and at the end folds the journal
into the state file (temp file, fsync, rename, fsync of the folder) and removes it. Reading the
state replays any journal left by an interrupted apply and folds it into the state file (under
the lock), so nothing recorded is ever lost and a state file committed later lacks nothing the
journal knew.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import uuid
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import jsonstream, schema
from reconciler.durablefiles import replace_file, sync_folder
from reconciler.errors import Location, StateError
from reconciler.journal import Journal
from reconciler.state import RECURRING, VERSION, Record, State, dumps
from reconciler.timestamps import utcnow

if TYPE_CHECKING:
    import filelock


class Locked(StateError):
    """Another process holds the state lock."""


class StateFile:
    """The state file at `path`, its lock file and its journal."""

    def __init__(self, path: Path, display: str | None = None) -> None:
        self.path = path
        self.display = display or path.name
        self.journal = Journal(path.with_name(path.name + ".journal"), self.display + ".journal")
        self.lock_path = path.with_name(path.name + ".lock")
        # Who holds the lock, in a file of its own: a locked file cannot be read on Windows.
        self.holder_path = path.with_name(path.name + ".lock.holder")
        self._held = False

    def read(self, held: MutableMapping[str, str] | None = None) -> State:
        """The state as recorded, with any journal of an interrupted apply folded into it.

        `held`: strings the caller holds already, each by itself (the manifests' texts, say). A
        record's recurring values (state.RECURRING) are taken from it where equal, and those not
        in it are added to it, so that each is held once, not once per record and again by the
        caller: at 100,000 pins that is most of what the records would hold."""
        state = self._read_file({} if held is None else held)
        entries = list(self.journal.entries(state))
        for entry in entries:
            state.apply_entry(entry)
        if entries:
            self._fold(state)
        return state

    def _fold(self, state: State) -> None:
        """Write a replayed journal into the state file, under the lock; a journal that a running
        apply holds is left to it."""
        if self._held:
            self.write(state)
            return
        try:
            with self.lock("fold the journal"):
                self.write(state)
        except Locked:
            pass

    def _read_file(self, held: MutableMapping[str, str]) -> State:
        def once(members: dict[str, Any]) -> dict[str, Any]:
            return {
                sys.intern(key): held.setdefault(value, value)
                if key in RECURRING and type(value) is str
                else value
                for key, value in members.items()
            }

        def record(value: Any) -> Record:
            # Made as soon as it is read: its decoded form is never held beside all the others.
            if not schema.is_valid(value, schema.STATE, "record"):
                raise ValueError("not a record")
            return Record.from_json(value)

        pins: dict[str, Record] | None = None
        try:
            with self.path.open("rb") as file:
                data: Any = jsonstream.load_object(file, hook=once, each={"pins": record})
            if isinstance(data.get("pins"), dict):  # records, each checked as it was read
                pins, data = data["pins"], {**data, "pins": {}}
        except FileNotFoundError:
            return State()
        except (OSError, ValueError):
            data = self._read_whole()  # which says what is wrong, and where
        if (
            isinstance(data, dict)
            and isinstance(data.get("version"), int)
            and data["version"] > VERSION
        ):
            raise StateError(
                f"{self.display} was written by a newer pinops (state version {data['version']})",
                hint="upgrade pinops",
            )
        problems = schema.check(data, schema.STATE)
        if problems:
            first = problems[0]
            raise StateError(
                f"{self.display} is not a pinops state file: {first.message}",
                location=Location(self.display),
                hint="point `state:` in pinops.yaml at the right file (this one is left as it is)",
            )
        return State(
            version=data["version"],
            lineage=data["lineage"],
            serial=data["serial"],
            boards=data["boards"],
            pins=pins
            if pins is not None
            else {k: Record.from_json(v) for k, v in data["pins"].items()},
        )

    def _read_whole(self) -> Any:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return State().to_json()  # removed meanwhile: no state yet
        except (OSError, UnicodeDecodeError) as exc:
            raise StateError(f"cannot read the state file {self.display}: {exc}") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise StateError(
                f"the state file is not valid JSON: {exc.msg}",
                location=Location(self.display, exc.lineno, exc.colno),
                hint="restore it from git (git checkout -- FILE); pinops will not overwrite it",
            ) from None

    @contextlib.contextmanager
    def lock(self, command: str) -> Iterator[None]:
        """Hold the state lock. The OS releases it if the process dies, so a lock is never stale."""
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            held = self._try_lock()
        except OSError as exc:
            raise StateError(
                f"cannot open the state lock file: {exc.strerror}",
                location=Location(self.display + ".lock"),
                hint="it must be a writable file (pinops creates it): remove whatever is in its "
                "place; nothing was changed, a re-run is safe",
            ) from None
        if held is None:
            raise Locked(
                f"the state is locked by {self._holder() or 'another process'}",
                hint="wait for that run to finish: one apply at a time may change the state",
            )
        try:
            try:
                self.holder_path.write_text(
                    f"pinops {command} (pid {os.getpid()} on {socket.gethostname()}, "
                    f"since {utcnow()})",
                    encoding="utf-8",
                )
            except OSError as exc:
                raise StateError(
                    f"cannot write who holds the state lock: {exc.strerror}",
                    location=Location(self.display + ".lock.holder"),
                    hint="make room (or remove what is in its place); nothing was changed, a "
                    "re-run is safe",
                ) from None
            self._held = True
            yield
        finally:
            self._held = False
            self.holder_path.unlink(missing_ok=True)  # only a holder that is killed leaves it
            held.release()

    def unlock(self) -> str:
        """Clear the note a dead holder left; refuse while a live process holds the lock."""
        holder = self._holder()
        if not holder and not self.lock_path.exists():
            return "the state was not locked"
        held = self._try_lock()
        if held is None:
            raise StateError(
                f"the state is locked by {holder or 'an unknown process'}, which is still running",
                hint="wait for it to finish, or stop that process first",
            )
        try:
            self.holder_path.unlink(missing_ok=True)
        finally:
            held.release()
        if not holder:
            return "the state was not locked"
        return f"the lock was not held; its last holder, {holder}, is gone"

    def _try_lock(self) -> filelock.BaseFileLock | None:
        import filelock  # slow to import: only commands that lock the state load it

        held = filelock.FileLock(self.lock_path, timeout=0)
        try:
            held.acquire()
        except filelock.Timeout:
            return None
        return held

    def _holder(self) -> str:
        try:
            return self.holder_path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return ""

    def begin(self, state: State) -> None:
        """Start a journal for changes made on top of `state` (held under the lock)."""
        if not state.lineage:
            state.lineage = str(uuid.uuid4())
        if self.journal.exists():
            # An interrupted apply's entries are already part of `state`: fold them first.
            self.write(state)
        self.journal.append({"journal": 1, "lineage": state.lineage, "serial": state.serial})

    def record(self, state: State, entry: dict[str, Any]) -> None:
        """Apply an entry to `state` and make it durable before returning."""
        state.apply_entry(entry)
        self.journal.append(entry)

    def put(self, state: State, key: str, record: Record) -> None:
        """Set one record, durably: `record` without a round trip through JSON.

        A record with an intent is synced before this returns, as the provider call follows. One
        without (a call's result) is written at once, so a killed process keeps it, and synced with
        the next line synced, which is the intent before the next provider call, or when the
        journal is folded: one sync per create instead of two, with the same guarantee."""
        self.put_all(state, [(key, record)])

    def put_all(self, state: State, records: list[tuple[str, Record]]) -> None:
        """Set several records with one sync at most: the intents of creates to come, say, all on
        the disk before the first of them is sent."""
        entries = []
        for key, record in records:
            state.pins[key] = record
            entries.append({"op": "record", "key": key, "record": record.to_json()})
        self.journal.append(*entries, sync=any(record.intent is not None for _, record in records))

    def finish(self, state: State) -> None:
        """Fold the journal into the state file and remove it."""
        self.write(state)

    def write(self, state: State) -> None:
        """Write the whole state atomically and durably, then drop the folded journal."""
        self.journal.settle()
        state.serial += 1
        state.lineage = state.lineage or str(uuid.uuid4())
        text = dumps(state.to_json())
        try:
            replace_file(self.path, text.encode())
        except BaseException as exc:
            state.serial -= 1
            if isinstance(exc, OSError):
                kept = " and its journal keeps every result" if self.journal.exists() else ""
                raise StateError(
                    f"cannot write the state file: {exc.strerror}",
                    location=Location(self.display),
                    hint=f"it was left as it was{kept}; make room and run any pinops command: "
                    "it folds the journal in first, so a re-run is safe",
                ) from None
            raise
        self.journal.remove()
        sync_folder(self.path.parent)
