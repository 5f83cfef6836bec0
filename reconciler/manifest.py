"""Manifest files under pins/: discovery, parsing, schema checks, and the `Pin` they declare."""

from __future__ import annotations

from dataclasses import dataclass
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
    found = [
        path
        for path in pins_dir.rglob("*")
        if path.suffix in SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(pins_dir).parts)
        and path.is_file()
    ]
    return sorted(found)


def load(config: Config) -> tuple[list[Manifest], list[Problem]]:
    """Parse and schema-check every manifest; problems of all files are collected, not raised.

    A file whose bytes were parsed and checked before is taken from the cache instead.
    """
    manifests: list[Manifest] = []
    problems: list[Problem] = []
    parsed = Cache.default("manifest")
    for path in discover(config.pins_dir):
        name = config.relative(path)
        try:
            raw = repofiles.read_bounded(
                config.root, repofiles.confine(config.root, path), MAX_BYTES
            )
        except repofiles.OutsideRepository as exc:
            message = f"the file is a symlink to {exc.real}, outside the repository"
            problems.append(Problem(Location(name), message, _COPY_IT))
            continue
        except RuntimeError:  # a symlink loop, before Python 3.13
            problems.append(Problem(Location(name), "the file is a symlink loop", _COPY_IT))
            continue
        except repofiles.Unreadable as exc:
            problems.append(Problem(Location(name), exc.message, exc.hint))
            continue
        key = parsed.key(name, raw)
        hit = parsed.get(key)
        if hit is not None:
            document, found = _restored(name, hit)
        else:
            document, found = _parse(path, name, raw)
            parsed.put(key, _stored(document, found))
        problems += found
        if document is not None and not found:
            manifests.append(Manifest(path, document))
    return manifests, problems


def _parse(path: Path, name: str, raw: bytes) -> tuple[yamlsafe.Document | None, list[Problem]]:
    try:
        document = yamlsafe.load(raw, name)
    except InputError as exc:
        return None, [Problem(exc.location or Location(name), exc.message, exc.hint)]
    return document, _check(path, document)


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
