"""Pin cards: each change of a plan as the pin it publishes, the way the feed shows it.

Changes come in the form a saved plan holds (`planjson.change`), so a live plan and a plan file
make the same cards. A card holds the pin before and after (for updates and replaces, with the
changed words marked), its picture (a thumbnail of the repository file, or of the video's cover
frame, else a placeholder saying why: a URL is never fetched), when it goes out, and the advice on
it.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from reconciler import repofiles, timestamps, videoframes, worddiff
from reconciler.changes import SYMBOLS
from reconciler.errors import Location, Problem
from reconciler.providers.base import cover_second
from reconciler.thumbnails import MAX_BYTES, Maker, Thumbnail

# Pinterest shows about the first 40 characters of a title in the feed.
FEED_TITLE = 40
MEDIA_FOLDER = "media"
LABELS = {"noop": "unchanged"}
_TEXT_FIELDS = ("title", "description", "link", "alt_text", "board", "section", "dominant_color")


@dataclass(frozen=True)
class Picture:
    """What a card shows for its medium: a thumbnail file, or a placeholder that says why not."""

    src: str | None = None
    width: int = 0
    height: int = 0
    cropped: bool = False
    url: str | None = None
    note: str = ""
    alt: str = ""


@dataclass(frozen=True)
class Side:
    """A pin as it is published (before) or will be (after)."""

    title: str
    feed_title: str
    title_cut: bool
    description: str
    link: str
    domain: str
    alt_text: str
    board: str
    section: str
    picture: Picture
    kind: str  # image or video


@dataclass(frozen=True)
class Diff:
    """A changed field: its words, each marked same, removed or added."""

    name: str
    before: list[tuple[str, str]]
    after: list[tuple[str, str]]


@dataclass(frozen=True)
class Card:
    action: str
    symbol: str
    key: str
    account: str
    after: Side | None
    before: Side | None
    diffs: list[Diff]
    changed: list[str]
    reason: str
    when: datetime | None
    # Whether `when` is the slot a paced pin waits for (about then), not its publish_at.
    paced: bool
    where: str
    warnings: list[str] = field(default_factory=list)

    @property
    def shown(self) -> Side:
        side = self.after or self.before
        assert side is not None
        return side

    @property
    def label(self) -> str:
        return LABELS.get(self.action, self.action)


def feed_title(title: str) -> tuple[str, bool]:
    """The title as the feed shows it: cut at a word near FEED_TITLE characters, with "…"."""
    if len(title) <= FEED_TITLE:
        return title, False
    cut = title[: FEED_TITLE + 1].rsplit(" ", 1)[0] if " " in title[:FEED_TITLE] else ""
    return (cut or title[:FEED_TITLE]).rstrip() + "…", True


def domain(link: str) -> str:
    try:
        host = (urlsplit(link).hostname or "").lower()
    except ValueError:
        return ""
    return host.removeprefix("www.")


def word_diff(old: str, new: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Both texts as runs of words marked `same`, `del` (only in old) or `ins` (only in new)."""
    found = worddiff.runs(old, new)
    before = [run for run in found if run[0] != worddiff.INSERTED]
    return before, [run for run in found if run[0] != worddiff.DELETED]


