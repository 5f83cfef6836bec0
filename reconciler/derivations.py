"""What each manifest file derived to in an earlier run, kept in the cache, and whether it still
holds: the inputs an entry's key cannot hold (the data files and media a file names) are recorded
in the entry and compared before it is used."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.cache import Cache, file_identity, media_info, pinops_stamp

if TYPE_CHECKING:
    from reconciler import repofiles
    from reconciler.config import Config
    from reconciler.providers.base import Capabilities


# A dependency of a file's derivation found while deriving it: the file `declaring` (a name in
# the repository) writes `value`, which resolved to the real path `real`, whose content was
# `content` (a data file: the SHA-256 of its bytes; a medium: its file_identity, a line break and
# the SHA-256 of its bytes, or nothing after the line break when it could not be read as a medium).
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

    An entry's key holds what is known before the file is read: its name and the SHA-256 of its
    bytes (taken without reading it while its stats hold: filedigests.py), the names and digests
    of the `_defaults.yaml` files above it, the settings (pinops.yaml as read, and what
    each account's provider accepts) and the code (every file of pinops and the libraries it
    uses). What the file itself leads to is recorded in the entry and checked before the entry is
    used: each data file by the real path its name resolves to now and that file's bytes, each
    medium by its real path and its size, inode and times, else its bytes. So a fresh checkout of
    the same commit at the same place, whose files all have new inodes and times (a CI runner that
    restored the cache), takes every entry whose media hold the same bytes, each medium hashed
    once."""

    def __init__(
        self, config: Config, capabilities: Callable[[str], Capabilities], store: Cache
    ) -> None:
        self.config = config
        self.store = store
        providers = {name: capabilities(a.provider) for name, a in config.accounts.items()}
        self.settings = json.dumps([pinops_stamp(), _plain(config), _plain(providers)])
        self._resolved: dict[tuple[str, str, str], str | None] = {}
        self._contents: dict[tuple[str, str], str | None] = {}
        self._digests: dict[str, str | None] = {}
        self.media_store = Cache(store.base, "media")

    @classmethod
    def default(cls, config: Config, capabilities: Callable[[str], Capabilities]) -> Derived:
        return cls(config, capabilities, Cache.default("derived"))

    @property
    def on(self) -> bool:
        """Whether entries are kept (an empty PINOPS_CACHE_DIR turns the cache off)."""
        return self.store.root is not None

    def key(self, name: str, digest: str, defaults: list[tuple[str, str | None]]) -> str:
        parts: list[str] = [self.settings, name, digest]
        for file, content in defaults:
            parts += [file, "-" if content is None else "+" + content]
        return self.store.key(*parts)

    def keys(self, digests: dict[Path, str], defaults: str) -> dict[Path, str]:
        """The key of each manifest file by the SHA-256 of its bytes (`digests`, with those of
        the defaults files, which have no key of their own; `defaults` names them)."""
        chains: dict[Path, list[tuple[str, str | None]]] = {}  # by folder

        def chain(folder: Path) -> list[tuple[str, str | None]]:
            if folder not in chains:
                top = folder in (self.config.pins_dir, folder.parent)
                own = folder / defaults
                mine = (self.config.relative(own), digests.get(own))
                chains[folder] = [mine] if top else [*chain(folder.parent), mine]
            return chains[folder]

        return {
            path: self.key(self.config.relative(path), digest, chain(path.parent))
            for path, digest in digests.items()
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
        if not isinstance(content, str) or self.resolve(declaring, value, kind) != real:
            return False
        if kind == "data":
            return self.content(real, kind) == content
        identity, _, digest = content.partition("\n")
        if self.content(real, kind) == identity:
            return True
        return bool(digest) and self.digest(real) == digest

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

    def digest(self, real: str) -> str | None:
        """A medium's SHA-256 (remembered in the media cache while it keeps its size, inode and
        times); None if it cannot be read as a medium."""
        from reconciler import mediaprobe, repofiles

        if real not in self._digests:
            try:
                info = media_info(Path(real), self.media_store, self.config.root)
                self._digests[real] = info.sha256
            except (mediaprobe.MediaTypeError, repofiles.MediaPathError):
                self._digests[real] = None
        return self._digests[real]

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
