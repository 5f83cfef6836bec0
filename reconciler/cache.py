"""A cache of work derived from files, so that a run reads again only what changed since the last.

An entry is keyed on everything its value was derived from: a manifest's entry on the file's bytes
and name, a media file's on its real path, size, inode and change times; and both on a stamp of the
code that derived them (pinops' version, the parsing and checking modules, the schemas, Python's
version). A changed file gets a new key, so it is always read again, and an entry is never used
by another version of pinops.

What a manifest file derives to (its pins' targets and warnings: see `Derived`) is kept too, so
that a run redoes only the files that changed and those whose `_defaults.yaml`, data file or media
changed.

Entries live outside the repository, in $PINOPS_CACHE_DIR, else $XDG_CACHE_HOME/pinops, else
~/.cache/pinops (an empty PINOPS_CACHE_DIR turns the cache off): nothing a pull request commits can
plant an entry. Each entry is written to a temporary file and renamed, and is read back only when
its checksum holds; anything wrong with an entry makes it a miss, never an error.

An edited file, or a new pinops, leaves entries behind that nothing will read again. An entry's
modification time says when a run last used it (moved on at most once a day), and a run that
writes entries removes, at most once a day, those unused for `UNUSED_DAYS` days.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.util
import json
import logging
import marshal
import os
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import astuple, dataclass, fields
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler import repofiles
    from reconciler.config import Config
    from reconciler.mediaprobe import MediaInfo
    from reconciler.providers.base import Capabilities

log = logging.getLogger(__name__)

ENVIRONMENT = "PINOPS_CACHE_DIR"
# Entries no run has used for this long are removed.
UNUSED_DAYS = 30
_DAY = 24 * 3600.0
# The file whose modification time says when entries were last pruned.
_PRUNED = "pruned"
_DIGEST = 32
_PACKAGE = Path(__file__).parent
# The code whose output is cached: a change to any of these makes every entry stale.
# Libraries whose behaviour shows in a plan; their installed files stand for their versions.
_LIBRARIES = ("yaml", "_yaml", "jsonschema", "jsonschema_rs", "jinja2", "imagesize", "mutagen")
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
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec else None
        found = Path(origin).stat() if origin and Path(origin).exists() else None
        digest.update(f"{name} {origin} {found and file_identity(found)}\n".encode())
    return digest.hexdigest()


class Cache:
    """Entries in one namespace (e.g. "manifest"), stored under `root` (None: a cache that is
    always empty)."""

    def __init__(self, root: Path | None, namespace: str) -> None:
        self.base = root
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
            with path.open("rb") as file:
                blob = file.read()
                if time.time() - os.fstat(file.fileno()).st_mtime > _DAY:
                    with contextlib.suppress(OSError):  # a cache others own is still read
                        os.utime(file.fileno())  # used: kept by prune
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
        assert self.base is not None
        prune(self.base)


def prune(base: Path, now: float | None = None) -> None:
    """Remove the entries under `base` that no run has used for UNUSED_DAYS days, and temporary
    files that writes killed midway left; at most once a day. Failures are only logged."""
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


# A dependency of a file's derivation found while deriving it: the file `declaring` (a name in
# the repository) writes `value`, which resolved to the real path `real`, whose content was
# `content` (a data file: the SHA-256 of its bytes; a medium: its file_identity).
Dependency = tuple[str, str, str, str]


@dataclass
class Derivation:
    """What one manifest file derived to (`records`: plain data, see desired.py), with the data
    files and media it was derived from besides its own bytes and its defaults'."""

    data_files: list[Dependency] = dataclasses.field(default_factory=list)
    media: list[Dependency] = dataclasses.field(default_factory=list)
    records: Any = None
    # What its templates spent of the run's budget: loop iterations, characters.
    spent: tuple[int, int] = (0, 0)


