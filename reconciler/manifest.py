"""Manifest files under pins/: discovery, parsing, schema checks, and the `Pin` they declare."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reconciler import repofiles, schema, yamlsafe
from reconciler.cache import Cache
from reconciler.config import Config
from reconciler.errors import InputError, Location, Problem

DEFAULTS_FILE = "_defaults.yaml"
SUFFIXES = (".yaml", ".yml")
MAX_PINS_PER_FILE = 10_000
MAX_BYTES = yamlsafe.MAX_BYTES
_COPY_IT = "copy the file into the repository instead of linking to it"
# The first line of content starts a block sequence: the file holds a list, as a YAML data file of
# `generate:` does and no manifest can.
_LIST = re.compile(rb"(?:[ \t]*(?:#[^\n]*)?\r?\n)*-(?:[ \t\r\n]|$)")


@dataclass(frozen=True)
class Manifest:
    """One parsed, schema-checked manifest file."""

    path: Path
    document: yamlsafe.Document

    @property
    def name(self) -> str:
        return self.document.file

    @property
    def is_defaults(self) -> bool:
        return self.path.name == DEFAULTS_FILE

    @property
    def data(self) -> dict[str, Any]:
        return self.document.data if isinstance(self.document.data, dict) else {}


@dataclass(frozen=True)
class Pin:
    """A pin as declared, after defaults and templates: each field with the place its value (or
    its template) came from. A generated pin says which row of which data file it came from."""

    id: str
    location: Location
    fields: dict[str, Any]
    origins: dict[str, Location]
    source: str = ""


def discover(pins_dir: Path) -> list[Path]:
    """Manifest files below `pins_dir`, in a stable order; hidden files and folders are skipped."""
    if not pins_dir.is_dir():
        return []
    found = []
    folders = [pins_dir]
    while folders:
        folder = folders.pop()
        # The entries' types come with the listing: only a symlink is stat'ed (is_file follows it).
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    folders.append(folder / entry.name)  # a linked folder is not entered
                elif entry.name.endswith(SUFFIXES) and entry.is_file():
                    found.append(folder / entry.name)
    return sorted(found)


@dataclass(frozen=True)
class _Read:
    """A file under pins/ as read: its document (None when it could not be parsed) and its
    problems (None while it is unchecked); `key` is its cache entry's, None on a hit; `raw` its
    bytes while they are not parsed yet."""

    path: Path
    document: yamlsafe.Document | None
    problems: list[Problem] | None
    key: str | None = None
    raw: bytes | None = None


def load(config: Config) -> tuple[list[Manifest], list[Problem]]:
    """Parse and schema-check every manifest; problems of all files are collected, not raised.

    A YAML file that a `generate:` names as its data is no manifest: it is left unparsed, for
    generate.py to read. Files that hold a list (as data files do) are parsed only once the data
    files the others name are known. A file whose bytes were parsed and checked before is taken
    from the cache instead.
    """
    paths = discover(config.pins_dir)
    loader = Loader(config, paths, {}, {})
    manifests = [m for m in map(loader.take, paths) if m is not None]
    return manifests, loader.problems


class Loader:
    """The manifest files of one run, read so that few documents are held at once: first the
    `_defaults.yaml` files and those that may name a data file (every file holding the word
    `generate`, or a backslash, which could spell it), then each other file when it is taken.

    Files `known` already (from what they were derived to in an earlier run) are not read: for
    them, `known` gives the data files they name. A file in `contents` is taken as those bytes,
    read once for all that is derived from it. Problems are collected, not raised."""

    def __init__(
        self,
        config: Config,
        paths: list[Path],
        known: dict[Path, tuple[Path, ...]],
        contents: dict[Path, bytes],
    ) -> None:
        self.config = config
        self.contents = contents
        self.cache = Cache.default("manifest")
        self.paths = paths
        self.found: dict[Path, list[Problem]] = {}
        unknown = [p for p in paths if p not in known]
        first = [p for p in unknown if not self._later(p)]
        self.later = {p for p in unknown if self._later(p)}
        files = [_read(config, p, self.cache, contents.get(p)) for p in first]
        self.data_files = _data_files(config, files)
        for named in known.values():
            self.data_files.update(named)
        # Read, parsed and checked: the defaults files (which stay) and those read first.
        self.manifests: dict[Path, Manifest] = {}
        for file in files:
            found = self._checked(file)
            if found is not None:
                self.manifests[file.path] = found

    @property
    def problems(self) -> list[Problem]:
        """The problems of the files checked so far, in file order."""
        return [p for path in self.paths for p in self.found.get(path, ())]

    @property
    def defaults(self) -> list[Manifest]:
        return [m for m in self.manifests.values() if m.is_defaults]

    def take(self, path: Path) -> Manifest | None:
        """The manifest at `path`, if it is one and valid; each is taken once (a defaults file's
        is kept for the others)."""
        if path in self.later:
            self.later.discard(path)
            return self._checked(_read(self.config, path, self.cache, self.contents.get(path)))
        found = self.manifests.get(path)
        if found is not None and not found.is_defaults:
            del self.manifests[path]
        return found

    def take_unread(self, path: Path) -> Manifest | None:
        """As `take`, for a file of `paths` left unread as known."""
        return self._checked(_read(self.config, path, self.cache, self.contents.get(path)))

    def is_data(self, path: Path) -> bool:
        return bool(self.data_files) and path.resolve() in self.data_files

    def _later(self, path: Path) -> bool:
        raw = self.contents.get(path)
        return (
            raw is not None
            and path.name != DEFAULTS_FILE
            and b"generate" not in raw
            and b"\\" not in raw
        )

    def _checked(self, file: _Read) -> Manifest | None:
        if self.is_data(file.path):
            return None
        if file.raw is not None:
            file = _parsed(self.config, file)
        found = file.problems
        if found is None:
            assert file.document is not None
            found = _check(file.path, file.document)
        if file.key is not None:
            self.cache.put(file.key, _stored(file.document, found))
        self.found[file.path] = found
        if file.document is not None and not found:
            return Manifest(file.path, file.document)
        return None


def data_file(config: Config, manifest: Manifest) -> Path | None:
    """The real path of the data file the manifest's `generate:` names, if it can be used."""
    data = manifest.data
    spec = data.get("generate")
    if isinstance(spec, dict) and isinstance(spec.get("from"), str):
        try:
            return repofiles.resolve_repo_file(config.root, manifest.path, spec["from"], "data")
        except repofiles.MediaPathError:
            return None  # reported when the rows are read
    return None


