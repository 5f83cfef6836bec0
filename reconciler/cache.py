"""A cache of work derived from files, so that a run reads again only what changed since the last.

An entry is keyed on everything its value was derived from: a manifest's entry on the file's bytes
and name, a media file's on its real path, size, inode and change times; and both on a stamp of the
code that derived them (pinops' version, the parsing and checking modules, the schemas, Python's
version). A changed file gets a new key, so it is always read again, and an entry is never used
by another version of pinops.

Entries live outside the repository, in $PINOPS_CACHE_DIR, else $XDG_CACHE_HOME/pinops, else
~/.cache/pinops (an empty PINOPS_CACHE_DIR turns the cache off): nothing a pull request commits can
plant an entry. Each entry is written to a temporary file and renamed, and is read back only when
its checksum holds; anything wrong with an entry makes it a miss, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import marshal
import os
import stat
import sys
import tempfile
from dataclasses import astuple, fields
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.mediaprobe import MediaInfo

log = logging.getLogger(__name__)

ENVIRONMENT = "PINOPS_CACHE_DIR"
_DIGEST = 32
_PACKAGE = Path(__file__).parent
# The code whose output is cached: a change to any of these makes every entry stale.
_STAMPED = (
    "cache.py",
    "yamlsafe.py",
    "schema.py",
    "manifest.py",
    "mediaprobe.py",
    "repofiles.py",
)


def folder() -> Path | None:
    """Where entries live, or None when the cache is off."""
    chosen = os.environ.get(ENVIRONMENT)
    if chosen is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pinops"


@cache
def code_stamp() -> bytes:
    """A digest of the code, libraries and schemas that produce cached values, and of Python's
    version (marshal's format may change with it)."""
    import jsonschema_rs
    import yaml

    from reconciler import schema

    # The compiled validator's file stands for its version, which costs a slow metadata lookup.
    native = getattr(jsonschema_rs, "jsonschema_rs", jsonschema_rs)
    validator = Path(native.__file__ or "")
    found = validator.stat()
    libraries = f"{yaml.__version__} {validator.name} {found.st_size} {found.st_mtime_ns}"
    digest = hashlib.sha256(f"{sys.version}\n{libraries}".encode())
    for name in _STAMPED:
        digest.update((_PACKAGE / name).read_bytes())
    for name in (schema.PIN_FILE, schema.CONFIG, schema.STATE):
        digest.update(schema.schema_text(name).encode())
    return digest.digest()


class Cache:
    """Entries in one namespace (e.g. "manifest"), stored under `root` (None: a cache that is
    always empty)."""

    def __init__(self, root: Path | None, namespace: str) -> None:
        self.root = root / namespace if root else None

    @classmethod
    def default(cls, namespace: str) -> Cache:
        return cls(folder(), namespace)

    @staticmethod
    def key(*parts: bytes | str) -> str:
        """The key for a value derived from `parts` by the current code."""
        digest = hashlib.sha256(code_stamp())
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
        return digest.hexdigest()

    def _path(self, key: str) -> Path | None:
        return self.root / key[:2] / key[2:] if self.root else None

    def get(self, key: str) -> Any | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        payload = blob[_DIGEST:]
        if len(blob) <= _DIGEST or hashlib.sha256(payload).digest() != blob[:_DIGEST]:
            log.debug("ignoring the damaged cache entry %s", path)
            return None
        try:
            return marshal.loads(payload)
        except (EOFError, ValueError, TypeError):
            return None

    def put(self, key: str, value: Any) -> None:
        """Store `value` (plain data: dicts, lists, tuples, strings, numbers); failures to write
        are only logged, as the cache is an optimisation."""
        path = self._path(key)
        if path is None:
            return
        payload = marshal.dumps(value)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(hashlib.sha256(payload).digest() + payload)
                Path(temp).replace(path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.debug("could not write the cache entry %s: %s", path, exc)


def media_info(path: Path, store: Cache, root: Path) -> MediaInfo:
    """mediaprobe.inspect_media, remembered across runs while the file keeps its size, inode and
    times, so that unchanged media are not read and hashed again.

    The change time is in the key too: unlike the modification time, no tool can set it back.
    """
    from reconciler import mediaprobe

    try:
        before = path.stat()
    except OSError:
        return mediaprobe.inspect_media(path, root)  # which says what is wrong
    key = store.key(str(path), file_identity(before))
    hit = store.get(key)
    if isinstance(hit, tuple) and len(hit) == len(fields(mediaprobe.MediaInfo)):
        return mediaprobe.MediaInfo(*hit)
    info = mediaprobe.inspect_media(path, root)
    with contextlib.suppress(OSError):
        if file_identity(path.stat()) == file_identity(before):  # not changed while it was read
            store.put(key, astuple(info))
    return info


def file_identity(found: os.stat_result) -> str:
    return (
        f"{found.st_dev} {found.st_ino} {found.st_size} {found.st_mtime_ns} {found.st_ctime_ns} "
        f"{stat.S_IFMT(found.st_mode)}"
    )