class _Media:
    """Finds each medium's bytes (work tree, else the git history of its path) and thumbnails it."""

    def __init__(self, root: Path, maker: Maker) -> None:
        self.root = root
        self.maker = maker
        self.pictures: dict[tuple[str, str, int | None], Picture] = {}

    @staticmethod
    def _medium(fields: dict[str, Any]) -> tuple[Any, int | None, str]:
        """The medium a card shows, the second of it when that is a video's frame (a video
        without a cover image), and the pin's kind."""
        if "video" not in fields:
            return fields.get("image"), None, "image"
        if fields.get("cover") is not None:
            return fields["cover"], None, "video"
        return fields["video"], cover_second(fields.get("cover_frame")), "video"

    def prepare(self, changes: list[dict[str, Any]]) -> None:
        """Make the thumbnails of every repository file the changes show, on every core: Pillow
        decodes and encodes without holding Python's lock."""
        wanted: dict[tuple[str, int | None], str] = {}  # one file per distinct content
        for change in changes:
            for side in ("before", "after"):
                shown, second, _kind = self._medium(change.get(side) or {})
                if isinstance(shown, dict) and isinstance(shown.get("file"), str):
                    wanted.setdefault((str(shown.get("sha256", "")), second), shown["file"])
        jobs = [
            (file, digest, second)
            for (digest, second), file in wanted.items()
            if (file, digest, second) not in self.pictures
        ]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for job, made in zip(
                jobs, pool.map(lambda job: self._thumbnail(*job), jobs), strict=True
            ):
                self.pictures[job] = made

    def picture(self, fields: dict[str, Any]) -> tuple[Picture, str]:
        alt = str(fields.get("alt_text") or "")
        shown, second, kind = self._medium(fields)
        if not isinstance(shown, dict):
            return Picture(note="no medium", alt=alt), kind
        url = shown.get("url")
        if isinstance(url, str):
            return Picture(url=url, note="shown by URL: not fetched for the preview", alt=alt), kind
        file, digest = str(shown.get("file", "")), str(shown.get("sha256", ""))
        found = self.pictures.get((file, digest, second))
        if found is None:
            found = self.pictures[file, digest, second] = self._thumbnail(file, digest, second)
        note = found.note
        if found.src and second is not None and not note:
            note = videoframes.caption(second, fields.get("cover_frame"))
        return Picture(found.src, found.width, found.height, found.cropped, None, note, alt), kind

    def _thumbnail(self, file: str, digest: str, second: int | None) -> Picture:
        if second is not None:
            video = self._video(file, digest)
            if isinstance(video, str):
                return Picture(note=f"{file}: {video}")
            with video[0]:
                made = videoframes.thumbnail(self.maker, video[0], video[1], second)
            return self._made(file, made)
        data = self._bytes(file, digest)
        if isinstance(data, str):
            return Picture(note=f"{file}: {data}")
        return self._made(file, self.maker.from_bytes(data))

    @staticmethod
    def _made(file: str, made: Thumbnail) -> Picture:
        if made.name is None:
            return Picture(note=f"{file}: {made.problem}")
        return Picture(
            f"{MEDIA_FOLDER}/{made.name}", made.width, made.height, made.cropped, note=made.note
        )

    def _video(self, file: str, digest: str) -> tuple[BinaryIO, str] | str:
        """The video as planned, open, and its SHA-256; or why there is none. The work tree's
        file is read as it is decoded, not into memory: a video may be far larger than an image."""
        video: io.BufferedReader | None
        try:
            path = repofiles.resolve_repo_file(self.root, self.root / "pinops.yaml", file)
            video = os.fdopen(repofiles.open_regular(self.root, path), "rb")
        except repofiles.Unreadable as exc:
            return exc.message
        except (repofiles.MediaPathError, repofiles.OutsideRepository, OSError):
            video = None
        if video is not None:
            found = hashlib.file_digest(video, "sha256").hexdigest()
            if not digest or found == digest:
                video.seek(0)
                return video, found
            video.close()
        past = self._past(file, digest)
        return past if isinstance(past, str) else (io.BytesIO(past), digest)

    def _bytes(self, file: str, digest: str) -> bytes | str:
        """The file's bytes as planned, or why there are none."""
        data: bytes | None
        try:
            path = repofiles.resolve_repo_file(self.root, self.root / "pinops.yaml", file)
            data = repofiles.read_bounded(self.root, path, MAX_BYTES)
        except repofiles.Unreadable as exc:
            return exc.message
        except (repofiles.MediaPathError, repofiles.OutsideRepository, OSError):
            data = None
        if data is not None and (not digest or hashlib.sha256(data).hexdigest() == digest):
            return data
        return self._past(file, digest)

    def _past(self, file: str, digest: str) -> bytes | str:
        """The version of the file planned, from git: the work tree holds another, or none."""
        missing = "this version of the file is not in the repository"
        if not digest:
            return missing
        from reconciler import gitrepo  # GitPython: only when a file changed since it was planned

        return gitrepo.past_version(self.root, file, digest) or missing