def _read(config: Config, path: Path, cache: Cache, raw: bytes | None) -> _Read:
    name = config.relative(path)
    try:
        raw = read_bytes(config, path) if raw is None else raw
    except repofiles.OutsideRepository as exc:
        message = f"the file is a symlink to {exc.real}, outside the repository"
        return _Read(path, None, [Problem(Location(name), message, _COPY_IT)])
    except RuntimeError:  # a symlink loop, before Python 3.13
        return _Read(path, None, [Problem(Location(name), "the file is a symlink loop", _COPY_IT)])
    except repofiles.Unreadable as exc:
        return _Read(path, None, [Problem(Location(name), exc.message, exc.hint)])
    key = cache.key(name, raw)
    hit = cache.get(key)
    if hit is not None:
        return _Read(path, *_restored(name, hit))
    unparsed = _Read(path, None, None, key, raw)
    return unparsed if _LIST.match(raw) else _parsed(config, unparsed)


def _parsed(config: Config, file: _Read) -> _Read:
    assert file.raw is not None
    name = config.relative(file.path)
    try:
        return replace(file, document=yamlsafe.load(file.raw, name), raw=None)
    except InputError as exc:
        problem = Problem(exc.location or Location(name), exc.message, exc.hint)
        return replace(file, problems=[problem], raw=None)


def read_bytes(config: Config, path: Path) -> bytes:
    """The bytes of a file under pins/, if it lies inside the repository and within MAX_BYTES;
    else repofiles' errors (and RuntimeError for a symlink loop before Python 3.13)."""
    return repofiles.read_bounded(config.root, repofiles.confine(config.root, path), MAX_BYTES)


def _data_files(config: Config, files: list[_Read]) -> set[Path]:
    """The real paths of the data files that the files' `generate:` blocks name."""
    found = set()
    for file in files:
        if file.document is not None:
            named = data_file(config, Manifest(file.path, file.document))
            if named is not None:
                found.add(named)
    return found


def _stored(document: yamlsafe.Document | None, problems: list[Problem]) -> Any:
    """A parse result as plain data for the cache."""
    parsed = (document.data, document.values, document.keys) if document else None
    found = [(p.location.line, p.location.column, p.message, p.hint, p.severity) for p in problems]
    return parsed, found


def _restored(name: str, entry: Any) -> tuple[yamlsafe.Document | None, list[Problem]]:
    parsed, found = entry
    document = yamlsafe.Document(name, *parsed) if parsed else None
    problems = [
        Problem(Location(name, line, column), message, hint, severity)
        for line, column, message, hint, severity in found
    ]
    return document, problems


def _check(path: Path, document: yamlsafe.Document) -> list[Problem]:
    data = document.data
    if data is None:
        return []
    if not isinstance(data, dict):
        return [
            Problem(
                document.location(()),
                "a manifest must be a mapping",
                "start with `id:` for one pin, or `pins:` for a list",
            )
        ]
    if path.name == DEFAULTS_FILE:
        definition = "folderDefaults"
    elif "id" in data:
        definition = "pin"
    else:
        definition = "pinList"
    pins = data.get("pins")
    if isinstance(pins, list) and len(pins) > MAX_PINS_PER_FILE:
        return [
            Problem(
                document.location(("pins",)),
                f"the file declares {len(pins):,} pins; the limit is {MAX_PINS_PER_FILE:,}",
                "split it into several files",
            )
        ]
    return schema.check(data, schema.PIN_FILE, definition, document)