class Derived:
    """What each manifest file derived to in an earlier run, and whether it still holds.

    An entry's key holds what is known before the file is read: its name and bytes, the names and
    bytes of the `_defaults.yaml` files above it, the settings (pinops.yaml as read, and what
    each account's provider accepts) and the code (every file of pinops and the libraries it
    uses). What the file itself leads to is recorded in the entry and checked before the entry is
    used: each data file by the real path its name resolves to now and that file's bytes, each
    medium by its real path and its size, inode and times. Only files that derived no error are
    kept, so an error is always found afresh."""

    def __init__(
        self, config: Config, capabilities: Callable[[str], Capabilities], store: Cache
    ) -> None:
        self.config = config
        self.store = store
        providers = {name: capabilities(a.provider) for name, a in config.accounts.items()}
        self.settings = json.dumps([pinops_stamp(), _plain(config), _plain(providers)])
        self._resolved: dict[tuple[str, str, str], str | None] = {}
        self._contents: dict[tuple[str, str], str | None] = {}

    @classmethod
    def default(cls, config: Config, capabilities: Callable[[str], Capabilities]) -> Derived:
        return cls(config, capabilities, Cache.default("derived"))

    @property
    def on(self) -> bool:
        """Whether entries are kept (an empty PINOPS_CACHE_DIR turns the cache off)."""
        return self.store.root is not None

    def key(self, name: str, raw: bytes, defaults: list[tuple[str, bytes | None]]) -> str:
        parts: list[bytes | str] = [self.settings, name, raw]
        for file, content in defaults:
            parts += [file, b"-" if content is None else b"+" + content]
        return self.store.key(*parts)

    def keys(self, contents: dict[Path, bytes], defaults: str) -> dict[Path, str]:
        """The key of each manifest file whose `contents` were read; `defaults` names the
        defaults files, which have none of their own."""
        chains: dict[Path, list[tuple[str, bytes | None]]] = {}  # by folder

        def chain(folder: Path) -> list[tuple[str, bytes | None]]:
            if folder not in chains:
                top = folder in (self.config.pins_dir, folder.parent)
                own = folder / defaults
                mine = (self.config.relative(own), contents.get(own))
                chains[folder] = [mine] if top else [*chain(folder.parent), mine]
            return chains[folder]

        return {
            path: self.key(self.config.relative(path), content, chain(path.parent))
            for path, content in contents.items()
            if path.name != defaults
        }

    def get(self, key: str) -> Derivation | None:
        """The entry under `key`, if its data files and media are still as they were."""
        found = self.store.get(key)
        if not (isinstance(found, tuple) and len(found) == 4):
            return None
        data_files, media, records, spent = found
        try:
            steps, characters = spent
            for dependency in data_files:
                if not self._holds(dependency, "data"):
                    return None
            for dependency in media:
                if not self._holds(dependency, "media"):
                    return None
        except (TypeError, ValueError):  # not the shape written
            return None
        return Derivation(list(data_files), list(media), records, (int(steps), int(characters)))

    def put(self, key: str, derivation: Derivation) -> None:
        self.store.put(
            key,
            (
                tuple(derivation.data_files),
                tuple(derivation.media),
                derivation.records,
                derivation.spent,
            ),
        )

    def _holds(self, dependency: Dependency, kind: str) -> bool:
        declaring, value, real, content = dependency
        return self.resolve(declaring, value, kind) == real and self.content(real, kind) == content

    @cached_property
    def resolver(self) -> repofiles.Resolver:
        """The run's resolver of paths written in manifests, shared with the checks."""
        from reconciler import repofiles

        return repofiles.Resolver(self.config.root)

    def resolve(self, declaring: str, value: str, kind: str) -> str | None:
        """The real path `value`, written in the file `declaring`, names now; None if none."""
        from reconciler import repofiles

        memo = (declaring.rpartition("/")[0], value, kind)  # names resolve alike in a folder
        if memo not in self._resolved:
            try:
                found = self.resolver.resolve(
                    self.config.root / declaring, value, "data" if kind == "data" else "media"
                )
                self._resolved[memo] = str(found)
            except repofiles.MediaPathError:
                self._resolved[memo] = None
        return self._resolved[memo]

    def content(self, real: str, kind: str) -> str | None:
        """A data file's SHA-256, a medium's file_identity; None if it cannot be read."""
        memo = (real, kind)
        if memo not in self._contents:
            try:
                if kind == "data":
                    self._contents[memo] = hashlib.sha256(Path(real).read_bytes()).hexdigest()
                else:
                    self._contents[memo] = file_identity(Path(real).stat())
            except OSError:
                self._contents[memo] = None
        return self._contents[memo]


def _plain(value: Any) -> Any:
    """`value` as JSON that tells apart any two different settings, the same in every process
    (sets sorted, as their order follows the process's string hashing)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        named = [[f.name, _plain(getattr(value, f.name))] for f in fields(value)]
        return [type(value).__name__, named]
    if isinstance(value, Mapping):
        return ["map", [[_plain(k), _plain(v)] for k, v in value.items()]]
    if isinstance(value, set | frozenset):
        return ["set", sorted(json.dumps(_plain(v)) for v in value)]
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return [type(value).__name__, repr(value)]
