"""The desired pins: manifests expanded and checked (pinchecks.py), file by file (pinrecords.py),
resolved into one publish target per board.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from reconciler import (
    derivations,
    manifest,
    pinrecords,
    prederive,
    repofiles,
)
from reconciler.cache import Cache
from reconciler.config import Config
from reconciler.derivations import Derived
from reconciler.errors import ValidationFailed
from reconciler.filedigests import Digests
from reconciler.pinchecks import Checker
from reconciler.providers.base import Capabilities
from reconciler.targets import Desired

DEFAULTS = manifest.DEFAULTS_FILE


def load(config: Config, capabilities: Callable[[str], Capabilities]) -> Desired:
    """Read, expand and check every manifest; raise ValidationFailed listing every error.

    A file whose inputs are as in an earlier run that kept what it derived to (its problems
    included) is not read again: that is taken from the cache (derivations.Derived says which
    inputs are compared, pinrecords.Files.derive which files are kept).
    """
    derived = Derived.default(config, capabilities)
    paths = manifest.discover(config.pins_dir)
    digests, contents = _digests(config, derived, paths)
    keys = derived.keys(digests, DEFAULTS)
    known = _found(derived, keys, keys)

    def read(chosen: Iterable[Path]) -> None:
        """Read the files to derive that were left unread, as their stats were as recorded."""
        unread = [p for p in chosen if p not in contents]
        for path, raw in _contents(derived.resolver, unread).items():
            contents[path] = raw
            if _sha256(raw) != digests[path]:
                del keys[path]  # changed with its stats kept: derived, but kept under no key

    read(p for p in keys if p not in known)
    loader = manifest.Loader(config, paths, _named(known), contents)
    if known and any(loader.is_data(p) for p in paths if p.name == DEFAULTS):
        # A _defaults.yaml that a generate: reads as data is no defaults file: rare enough to
        # derive every file afresh rather than tell which entries it changes.
        known = {}
        read(keys)
        loader = manifest.Loader(config, paths, {}, contents)
    run = pinrecords.Files(config, Checker(config, capabilities, [], derived), loader.defaults)

    def derive(path: Path, files: pinrecords.Files, source: manifest.Manifest | None) -> None:
        if source is not None and not source.is_defaults:
            derivation = files.derive(source)
            if derivation is not None and path in keys:
                derived.put(keys[path], derivation)

    def ahead(chosen: Iterable[Path]) -> None:  # in the second process: entries for the cache
        files = pinrecords.Files(config, Checker(config, capabilities, [], derived), run.defaults)
        for path in chosen:
            derive(path, files, loader.take(path))

    # Files read only when taken, none of them derived before: half of them go to a second
    # process if it pays (prederive.py); the run takes what that derived from the cache.
    fresh = [p for p in paths if p in loader.later and p not in known and p in keys]
    helper = prederive.start(fresh, lambda p: len(contents[p]), ahead) if derived.on else None

    def take(path: Path) -> None:
        entry = known.pop(path, None)
        if entry is None and helper is not None and path in helper.paths:
            helper.wait_for(path)  # done: what the second process kept of it is in the cache
            entry = derived.get(keys[path])
        if entry and not loader.is_data(path):
            if run.spend(entry.spent):
                run.merged.add_known(entry.records)
                return
            # The templates' budget is the run's: what this file spent once may now go over it,
            # and where it does is found only by expanding it again. Its entry stays as it was.
            keys.pop(path, None)
            derive(path, run, loader.take_unread(path))
        else:
            derive(path, run, loader.take(path))

    try:
        for path in paths:
            take(path)
            contents.pop(path, None)  # taken: a large repository's bytes are not all held at once
    finally:
        if helper is not None:
            helper.stop()
    problems = loader.problems + run.expansion + run.checker.problems + run.merged.problems
    problems.sort(key=lambda p: p.location)
    if any(p.severity == "error" for p in problems):
        raise ValidationFailed(problems)
    return Desired(run.merged.targets, problems, run.merged.absent)


def _digests(
    config: Config, derived: Derived, paths: list[Path]
) -> tuple[dict[Path, str], dict[Path, bytes]]:
    """The SHA-256 of each file that can be read (the others are read again, to say why not),
    and the bytes of those read: all that is derived from a file in this run is derived from
    these bytes, and keyed on their digest. A plain file whose stats are as an earlier run
    recorded them is not read (filedigests.py); `_defaults.yaml` files always are."""
    index = Digests(Cache(derived.store.base, "files"), f"manifests of {config.root}")
    digests: dict[Path, str] = {}
    trusted: dict[Path, tuple[str, os.stat_result]] = {}  # by path: its name, its stats
    for path in paths:
        if path.name == DEFAULTS:
            continue
        with contextlib.suppress(OSError):
            stats = os.lstat(path)
            if stat.S_ISREG(stats.st_mode):
                name = config.relative(path)
                trusted[path] = (name, stats)
                found = index.get(name, stats)
                if found is not None:
                    digests[path] = found
    contents = _contents(derived.resolver, [p for p in paths if p not in digests])
    for path, raw in contents.items():
        digests[path] = _sha256(raw)
        if path in trusted:  # a link is read through every time: its stats are not its target's
            index.put(*trusted[path], digests[path])
    index.save()
    return {p: digests[p] for p in paths if p in digests}, contents


def _contents(resolver: repofiles.Resolver, paths: list[Path]) -> dict[Path, bytes]:
    """The bytes of each file that can be read (the others are read again, to say why not)."""
    contents = {}
    for path in paths:
        try:
            contents[path] = resolver.read(path, manifest.MAX_BYTES)
        except (repofiles.OutsideRepository, repofiles.Unreadable, RuntimeError):
            continue
    return contents


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _found(
    derived: Derived, keys: dict[Path, str], paths: Iterable[Path]
) -> dict[Path, derivations.Derivation]:
    return {path: found for path in paths if (found := derived.get(keys[path]))}


def _named(known: dict[Path, derivations.Derivation]) -> dict[Path, tuple[Path, ...]]:
    return {path: tuple(Path(d[2]) for d in entry.data_files) for path, entry in known.items()}
