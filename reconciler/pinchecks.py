"""The checks of one pin that a schema cannot express: exactly one medium, media files inside the
repository and within the chosen provider's limits, boards that exist, `publish_at` in UTC; and
the publish targets a pin that passes them resolves to, one per board.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reconciler import (
    advice,
    fit,
    manifest,
    media,
    mediaprobe,
    repofiles,
    timestamps,
    urls,
)
from reconciler.boards import unknown_board
from reconciler.cache import Cache, media_info
from reconciler.config import Config
from reconciler.derivations import Dependency, Derived
from reconciler.errors import Location, Problem
from reconciler.pinfields import MEDIA_FIELDS, PinFields, content_hash
from reconciler.providers.base import Capabilities, Media, cover_second, url_under
from reconciler.targets import Target, target_key

# A media value with one of these schemes is a URL (and refused unless https), not a path.
_URL_SCHEMES = frozenset({"http", "https", "javascript", "data", "file", "ftp", "vbscript"})


def _from(pin: manifest.Pin, message: str) -> str:
    """A message about a pin that `generate:` made starts with the row it came from: all the pins
    of a generate block share its location."""
    return f"{pin.source}: {message}" if pin.source else message


class Checker:
    def __init__(
        self,
        config: Config,
        capabilities: Callable[[str], Capabilities],
        problems: list[Problem],
        derived: Derived,
    ) -> None:
        self.config = config
        self.capabilities = capabilities
        self.problems = problems
        self.derived = derived
        # The media files the pins checked since this was last emptied were derived from.
        self.media: set[Dependency] = set()
        # Whether, since this was last reset, an error was said once for the pins of several
        # files (its place is in a defaults file), or left unsaid as said before: what such files
        # say depends on one another, so no entry of them is kept.
        self.entangled = False
        self.inspected: dict[Path, mediaprobe.MediaInfo] = {}
        # The pins of a folder often name the same few files: each is resolved once per run, from
        # the real folder of the manifest that declares it, as repofiles.Resolver does.
        self.folders: dict[str, tuple[Path, Path]] = {}
        self.resolved: dict[tuple[Path, str], Path] = {}
        self.resolver = derived.resolver
        self.media_cache = Cache.default("media")
        # Per file, not per pin: what targets hold for a media file.
        self.media_of: dict[tuple[str, Path], Media] = {}
        self.media_problems: dict[tuple[Path, str, str], list[media.MediaProblem]] = {}
        self.unknown_boards: set[tuple[Location, str]] = set()

    def error(self, location: Location, message: str, hint: str = "") -> None:
        self.problems.append(Problem(location, message, hint))

    def targets(self, pin: manifest.Pin) -> list[Target]:
        before = len(self.problems)
        result = self._targets(pin)
        # Advice where an error stands already (a link the service refuses, say) only repeats it.
        errors = {p.location for p in self.problems[before:] if p.severity == "error"}
        self.problems += [
            p for p in advice.warnings(pin, self.config.advice_off) if p.location not in errors
        ]
        if pin.source:
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
        boards = self._boards(pin, account, caps)
        self._exactly_one(pin, ("image", "video"), "medium", "add image: or video:")
        self._cover_rules(pin)
        self.problems += fit.problems(pin, caps, account)
        publish_at = self._publish_at(pin)
        self._link(pin)
        found = {
            name: self._media(name, fields[name], origins[name], caps)
            for name in MEDIA_FIELDS
            if name in fields
        }
        # Warnings do not hold a pin back; errors do (and fail the whole load).
        if any(p.severity == "error" for p in self.problems[before:]):
            return []
        video = found.get("video")
        if video is not None and video.path is not None and "cover_frame" in fields:
            second = cover_second(fields["cover_frame"])
            if late := media.cover_past_end(second, self.inspected[video.path].duration):
                self.problems.append(
                    Problem(origins["cover_frame"], late.message, late.hint, late.severity)
                )
        published = dict(
            account=account,
            section=fields.get("section"),
            title=fields.get("title"),
            description=fields.get("description"),
            link=fields.get("link"),
            alt_text=fields.get("alt_text"),
            dominant_color=fields.get("dominant_color"),
            image=found.get("image"),
            video=found.get("video"),
            cover=found.get("cover"),
            cover_frame=fields.get("cover_frame"),
            protect=fields.get("protect"),
        )
        result = []
        for board in boards:
            target_fields = PinFields(board=board, **published)
            result.append(
                Target(
                    key=target_key(pin.id, board, len(boards) > 1),
                    pin=pin.id,
                    location=pin.location,
                    fields=target_fields,
                    publish_at=publish_at,
                    content_hash=content_hash(target_fields.to_json()),
                    board_id=board if re.fullmatch(caps.board_ids, board) else None,
                    board_location=origins.get("board") or origins.get("boards"),
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

    def _boards(self, pin: manifest.Pin, account: str, caps: Capabilities) -> list[str]:
        if not self._exactly_one(pin, ("board", "boards"), "board", "add board: NAME"):
            return []
        field = "board" if "board" in pin.fields else "boards"
        names = [pin.fields["board"]] if field == "board" else list(pin.fields["boards"])
        declared = self.config.accounts[account]
        if declared.provider == "sandbox":
            # The sandbox's boards are the ones pinops.yaml declares, so a wrong name is known
            # now, where it is written: once per place, however many pins it reaches.
            for name in names:
                place = (pin.origins[field], name)
                if name in declared.boards or re.fullmatch(caps.board_ids, name):
                    continue
                said = place in self.unknown_boards
                # Said once for all the files a defaults file reaches: no entry of them is kept.
                self.entangled |= said or place[0].file != pin.location.file
                if said:
                    continue
                self.unknown_boards.add(place)
                self.error(pin.origins[field], *unknown_board(name, account, declared.boards))
        return names

    def _cover_rules(self, pin: manifest.Pin) -> None:
        covers = [n for n in ("cover", "cover_frame") if n in pin.fields]
        if "video" not in pin.fields:
            for name in covers:
                self.error(pin.origins[name], f"{name} is only for video pins", f"remove {name}")
            return
        # No cover is needed: "Pinterest generates a thumbnail from the first frame".
        if len(covers) > 1:
            self.error(pin.origins["cover_frame"], "both cover and cover_frame are set", "keep one")
        frame = pin.fields.get("cover_frame")
        if isinstance(frame, int | float) and round(frame) != frame:
            # Pinterest and every service that takes a key frame take it in whole seconds.
            self.problems.append(
                Problem(
                    pin.origins["cover_frame"],
                    f"cover_frame {frame} is sent as {round(frame)}: frames are chosen in whole "
                    "seconds",
                    f"write cover_frame: {round(frame)}",
                    "warning",
                )
            )

    def _publish_at(self, pin: manifest.Pin) -> datetime | None:
        raw = pin.fields.get("publish_at")
        if raw is None:
            return None
        location = pin.origins["publish_at"]
        hint = "write it in UTC, e.g. 2026-12-01T14:00:00Z"
        try:
            value = timestamps.parse(str(raw))
        except ValueError:
            self.error(location, f"publish_at {raw!r} is not a date and time", hint)
            return None
        if value.utcoffset() != timedelta(0):
            self.error(location, f"publish_at {raw!r} is not in UTC", hint)
            return None
        return value.astimezone(UTC)

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
            if kind not in caps.url_media:
                self.error(
                    location,
                    f"{caps.name} takes {kind}s as uploaded files, not URLs",
                    f"put the {kind} in the repository and give its path",
                )
                return None
            return Media(kind=kind, url=value)
        place = self.folders.get(location.file)
        if place is None:
            declaring = self.config.root / location.file
            place = self.folders[location.file] = (declaring, self.resolver.folder_of(declaring))
        declaring, folder = place
        path = self.resolved.get((folder, value))
        if path is None:
            try:
                path = self.resolver.resolve(declaring, value)
            except repofiles.MediaPathError as exc:
                self.error(location, exc.message, exc.hint)
                # No file to compare later runs with (a missing one, say): the entry is not kept.
                self.media.add((location.file, value, "", ""))
                return None
            self.resolved[folder, value] = path
        # Taken before the file is inspected: a change while it is read makes the entry stale.
        # A file that vanished before it could be stat'ed records nothing: the entry is not kept.
        identity = self.derived.content(str(path), "media")
        held = f"{identity}\n" if identity else ""
        info = self.inspected.get(path)
        if info is None:
            try:
                info = media_info(path, self.media_cache, self.config.root)
            except (mediaprobe.MediaTypeError, repofiles.MediaPathError) as exc:
                self.error(location, exc.message, exc.hint)
                self.media.add((location.file, value, str(path), held))
                return None
            self.inspected[path] = info
        # What is found of the file, problems too, holds while it stays as it is, or holds the
        # bytes that were read.
        self.media.add((location.file, value, str(path), held and held + info.sha256))
        checked = (path, name, caps.name)
        found = self.media_problems.get(checked)
        if found is None:
            found = self.media_problems[checked] = media.media_problems(
                info, caps.media_limits, name, caps.name
            )
        self.problems += [
            Problem(location, p.message + caps.source(p.about), p.hint, p.severity) for p in found
        ]
        uploaded = caps.max_upload_bytes is not None and not self.config.media_base_url
        if uploaded and caps.max_upload_bytes is not None and info.size > caps.max_upload_bytes:
            self.error(
                location,
                f"{name} is {media.size_text(info.size)}; {caps.name} takes uploads of at most "
                f"{media.size_text(caps.max_upload_bytes)}{caps.source('upload size')}",
                "serve the file from media_base_url (pinops.yaml), or give an https URL of it",
            )
            return None
        if any(p.severity == "error" for p in found):
            return None
        medium = self.media_of.get((kind, path))
        if medium is None:
            file = self.config.relative(path)
            base = self.config.media_base_url
            medium = Media(
                kind=kind,
                path=path,
                content_type=info.content_type,
                sha256=info.sha256,
                root=self.config.root,
                file=file,
                served=url_under(base, file) if base else None,
            )
            self.media_of[kind, path] = medium
        return medium