def _side(fields: dict[str, Any] | None, found: _Media) -> Side | None:
    if not fields:
        return None
    title = str(fields.get("title") or "")
    cut, is_cut = feed_title(title)
    link = str(fields.get("link") or "")
    picture, kind = found.picture(fields)
    return Side(
        title=title,
        feed_title=cut,
        title_cut=is_cut,
        description=str(fields.get("description") or ""),
        link=link,
        domain=domain(link),
        alt_text=str(fields.get("alt_text") or ""),
        board=str(fields.get("board") or ""),
        section=str(fields.get("section") or ""),
        picture=picture,
        kind=kind,
    )


def _moment(raw: object) -> datetime | None:
    """A time of a plan file, if it is one with its zone (a time without one cannot be placed on
    the timeline among the others)."""
    if not isinstance(raw, str):
        return None
    try:
        moment = timestamps.parse(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _diffs(change: dict[str, Any]) -> list[Diff]:
    before, after = change.get("before") or {}, change.get("after") or {}
    found = []
    for name in change.get("changed") or ():
        if name in _TEXT_FIELDS:
            old, new = word_diff(str(before.get(name) or ""), str(after.get(name) or ""))
            found.append(Diff(name, old, new))
    return found


def _card(change: dict[str, Any], found: _Media, warnings: list[str]) -> Card:
    action = str(change.get("action"))
    after = _side(change.get("after"), found) if action != "delete" else None
    has_before = action in ("update", "replace", "delete", "kept") or after is None
    before = _side(change.get("before"), found) if has_before else None
    fields = change.get("after") or change.get("before") or {}
    line = change.get("line")
    due = _moment(change.get("due_at"))
    return Card(
        action=action,
        symbol=SYMBOLS.get(action, "·"),
        key=str(change.get("key")),
        account=str(fields.get("account") or ""),
        after=after,
        before=before,
        diffs=_diffs(change) if action in ("update", "replace") else [],
        changed=[str(n) for n in change.get("changed") or ()],
        reason=str(change.get("reason") or ""),
        when=due or _moment(change.get("publish_at")),
        paced=due is not None,
        where=f"{change.get('file')}:{line}" if change.get("file") else "",
        warnings=warnings,
    )


def _warnings_by_place(
    declared: list[Location], problems: list[Problem]
) -> dict[tuple[str, int], list[str]]:
    """Each warning goes to the pin declared at or above its line in the same file."""
    starts: dict[str, set[int]] = defaultdict(set)
    for location in declared:
        starts[location.file].add(location.line)
    by_place: dict[tuple[str, int], list[str]] = defaultdict(list)
    for problem in problems:
        above = [n for n in starts.get(problem.location.file, ()) if n <= problem.location.line]
        if above:
            text = f"{problem.message} ({problem.hint})" if problem.hint else problem.message
            by_place[problem.location.file, max(above)].append(text)
    return by_place


def cards(
    changes: list[dict[str, Any]],
    root: Path,
    maker: Maker,
    *,
    warnings: list[Problem],
    declared: list[Location],
) -> list[Card]:
    """A card for each change (`noop` ones too when they carry the pin), media from `root`."""
    found = _Media(root, maker)
    found.prepare(changes)
    by_place = _warnings_by_place(declared, warnings)
    return [
        _card(c, found, by_place.get((str(c.get("file")), c.get("line") or 0), []))
        for c in changes
        if c.get("action") != "noop" or c.get("after")
    ]
