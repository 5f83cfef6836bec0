"""Manifest files derived ahead in a second process, while the run derives the others: with
nothing cached, a plan on two cores costs about half the files, not all of them.

The second process only fills the cache (derivations.Derived), and says through a pipe each time it
is done with a file. The run takes each of those files as soon as it is done, as it takes any file
an earlier run derived: each entry is checked against the file's bytes, its defaults, settings,
data files and media, and what it spent of the template budget, ids across files are checked by
the run itself, and a file whose problems depend on other files (an id declared twice, an error
said once for several files) is never kept, so the run derives it again and reports it. Nothing
the second process does can change what the run finds, only how soon; one that fails, is killed
or writes nothing leaves the run to derive those files itself.

It is a fork of the run, started only where that is safe: on a system that forks, with a second
core, with the cache on, from a process running no other thread (a fork copies one thread, and a
lock another one held would stay held). Its output goes nowhere: what the user reads is what the
run prints. It stops when the run no longer waits for it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

# What the second process is given to do: derive these files, leaving entries in the cache.
Derive = Callable[[Iterable[Path]], None]

# The run's part of the work: less than half, as it then reads back what the fork derived.
RUNS_PART = 0.45

# Below this many bytes of manifests to derive, a second process costs more than it saves.
WORTH = 256 * 1024


class Helper:
    """The second process and the files it derives, in the order it derives them."""

    def __init__(self, pid: int, order: list[Path], progress: int) -> None:
        self.pid = pid
        self.paths = frozenset(order)
        self._place = {path: number for number, path in enumerate(order, 1)}
        self._progress = progress  # the read end of a pipe it writes a byte to per file done
        self._done = 0

    def wait_for(self, path: Path) -> None:
        """Wait until it is done with `path`, or has ended: what it kept of the file is in the
        cache from then on."""
        wanted = self._place[path]
        while self._done < wanted:
            said = os.read(self._progress, wanted - self._done)
            self._done = self._done + len(said) if said else len(self._place)

    def join(self) -> None:
        """Wait for it to finish (its entries are in the cache from then on)."""
        with contextlib.suppress(ChildProcessError):  # already waited for
            os.waitpid(self.pid, 0)
        if self._progress >= 0:  # closed once: its number may be another file's later
            os.close(self._progress)
            self._progress = -1
        self._done = len(self._place)

    def stop(self) -> None:
        """End it, if it still runs: the run no longer waits for it."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.join()


def start(paths: list[Path], size: Callable[[Path], int], derive: Derive) -> Helper | None:
    """Fork a process that calls `derive` on the later part of `paths`, a little over half their
    `size`; None where a second process is not worth it or not safe."""
    if not hasattr(os, "fork") or threading.active_count() > 1 or _cores() < 2:
        return None
    total = sum(size(p) for p in paths)
    if total < WORTH:
        return None
    first, taken = 0, 0
    while taken < total * RUNS_PART:
        taken += size(paths[first])
        first += 1
    later = paths[first:]
    if not later:
        return None
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # what is buffered is the run's, not written again by the fork
    parent = os.getpid()
    progress, said = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(progress)
        _run(derive, later, parent, said)
    os.close(said)
    return Helper(pid, later, progress)


def _run(derive: Derive, paths: list[Path], parent: int, said: int) -> None:
    """The fork's whole life: derive while the run still waits, saying when each file is done,
    then end without running anything of the run's (no exit handlers, no buffered output)."""
    code = 1
    try:
        quiet = Path(os.devnull).open("w")  # noqa: SIM115 - open until os._exit
        os.dup2(quiet.fileno(), 1)
        os.dup2(quiet.fileno(), 2)
        sys.stdout = sys.stderr = quiet  # where a stream stands for another descriptor
        derive(_announced(paths, parent, said))
        code = 0
    finally:
        os._exit(code)


def _announced(paths: list[Path], parent: int, said: int) -> Iterator[Path]:
    """The paths to derive, while the run waits; asked for the next one, the one before is done."""
    for path in paths:
        if os.getppid() != parent:
            return
        yield path
        os.write(said, b".")


def _cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1
