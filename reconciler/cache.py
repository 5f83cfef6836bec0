"""A cache of work derived from files, so that a run reads again only what changed since the last.

An entry is keyed on everything its value was derived from: a manifest's entry on the file's bytes
and name, a media file's on its real path, size, inode and change times; and both on a stamp of the
code that derived them (pinops' version, the parsing and checking modules, the schemas, Python's
version). A changed file gets a new key, so it is always read again, and an entry is never used
by another version of pinops.

What a manifest file derives to (its pins' targets and problems: see derivations.py) is kept
too, so that a run redoes only the files that changed and those whose `_defaults.yaml`, data file
or media changed. The code is stamped by content (pinops' files, and the RECORD each library's
installer wrote), so a cache restored on another machine with the same code installed is used.

Entries live outside the repository, in $PINOPS_CACHE_DIR, else $XDG_CACHE_HOME/pinops, else
~/.cache/pinops (an empty PINOPS_CACHE_DIR turns the cache off): nothing a pull request commits can
plant an entry. Each entry is written into a new file of its own, and is read back only when its
checksum holds; anything wrong with an entry (half written, damaged) makes it a miss, never an
error.

An edited file, or a new pinops, leaves entries behind that nothing will read again. An entry's
modification time says when a run last used it (moved on at most once a day), and a run that
writes entries removes, at most once a day, those unused for `UNUSED_DAYS` days.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import marshal
import os
import stat
import sys
import time
from dataclasses import astuple, fields
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.mediaprobe import MediaInfo

log = logging.getLogger(__name__)

ENVIRONMENT = "PINOPS_CACHE_DIR"
# Entries no run has used for this long are removed.
UNUSED_DAYS = 30
_DAY = 24 * 3600.0
# The file whose modification time says when entries were last pruned.
_PRUNED = "pruned"
# A file of its own for each entry written: never one that exists, nor one a link leads to.
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_DIGEST = 32
_PACKAGE = Path(__file__).parent
# The code whose output is cached: a change to any of these makes every entry stale.
# Libraries whose behaviour shows in a plan, each by the distribution that installs it.
_LIBRARIES = {
    "yaml": "pyyaml",
    "_yaml": "pyyaml",
    "jsonschema": "jsonschema",
    "jsonschema_rs": "jsonschema_rs",
    "jinja2": "jinja2",
    "imagesize": "imagesize",
    "mutagen": "mutagen",
}
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
    from reconciler import schema

    libraries = " ".join(
        installed(name, _LIBRARIES[name]) for name in ("yaml", "_yaml", "jsonschema_rs")
    )
    digest = hashlib.sha256(f"{sys.version}\n{libraries}".encode())
    for name in _STAMPED:
        digest.update((_PACKAGE / name).read_bytes())
    for name in (schema.PIN_FILE, schema.CONFIG, schema.STATE):
        digest.update(schema.schema_text(name).encode())
    return digest.digest()


@cache
def pinops_stamp() -> str:
    """A digest of all the code of pinops: every file of the package and its schemas, the
    installed files of the libraries it uses, and Python's version."""
    digest = hashlib.sha256(sys.version.encode())
    schemas = _PACKAGE / "schemas"
    folders = [_PACKAGE, schemas if schemas.is_dir() else _PACKAGE.parent / "schemas"]
    for path in sorted(p for f in folders for p in f.rglob("*") if p.is_file()):
        if "__pycache__" not in path.parts:
            digest.update(f"{path.name} {path.stat().st_size}\n".encode())
            digest.update(path.read_bytes())
    for name in _LIBRARIES:
        digest.update(f"{name} {installed(name, _LIBRARIES[name])}\n".encode())
    return digest.hexdigest()


def installed(module: str, distribution: str) -> str:
    """What stands for the installed code of `module`, of the library `distribution`: the digest
    of the RECORD its installer wrote, which lists every file installed with its SHA-256, so that
    the same files installed on another machine (a fresh CI runner restoring the cache) stand for
    the same; else (not installed by an installer, or installed editable) the size, inode and
    times of its file."""
    spec = importlib.util.find_spec(module)
    origin = Path(spec.origin) if spec and spec.origin else None
    if origin is None or not origin.is_file():
        return "-"
    top = origin.parent.parent if origin.name == "__init__.py" else origin.parent
    listed = f"{origin.relative_to(top).as_posix()},".encode()
    for name in _dist_infos(top):
        if name.split("-", 1)[0].lower().replace(".", "_") == distribution:
            record = _record(top / name / "RECORD")
            if listed in record:
                return hashlib.sha256(record).hexdigest()
    return f"{origin} {file_identity(origin.stat())}"


@cache  # both stamps ask, and yaml and _yaml share one
def _record(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


@cache
def _dist_infos(folder: Path) -> list[str]:
    try:
        return [p.name for p in folder.iterdir() if p.name.endswith(".dist-info")]
    except OSError:
        return []


class Cache:
    """Entries in one namespace (e.g. "manifest"), stored under `root` (None: a cache that is
    always empty)."""

    def __init__(self, root: Path | None, namespace: str) -> None:
        self.base = root
        self.root = root / namespace if root else None
        self._folders: set[Path] = set()  # made already
        self._pruned = False  # whether prune() was asked: once a run, not once an entry

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

    def _name(self, key: str) -> str | None:
        """Where the entry under `key` lives, as text: a run after an edit reads thousands of
        entries, and a Path and a buffered file for each cost as much as the read itself."""
        return f"{self.root}{os.sep}{key[:2]}{os.sep}{key[2:]}" if self.root else None

    def get(self, key: str) -> Any | None:
        path = self._name(key)
        if path is None:
            return None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                found = os.fstat(fd)
                blob = os.read(fd, found.st_size)  # a short read fails the checksum: a miss
                if time.time() - found.st_mtime > _DAY:
                    with contextlib.suppress(OSError):  # a cache others own is still read
                        os.utime(fd)  # used: kept by prune
            finally:
                os.close(fd)
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
        name = self._name(key)
        if name is None:
            return
        path = Path(name)
        payload = marshal.dumps(value)
        try:
            if path.parent not in self._folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._folders.add(path.parent)
            # Written in place, into a new file: one a reader meets half written fails its
            # checksum (a miss), and O_EXCL never writes through an existing file or a link
            # planted in its place. A temporary file and a rename cost twice as much, at 20,000
            # entries for a catalogue of one pin per file.
            try:
                fd = os.open(path, _NEW, 0o600)
            except FileExistsError:  # an entry of another run, or something put in its place
                path.unlink()
                fd = os.open(path, _NEW, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(hashlib.sha256(payload).digest() + payload)
        except OSError as exc:
            log.debug("could not write the cache entry %s: %s", path, exc)
        if not self._pruned:
            self._pruned = True
            assert self.base is not None
            prune(self.base)


def prune(base: Path, now: float | None = None) -> None:
    """Remove the entries under `base` that no run has used for UNUSED_DAYS days, and the
    temporary files that writes of earlier versions, killed midway, left; at most once a day.
    Failures are only logged."""
    now = time.time() if now is None else now
    stamp = base / _PRUNED
    try:
        if now - stamp.stat().st_mtime < _DAY:
            return
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.debug("could not read %s: %s", stamp, exc)
        return
    try:
        stamp.touch()
        for entry in base.glob("*/??/*"):
            found = entry.lstat()
            temporary = entry.name.startswith(".")
            if now - found.st_mtime > (_DAY if temporary else UNUSED_DAYS * _DAY):
                entry.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("could not prune the cache in %s: %s", base, exc)


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
