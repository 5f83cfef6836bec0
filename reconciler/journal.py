"""The state journal: what an apply records, one JSON line at a time, beside the state file
(statefile.py folds it in).

An apply never rewrites the whole state per change. Each intent and each result is appended here
(its data synced to disk before the next provider call: O(1) per change); the file stays open for
the apply, as opening it per line cost twice the sync, and several lines (the intents of creates
to come) go in one write under one sync. Entries set absolute values, so replaying one twice is
harmless.

The file is grown ahead of its lines, a megabyte of zeros at a time, so that a line lands in
space the file already has: its sync then writes the line alone, not also the file's new length,
which was most of an apply's wait on the disk. The zeros after the last line hold no line break,
so a reader drops them as it drops a torn last line. A line the machine stopped while writing can
then also come back with zeros in it, not only cut short: it reads as damaged, and the error says
to remove it (it was never synced, so the next run settles what it was about).
"""

from __future__ import annotations

import contextlib
import json
import os
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.durablefiles import sync_data, sync_folder
from reconciler.errors import Location, StateError

if TYPE_CHECKING:
    from reconciler.state import State

# A line of the journal; one encoder for every line, as json.dumps makes one per call.
_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
# How far the journal is grown ahead of its lines at a time (zeros, see above).
_GROWTH = 1 << 20


class Journal:
    """The journal at `path` (`display`: its name in messages)."""

    def __init__(self, path: Path, display: str) -> None:
        self.path = path
        self.display = display
        # The descriptor while an apply appends, closed by close() (or, after an error that
        # skipped that, when this object goes).
        self._open: weakref.finalize[[int], Journal] | None = None
        self._fd = -1
        self._unsynced = False  # lines written since the last sync
        self._end = 0  # where the next line goes
        self._room = 0  # the file's length, zeros after `_end` included
        self._growing = True  # until zeros could not be written ahead (a full disk, a limit)

    def exists(self) -> bool:
        return self.path.exists()

    def entries(self, state: State) -> Iterator[dict[str, Any]]:
        """The entries recorded on top of `state` (its lineage and serial); none if the journal
        was begun on another (folded in already, or left over from another state)."""
        try:
            lines = self.path.read_text(encoding="utf-8").split("\n")
        except FileNotFoundError:
            return
        # A crash can tear only the last line, which then has no newline: drop it.
        complete = lines[:-1]
        if not complete:
            return
        try:
            header = json.loads(complete[0])
            if not isinstance(header, dict) or header.get("journal") != 1:
                raise ValueError
        except ValueError:
            raise self._damaged(1) from None
        if not state.lineage and state.serial == 0:
            state.lineage = header.get("lineage", "")  # the first apply died before any write
        if header.get("lineage") != state.lineage or header.get("serial") != state.serial:
            return
        for number, line in enumerate(complete[1:], start=2):
            try:
                entry = json.loads(line)
                if not isinstance(entry, dict) or "op" not in entry:
                    raise ValueError
            except ValueError:
                raise self._damaged(number) from None
            yield entry

    def _damaged(self, line: int) -> StateError:
        return StateError(
            "this line of the state journal is damaged, so what it recorded cannot be read",
            location=Location(self.display, line, 1),
            hint="nothing was changed: the state file is as it was; repair or remove that line, "
            "then run again (a re-run is safe: a create the line recorded is looked for on the "
            "provider, and `pinops import` takes a pin that was published)",
        )

    def append(self, *entries: dict[str, Any], sync: bool = True) -> None:
        """Write entries as lines, with one write call, and sync them (with any written before
        unsynced) unless `sync` is False: then they reach the disk with the next lines synced."""
        lines = "".join(_ENCODER.encode(entry) + "\n" for entry in entries).encode()
        try:
            fd = self._descriptor()
            if self._growing and self._end + len(lines) > self._room:
                self._grow(fd, len(lines))
            _write_all(fd, lines)
            self._end += len(lines)
            self._room = max(self._room, self._end)
            if sync:
                sync_data(fd)
            self._unsynced = not sync
        except OSError as exc:
            self.close()
            raise StateError(
                f"cannot write the state journal: {exc.strerror}",
                location=Location(self.display),
                hint="the run stopped there; make room and run again: a re-run is safe (what "
                "was recorded stays, and a create in flight is looked for before it is sent)",
            ) from None

    def settle(self) -> None:
        """Sync the lines written unsynced, if any: before the state file is written, so that
        should that fail, the journal still holds every result."""
        if self._unsynced and self._open is not None:
            with contextlib.suppress(OSError):  # the state file's own write says what is wrong
                sync_data(self._fd)
            self._unsynced = False

    def remove(self) -> None:
        """Close and delete it: folded into the state file."""
        self.close()
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._open is not None:
            self._open()
            self._open = None

    def _grow(self, fd: int, needed: int) -> None:
        """Write zeros ahead of the journal's end, room for `needed` bytes at least; where they
        cannot be written, lines are appended as they come from then on."""
        try:
            os.lseek(fd, self._room, os.SEEK_SET)
            _write_all(fd, bytes(max(_GROWTH, needed)))
            self._room += max(_GROWTH, needed)
        except OSError:
            self._growing = False
            with contextlib.suppress(OSError):  # give back what the zeros took
                os.ftruncate(fd, self._room)
        os.lseek(fd, self._end, os.SEEK_SET)

    def _descriptor(self) -> int:
        """The journal, open for writing at the end of its last line; a new one's name is synced
        into its folder too, so that the file itself survives the machine stopping."""
        if self._open is None:
            created = not self.path.exists()
            flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
            fd = os.open(self.path, flags, 0o666)
            self._open = weakref.finalize(self, os.close, fd)
            self._fd = fd
            if created:
                self._end, self._room, self._growing = 0, 0, True
                sync_folder(self.path.parent)
            else:
                # Written again after an error: past its last whole line, over zeros or a torn
                # line, which hold no line break and so still read as a torn end.
                written = self.path.read_bytes()
                self._end, self._room = written.rfind(b"\n") + 1, len(written)
                os.lseek(fd, self._end, os.SEEK_SET)
        return self._fd


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]
