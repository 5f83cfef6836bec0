"""What the pins of each manifest file derive to: expanded and checked file by file, merged across
files in file order, and kept as plain records in the cache (derivations.Derived): per pin its id,
location, the row it was generated from, whether it is marked absent, its targets and warnings.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from reconciler import derivations, jinjabounds, templating
from reconciler.config import Config
from reconciler.errors import Location, Problem
from reconciler.manifest import Manifest, Pin, data_file
from reconciler.pinchecks import Checker
from reconciler.pinfields import PinFields
from reconciler.providers.base import Media
from reconciler.targets import Target

_FIELDS = tuple(f.name for f in fields(PinFields))
_MEDIA = tuple(f.name for f in fields(Media))


class Files:
    """The manifest files of one run, expanded and checked in file order, sharing one budget for
    their templates."""

    def __init__(self, config: Config, checker: Checker, defaults: list[Manifest]) -> None:
        self.config = config
        self.checker = checker
        self.defaults = defaults
        self.budget = jinjabounds.Budget()
        self.merged = Merged()
        self.expansion: list[Problem] = []

    def spend(self, spent: tuple[int, int]) -> bool:
        """Charge the budget what a remembered file's templates spent; False if over it."""
        steps, characters = self.budget.steps + spent[0], self.budget.characters + spent[1]
        if steps > jinjabounds.LIMITS.steps or characters > jinjabounds.LIMITS.characters:
            return False
        self.budget.steps, self.budget.characters = steps, characters
        return True

    def derive(self, source: Manifest) -> derivations.Derivation | None:
        """Expand and check the pins of one file; what to remember of it (its pins' problems
        included), None if what it found depends on more than its inputs (an id also declared in
        an earlier file, an error said once for several files, a template error, which may be
        the run's budget) or an input changed, or was missing, while it was read."""
        derivation = derivations.Derivation()
        named = data_file(self.config, source)
        if named is not None:
            declaring = self.config.relative(source.path)
            # Hashed before it is read: a change meanwhile makes the entry stale, never wrong.
            digest = self.checker.derived.content(str(named), "data") or ""
            value = source.data["generate"]["from"]
            derivation.data_files.append((declaring, value, str(named), digest))
        steps, characters = self.budget.steps, self.budget.characters
        pins, found = templating.expand([*self.defaults, source], self.config, self.budget)
        self.expansion += found
        derivation.spent = (self.budget.steps - steps, self.budget.characters - characters)
        self.checker.media, self.checker.entangled = set(), False
        derivation.records, alone = self.merged.add_fresh(pins, self.checker)
        derivation.media = sorted(self.checker.media)
        dependencies = derivation.data_files + derivation.media
        return derivation if alone and not found and all(d[3] for d in dependencies) else None


class Merged:
    """The targets of every file, in file order; an id declared twice is an error, and only its
    first declaration counts."""

    def __init__(self) -> None:
        self.targets: dict[str, Target] = {}
        self.absent: dict[str, Location] = {}
        self.problems: list[Problem] = []
        self.seen: dict[str, tuple[Location, str]] = {}

    def _first(self, pin_id: str, location: Location, source: str) -> bool:
        first = self.seen.get(pin_id)
        if first is None:
            self.seen[pin_id] = (location, source)
            return True
        this = (location, source)
        for (here, at), (there, origin) in ((this, first), (first, this)):
            elsewhere = f"{there}, {origin}" if origin else there
            message = f"duplicate id '{pin_id}' (also at {elsewhere})"
            message = f"{at}: {message}" if at else message  # a generated pin's row
            self.problems.append(Problem(here, message, "ids must be unique"))
        return False

    def add_known(self, records: Any) -> None:
        for pin_id, where, source, absent, targets, warnings in records:
            place = location(where)
            if not self._first(pin_id, place, source):
                continue
            self.problems += [problem(p) for p in warnings]
            if absent:
                self.absent[pin_id] = place
            for plain in targets:
                found = target(plain)
                self.targets[found.key] = found

    def add_fresh(self, pins: list[Pin], checker: Checker) -> tuple[list[Any], bool]:
        """Check and add the pins of one file; their records, and whether those say all the file
        has to say whatever the other files hold (no id declared before, no problem said once for
        several files)."""
        records: list[Any] = []
        alone = True
        for pin in pins:
            if not self._first(pin.id, pin.location, pin.source):
                alone = False
                continue
            if pin.fields.get("state") == "absent":
                self.absent[pin.id] = pin.location
                records.append((pin.id, _where(pin.location), pin.source, True, [], []))
                continue
            before = len(checker.problems)
            targets = checker.targets(pin)
            found = checker.problems[before:]
            alone = alone and not checker.entangled
            for made in targets:
                self.targets[made.key] = made
            plain = [plain_target(t) for t in targets]
            warnings = [(_where(p.location), p.message, p.hint, p.severity, p.rule) for p in found]
            records.append((pin.id, _where(pin.location), pin.source, False, plain, warnings))
        return records, alone


def plain_target(target: Target) -> Any:
    """A target as plain data for an entry (see `target`)."""
    published = target.fields
    return (
        target.key,
        target.pin,
        _where(target.location),
        tuple(_plain_value(getattr(published, name)) for name in _FIELDS),
        target.publish_at.isoformat() if target.publish_at else None,
        target.content_hash,
        target.board_id,
        _where(target.board_location) if target.board_location else None,
    )


def target(plain: Any) -> Target:
    key, pin, where, published, publish_at, content_hash, board_id, board_where = plain
    values: list[Any] = [_medium(v) if type(v) is list else v for v in published]
    return Target(
        key=key,
        pin=pin,
        location=location(where),
        fields=PinFields(*values),
        publish_at=datetime.fromisoformat(publish_at) if publish_at else None,
        content_hash=content_hash,
        board_id=board_id,
        board_location=location(board_where) if board_where else None,
    )


def _where(location: Location) -> tuple[str, int, int]:
    return (location.file, location.line, location.column)


def location(plain: Any) -> Location:
    return Location(*plain)


def problem(plain: Any) -> Problem:
    where, *rest = plain
    return Problem(location(where), *rest)


def _plain_value(value: Any) -> Any:
    return _plain_medium(value) if isinstance(value, Media) else value


@lru_cache(maxsize=1024)
def _plain_medium(medium: Media) -> list[str | None]:
    """A medium as plain data, made once however many targets show it: a list, which no other
    field's value is."""
    return [None if v is None else str(v) for v in (getattr(medium, n) for n in _MEDIA)]


@lru_cache(maxsize=1024)
def _media_of(values: tuple[str | None, ...]) -> Media:
    """One record per medium, shared by every target that shows it."""
    kind, path, url, content_type, sha256, root, file, served = values
    return Media(
        kind,  # type: ignore[arg-type]
        Path(path) if path else None,
        url,
        content_type,
        sha256,
        Path(root) if root else None,
        file,
        served,
    )


def _medium(values: list[str | None]) -> Media:
    return _media_of(tuple(values))
