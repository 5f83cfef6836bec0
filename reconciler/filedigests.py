"""The SHA-256 of a repository's files, kept across runs and trusted while a file's stats hold.

A file whose stats (device, inode, size, modification and change times, type) are as recorded
keeps the digest recorded with them, without being read; any other file is read and hashed again
by the caller, which records what it found. So a run reads only the files that changed since the
last one, and a fresh checkout of the same bytes (new inodes and times) is hashed once, not
derived again.

A file changed in the last two seconds is recorded without its stats: another write within the
file system's clock tick could leave every stat as it was, so the next run hashes it again rather
than trust them. Each index is one cache entry (cache.py), outside the repository, holding the
names seen in the run that wrote it.
"""

from __future__ import annotations

import hashlib
import os
import time

from reconciler.cache import Cache, file_identity

# Files changed this recently are hashed on every run.
_RACY_NS = 2_000_000_000


class Digests:
    """One index of digests by file name, as recorded by the last run and as found by this one."""

    def __init__(self, files: Cache, of: str) -> None:
        self._files = files
        self._key = hashlib.sha256(of.encode(errors="surrogateescape")).hexdigest()
        found = files.get(self._key)
        self._before: dict[str, object] = found if isinstance(found, dict) else {}
        self.found: dict[str, tuple[str, str]] = {}  # this run's: name -> (identity, digest)
        self._recent = time.time_ns() - _RACY_NS

    def get(self, name: str, stats: os.stat_result) -> str | None:
        """The digest recorded for `name` with these stats; None if it must be read again."""
        before = self._before.get(name)
        if (
            isinstance(before, tuple)
            and len(before) == 2
            and before[0] == file_identity(stats)
            and isinstance(before[1], str)
        ):
            self.found[name] = before
            return before[1]
        return None

    def put(self, name: str, stats: os.stat_result, digest: str) -> None:
        """Record the digest of `name` as read while it had these stats."""
        racy = max(stats.st_mtime_ns, stats.st_ctime_ns) >= self._recent
        self.found[name] = ("" if racy else file_identity(stats), digest)

    def save(self) -> None:
        """Keep this run's index for the next run (an unchanged one is not written again)."""
        if self.found != self._before:
            self._files.put(self._key, self.found)
