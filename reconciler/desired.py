"""The desired pins: manifests expanded and checked, resolved into one publish target per board.

This is where the checks a schema cannot express live: unique ids, exactly one medium, media files
inside the repository, the chosen provider's limits, `publish_at` in UTC.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reconciler import advice, manifest, media, templating, urls
from reconciler.cache import Cache, media_info
from reconciler.config import Config
from reconciler.errors import Location, Problem, ValidationFailed
from reconciler.providers.base import Capabilities, Media

MEDIA_FIELDS = ("image", "video", "cover")
# A media value with one of these schemes is a URL (and refused unless https), not a path.
_URL_SCHEMES = frozenset({"http", "https", "javascript", "data", "file", "ftp", "vbscript"})
# Published fields, in the order plans show them.
FIELD_ORDER = (
    "account",
    "board",
    "section",
    "title",
    "description",
    "link",
    "alt_text",
    "dominant_color",
    "image",
    "video",
    "cover",
    "cover_frame",
    "protect",
)
# Recorded in state but not published: changing it touches no pin.
LOCAL_FIELDS = frozenset({"protect"})


@dataclass(frozen=True)
class Target:
    """One pin on one board, as it should be published."""

    key: str
    pin: str
    location: Location
    account: str
    board: str
    fields: dict[str, Any]
    media: dict[str, Media]
    publish_at: datetime | None
    content_hash: str

    @property
    def protect(self) -> bool:
        return bool(self.fields.get("protect", False))


@dataclass(frozen=True)
class Desired:
    targets: dict[str, Target]
    warnings: list[Problem]
    # Pins marked `state: absent`: their published pins are deleted on purpose.
    absent: dict[str, Location] = field(default_factory=dict)


def target_key(pin: str, board: str, several: bool) -> str:
    """State key of a target: the pin id, with the board when the pin is saved to several."""
    return f"{pin}@{board}" if several else pin


def comparable(fields: dict[str, Any]) -> dict[str, Any]:
    """Fields as compared and hashed: repository media by their bytes, not their path."""
    return {
        name: value["sha256"] if isinstance(value, dict) and "sha256" in value else value
        for name, value in fields.items()
        if name not in LOCAL_FIELDS
    }


def content_hash(fields: dict[str, Any]) -> str:
    text = json.dumps(comparable(fields), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def load(config: Config, capabilities: Callable[[str], Capabilities]) -> Desired:
    """Read, expand and check every manifest; raise ValidationFailed listing every error."""
    pins, problems = templating.load(config)
    checker = _Checker(config, capabilities, problems)
    targets: dict[str, Target] = {}
    absent: dict[str, Location] = {}
    seen: dict[str, manifest.Pin] = {}
    for pin in pins:
        if pin.id in seen:
            first = seen[pin.id]
            for here, there in ((pin, first), (first, pin)):
                elsewhere = f"{there.location}, {there.source}" if there.source else there.location
                message = f"duplicate id '{pin.id}' (also at {elsewhere})"
                problems.append(Problem(here.location, _from(here, message), "ids must be unique"))
            continue
        seen[pin.id] = pin
        if pin.fields.get("state") == "absent":
            absent[pin.id] = pin.location
            continue
        for target in checker.targets(pin):
            targets[target.key] = target
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ValidationFailed(sorted(problems, key=lambda p: p.location))
    return Desired(targets, sorted(problems, key=lambda p: p.location), absent)


def _from(pin: manifest.Pin, message: str) -> str:
    """A message about a pin that `generate:` made starts with the row it came from: all the pins
    of a generate block share its location."""
    return f"{pin.source}: {message}" if pin.source else message


class _Checker:
    def __init__(
        self, config: Config, capabilities: Callable[[str], Capabilities], problems: list[Problem]
    ) -> None:
        self.config = config
        self.capabilities = capabilities
        self.problems = problems
        self.inspected: dict[Path, media.MediaInfo] = {}
        # The pins of a folder often name the same few files: each is resolved once per run, from
        # the real folder of the manifest that declares it, as media.resolve_repo_file does.
        self.folders: dict[str, tuple[Path, Path]] = {}
        self.resolved: dict[tuple[Path, str], Path] = {}
        self.media_cache = Cache.default("media")
        # Per file, not per pin: what targets show and hold for a media file.
        self.shown: dict[Path, str] = {}
        self.media_of: dict[tuple[str, Path], Media] = {}

    def _relative(self, path: Path) -> str:
        shown = self.shown.get(path)
        if shown is None:
            shown = self.shown[path] = self.config.relative(path)
        return shown

    def error(self, location: Location, message: str, hint: str = "") -> None:
        self.problems.append(Problem(location, message, hint))

    def targets(self, pin: manifest.Pin) -> list[Target]:
        before = len(self.problems)
        result = self._targets(pin)
        self.problems += advice.warnings(pin)
        self.problems[before:] = [
            replace(p, message=_from(pin, p.message)) for p in self.problems[before:]
        ]
        return result

    def _targets(self, pin: manifest.Pin) -> list[Target]:
        fields, origins = pin.fields, pin.origins
        before = len(self.problems)
        account = fields.get("account", self.config.default_account)
        if account not in self.config.accounts:
            self.error(
                origins["account"],
                f"unknown account '{account}'",
                f"use one of: {', '.join(self.config.accounts)}",
            )
            return []
        caps = self.capabilities(self.config.accounts[account].provider)
        boards = self._boards(pin)
        self._exactly_one(pin, ("image", "video"), "a medium", "add image: or video:")
        self._cover_rules(pin)
        if "cover_frame" in fields and "video" in fields and not caps.cover_frame:
            provider = self.config.accounts[account].provider
            self.error(
                origins["cover_frame"],
                f"{provider} (account '{account}') cannot take a video cover by frame",
                "give the video a cover image instead: cover: IMAGE",
            )
        publish_at = self._publish_at(pin)
        self._text_limits(pin, caps)
        self._link(pin)
        published = {name: fields[name] for name in FIELD_ORDER if name in fields}
        published["account"] = account
        resolved: dict[str, Media] = {}
        for name in MEDIA_FIELDS:
            if name in fields:
                found = self._media(name, fields[name], origins[name], caps)
                if found:
                    resolved[name] = found
                    published[name] = (
                        {"url": found.url}
                        if found.url
                        else {"file": self._relative(found.path or Path()), "sha256": found.sha256}
                    )
        if len(self.problems) > before:
            return []
        result = []
        for board in boards:
            target_fields = {**published, "board": board}
            target_fields.pop("boards", None)
            result.append(
                Target(
                    key=target_key(pin.id, board, len(boards) > 1),
                    pin=pin.id,
                    location=pin.location,
                    account=account,
                    board=board,
                    fields={n: target_fields[n] for n in FIELD_ORDER if n in target_fields},
                    media=resolved,
                    publish_at=publish_at,
                    content_hash=content_hash(target_fields),
                )
            )
        return result

    def _exactly_one(self, pin: manifest.Pin, names: tuple[str, str], what: str, hint: str) -> bool:
        present = [n for n in names if n in pin.fields]
        if len(present) == 1:
            return True
        if present:
            self.error(
                pin.origins[present[1]],
                f"pin '{pin.id}' has both {present[0]} and {present[1]}",
                f"keep only one of {' and '.join(names)}",
            )
        else:
            self.error(pin.location, f"pin '{pin.id}' has no {what}", hint)
        return False

    def _boards(self, pin: manifest.Pin) -> list[str]:
        if not self._exactly_one(pin, ("board", "boards"), "board", "add board: NAME"):
            return []
        if "board" in pin.fields:
            return [pin.fields["board"]]
        return list(pin.fields["boards"])

    def _cover_rules(self, pin: manifest.Pin) -> None:
        covers = [n for n in ("cover", "cover_frame") if n in pin.fields]
        if "video" not in pin.fields:
            for name in covers:
                self.error(pin.origins[name], f"{name} is only for video pins", f"remove {name}")
            return
        if len(covers) > 1:
            self.error(pin.origins["cover_frame"], "both cover and cover_frame are set", "keep one")
        elif not covers:
            self.error(
                pin.origins["video"],
                f"video pin '{pin.id}' needs a cover",
                "add cover: IMAGE, or cover_frame: SECONDS",
            )

    def _publish_at(self, pin: manifest.Pin) -> datetime | None:
        raw = pin.fields.get("publish_at")
        if raw is None:
            return None
        location = pin.origins["publish_at"]
        hint = "write it in UTC, e.g. 2026-12-01T14:00:00Z"
        try:
            value = datetime.fromisoformat(str(raw))
        except ValueError:
            self.error(location, f"publish_at {raw!r} is not a date and time", hint)
            return None
        if value.utcoffset() != timedelta(0):
            self.error(location, f"publish_at {raw!r} is not in UTC", hint)
            return None
        return value.astimezone(UTC)

    def _text_limits(self, pin: manifest.Pin, caps: Capabilities) -> None:
        limits = caps.text_limits
        for name, limit in (
            ("title", limits.title),
            ("description", limits.description),
            ("alt_text", limits.alt_text),
            ("link", limits.link),
        ):
            value = pin.fields.get(name)
            if isinstance(value, str) and len(value) > limit:
                self.error(
                    pin.origins[name],
                    f"{name} is {len(value)} characters; the limit is {limit}",
                    f"shorten it by {len(value) - limit}",
                )

    def _link(self, pin: manifest.Pin) -> None:
        link = pin.fields.get("link")
        if isinstance(link, str):
            wrong = urls.problem(link, fetched=False)
            if wrong:
                self.error(pin.origins["link"], f"link {wrong[0]}", wrong[1])

    def _media(self, name: str, value: str, location: Location, caps: Capabilities) -> Media | None:
        kind = "image" if name == "cover" else name
        if "://" in value or value.split(":", 1)[0].lower() in _URL_SCHEMES:
            wrong = urls.problem(value, fetched=True)
            if wrong:
                self.error(location, f"{name} URL {wrong[0]}", wrong[1])
                return None
            if kind == "video" and not caps.video_urls:
                self.error(
                    location,
                    "this account's provider takes videos as uploaded files, not URLs",
                    "put the video in the repository and give its path",
                )
                return None
            return Media(kind=kind, url=value)
        place = self.folders.get(location.file)
        if place is None:
            declaring = self.config.root / location.file
            place = self.folders[location.file] = (declaring, declaring.resolve().parent)
        declaring, folder = place
        path = self.resolved.get((folder, value))
        if path is None:
            try:
                path = media.resolve_repo_file(self.config.root, declaring, value)
            except media.MediaPathError as exc:
                self.error(location, exc.message, exc.hint)
                return None
            self.resolved[folder, value] = path
        info = self.inspected.get(path)
        if info is None:
            try:
                info = media_info(path, self.media_cache)
            except (media.MediaTypeError, media.MediaPathError) as exc:
                self.error(location, exc.message, exc.hint)
                return None
            self.inspected[path] = info
        found = media.media_problems(info, caps.media_limits, name)
        self.problems += [Problem(location, p.message, p.hint, p.severity) for p in found]
        if any(p.severity == "error" for p in found):
            return None
        medium = self.media_of.get((kind, path))
        if medium is None:
            medium = Media(kind=kind, path=path, content_type=info.content_type, sha256=info.sha256)
            self.media_of[kind, path] = medium
        return medium
