"""Media files in the repository: where a manifest's path may point, what a file is, and whether
the provider will take it.

The type of a file is decided by its first bytes, never by its name: a PNG saved as `.jpg` is a
PNG. Nothing here uploads or fetches anything.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from reconciler import repofiles

MediaKind = Literal["image", "video"]
Severity = Literal["error", "warning"]

_CHUNK = 1 << 20

# ISO BMFF major brands that are not MP4 video; every other brand is read as MP4.
_BRANDS = {
    b"qt  ": "video/quicktime",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
    b"avif": "image/avif",
    b"avis": "image/avif",
}

_NAMES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "image/heic": "HEIC",
    "image/heif": "HEIF",
    "image/avif": "AVIF",
    "video/mp4": "MP4",
    "video/quicktime": "MOV",
}

# Pinterest shows pins best at 2:3 (height = 1.5 × width); further off than this from 2:3 (and
# from every other ratio the service lists as supported) earns a warning.
_RECOMMENDED_ASPECT = 1.5
_ASPECT_TOLERANCE = 0.2
# How ratios (height / width) are written in messages.
_RATIOS = {1.0: "1:1", 1.25: "4:5", 1.5: "2:3", 1.78: "9:16", 2.1: "1:2.1"}


class MediaPathError(Exception):
    """A path in a manifest (a medium, or a data file) that does not lead to a readable file inside
    the repository."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class MediaTypeError(Exception):
    """A media file whose type pinops cannot recognise."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class MediaInfo:
    kind: MediaKind
    content_type: str
    size: int
    width: int | None
    height: int | None
    duration: float | None
    sha256: str


@dataclass(frozen=True)
class MediaLimits:
    """What a provider takes. Sizes are in bytes, durations in seconds; `max_aspect` is the largest
    height / width, `quiet_aspects` the ratios (height / width) taken without a warning."""

    image_types: frozenset[str]
    max_image_bytes: int
    video_types: frozenset[str]
    max_video_bytes: int
    min_video_seconds: float
    max_video_seconds: float
    min_image_side: int = 100
    min_image_width: int = 100
    max_aspect: float = 2.1
    quiet_aspects: frozenset[float] = frozenset({_RECOMMENDED_ASPECT})


PINTEREST_LIMITS = MediaLimits(
    image_types=frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"}),
    # Pinterest's maximum image size is published both as 20 MB and as 32 MB; we take the lower.
    max_image_bytes=20_000_000,
    video_types=frozenset({"video/mp4", "video/quicktime"}),
    max_video_bytes=2_000_000_000,
    min_video_seconds=4,
    max_video_seconds=15 * 60,
)


@dataclass(frozen=True)
class MediaProblem:
    """`about` names the limit broken (a key of a provider's `sources`), so that callers can say
    where the limit comes from."""

    severity: Severity
    message: str
    hint: str = ""
    about: str = ""


# How refusals name a repository file a manifest points at, and an example of a good path.
_FILE_KINDS = {
    "media": ("media", "media", "media/pasta.jpg", "an image or video file"),
    "data": ("data", "data files", "products.csv", "a CSV, YAML or JSON file"),
}


def resolve_repo_file(
    repo_root: Path, declaring_file: Path, value: str, kind: Literal["media", "data"] = "media"
) -> Path:
    """The real path of the regular file that `value`, written in `declaring_file`, points to: a
    medium, or the data file of `generate:`.

    The path is relative to the declaring file and, after symlinks are followed, must stay inside
    `repo_root`. Nothing is opened, so a FIFO is refused without blocking.
    """
    noun, plural, example, wanted = _FILE_KINDS[kind]
    if Path(value).is_absolute():
        raise MediaPathError(
            f"{noun} path {value!r} is absolute",
            f"write it relative to the manifest that declares it, e.g. {example}",
        )
    root = repo_root.resolve()
    written = declaring_file.resolve().parent / value
    try:
        real = written.resolve()
    # A symlink loop before Python 3.13; later versions leave it to stat() below to report.
    except RuntimeError:
        raise MediaPathError(
            f"{noun} path {value!r} leads into a symlink loop", "fix or remove the symlink"
        ) from None
    if not real.is_relative_to(root):
        if Path(os.path.normpath(written)).is_relative_to(root):
            raise MediaPathError(
                f"{noun} path {value!r} is a symlink to {real}, outside the repository",
                "copy the file into the repository instead of linking to it",
            )
        raise MediaPathError(
            f"{noun} path {value!r} leads outside the repository",
            f"keep {plural} inside the repository, e.g. next to the manifest: {example}",
        )
    try:
        mode = real.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise MediaPathError(
            f"{noun} file {value!r} does not exist",
            f"the path is relative to {declaring_file.name}; check its spelling and folder",
        ) from None
    except OSError as exc:
        raise MediaPathError(
            f"cannot read {noun} file {value!r}: {exc.strerror}", "check that the file is readable"
        ) from None
    if stat.S_ISDIR(mode):
        raise MediaPathError(
            f"{noun} path {value!r} is a folder", f"name a file inside it, e.g. {example}"
        )
    if not stat.S_ISREG(mode):
        raise MediaPathError(
            f"{noun} path {value!r} is not a regular file (a device, FIFO or socket)",
            f"point it at {wanted}",
        )
    return real


def inspect_media(path: Path, root: Path | None = None) -> MediaInfo:
    """Type, size, dimensions, duration and SHA-256 of the file at `path` (a path from
    resolve_repo_file), read once through repofiles' confined open from `root`, the repository
    (by default the file's own folder): a symlink swapped in after the check is refused."""
    try:
        opened = repofiles.open_file(root, path)
    except repofiles.Unreadable as exc:
        raise MediaPathError(f"{path.name}: {exc.message}", exc.hint) from None
    try:
        with opened as file:
            head = file.read(_CHUNK)
            content_type = _content_type(head, path.name)
            kind: MediaKind = "image" if content_type.startswith("image/") else "video"
            digest = hashlib.sha256(head)
            size = len(head)
            while chunk := file.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
            width = height = None
            duration = None
            if kind == "image":
                # Imported here, like mutagen below: a run whose media are all cached reads none.
                import imagesize

                # Given the open file, not a str: imagesize fetches str arguments that look like
                # URLs over HTTP.
                found = imagesize.get(file)
                if found[0] > 0 and found[1] > 0:
                    width, height = int(found[0]), int(found[1])
            else:
                duration = _video_duration(file)
    except OSError as exc:
        raise MediaPathError(
            f"cannot read {path.name}: {exc.strerror}", "check that the file is readable"
        ) from None
    return MediaInfo(
        kind=kind,
        content_type=content_type,
        size=size,
        width=width,
        height=height,
        duration=duration,
        sha256=digest.hexdigest(),
    )


def _content_type(head: bytes, name: str) -> str:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return _BRANDS.get(head[8:12], "video/mp4")
    if not head:
        raise MediaTypeError(f"{name} is empty", "replace it with the image or video it should be")
    raise MediaTypeError(
        f"{name} is not a JPEG, PNG, GIF, WebP, MP4 or MOV file",
        "convert it to JPEG or PNG (images) or MP4 (videos); the file name's extension is ignored",
    )


def _video_duration(file: BinaryIO) -> float | None:
    """The length in seconds, or None when it cannot be read (fragmented or damaged files)."""
    import mutagen.mp4

    # mutagen ships py.typed but leaves MP4 and its `info` untyped.
    mp4: Any = mutagen.mp4.MP4
    file.seek(0)
    try:
        length = float(mp4(file).info.length)
    # mutagen divides by the timescale in the movie header without guarding against zero.
    except (mutagen.MutagenError, ZeroDivisionError):
        return None
    return length if length > 0 else None


def media_problems(
    info: MediaInfo, limits: MediaLimits, field: str, service: str = "Pinterest"
) -> list[MediaProblem]:
    """What stands in the way of publishing `info` as the manifest's `field` ("image", "cover" or
    "video"; every field but "video" expects an image) through `service`, whose limits these
    are. The field names the file in messages."""
    expected: MediaKind = "video" if field == "video" else "image"
    name = _NAMES.get(info.content_type, info.content_type)
    if info.kind != expected:
        hint = {"image": "declare it under `video:`", "video": "declare it under `image:`"}.get(
            field, f"use {_a(expected)} here"
        )
        return [
            MediaProblem("error", f"{field} is {_a(info.kind)} ({name}), not {_a(expected)}", hint)
        ]
    if expected == "image":
        return _image_problems(info, limits, field, name, service)
    return _video_problems(info, limits, field, name, service)


def _image_problems(
    info: MediaInfo, limits: MediaLimits, field: str, name: str, service: str
) -> list[MediaProblem]:
    if info.content_type not in limits.image_types:
        return [
            MediaProblem(
                "error",
                f"{field} is {name}; {service} takes {type_names(limits.image_types)} images",
                "convert it to JPEG or PNG",
                "image types",
            )
        ]
    problems = []
    if info.size > limits.max_image_bytes:
        problems.append(
            MediaProblem(
                "error",
                f"{field} is {size_text(info.size)}; {service} takes at most "
                f"{size_text(limits.max_image_bytes)}",
                "compress it or reduce its dimensions",
                "image size",
            )
        )
    if info.width is None or info.height is None:
        problems.append(
            MediaProblem(
                "warning",
                f"{field}'s dimensions could not be read",
                "check that the file opens in an image viewer",
            )
        )
        return problems
    pixels = f"{info.width}×{info.height} pixels"
    side = limits.min_image_side
    aspect = info.height / info.width
    if info.width < side or info.height < side:
        problems.append(
            MediaProblem(
                "error",
                f"{field} is {pixels}; {service} needs at least {side}×{side}",
                "use an image at least 1000×1500 (2:3)",
                "image dimensions",
            )
        )
    elif info.width < limits.min_image_width:
        problems.append(
            MediaProblem(
                "error",
                f"{field} is {pixels}; {service} needs at least {limits.min_image_width} "
                "pixels of width",
                "use an image at least 1000×1500 (2:3)",
                "image dimensions",
            )
        )
    elif aspect > limits.max_aspect:
        problems.append(
            MediaProblem(
                "error",
                f"{field} is {pixels}, taller than the 1:{_number(limits.max_aspect)} "
                f"{service} takes",
                "crop it to 2:3, e.g. 1000×1500",
                "aspect ratios",
            )
        )
    elif all(abs(aspect / quiet - 1) > _ASPECT_TOLERANCE for quiet in limits.quiet_aspects):
        others = sorted(limits.quiet_aspects - {_RECOMMENDED_ASPECT})
        also = f" (or the {ratio_text(others)} it also takes)" if others else ""
        problems.append(
            MediaProblem(
                "warning",
                f"{field} is {pixels}, far from the 2:3 {service} recommends{also}",
                "use 2:3, e.g. 1000×1500, so the pin is not cropped or shown small",
                "aspect ratios",
            )
        )
    return problems


def _video_problems(
    info: MediaInfo, limits: MediaLimits, field: str, name: str, service: str
) -> list[MediaProblem]:
    if info.content_type not in limits.video_types:
        return [
            MediaProblem(
                "error",
                f"{field} is {name}; {service} takes {type_names(limits.video_types)} videos",
                "convert it to MP4 (H.264)",
                "video types",
            )
        ]
    problems = []
    if info.size > limits.max_video_bytes:
        problems.append(
            MediaProblem(
                "error",
                f"{field} is {size_text(info.size)}; {service} takes at most "
                f"{size_text(limits.max_video_bytes)}",
                "shorten it or export it at a lower bitrate",
                "video size",
            )
        )
    shortest = duration_text(limits.min_video_seconds)
    longest = duration_text(limits.max_video_seconds)
    if info.duration is None:
        problems.append(
            MediaProblem(
                "warning",
                f"{field}'s length could not be read",
                f"check that it plays; {service} takes videos of {shortest} to {longest}",
            )
        )
    elif info.duration < limits.min_video_seconds:
        problems.append(
            MediaProblem(
                "error",
                f"{field} is {duration_text(info.duration)} long; {service} needs at least "
                f"{shortest}",
                f"use a video of {shortest} to {longest}",
                "video length",
            )
        )
    elif info.duration > limits.max_video_seconds:
        problems.append(
            MediaProblem(
                "error",
                f"{field} is {duration_text(info.duration)} long; {service} takes at most "
                f"{longest}",
                f"trim it to {longest} or less",
                "video length",
            )
        )
    return problems


def _a(kind: MediaKind) -> str:
    return "an image" if kind == "image" else "a video"


def type_names(content_types: frozenset[str]) -> str:
    names = sorted(_NAMES.get(t, t) for t in content_types)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def ratio_text(aspects: list[float]) -> str:
    written = [_RATIOS.get(round(a, 2), f"1:{_number(a)}") for a in aspects]
    return written[0] if len(written) == 1 else f"{', '.join(written[:-1])} and {written[-1]}"


def _number(value: float) -> str:
    """At most one decimal, and none when it is zero: 20, 2.1, 3.5."""
    return f"{value:.1f}".removesuffix(".0")


def size_text(size: int) -> str:
    if size >= 1_000_000_000:
        return f"{_number(size / 1_000_000_000)} GB"
    if size >= 1_000_000:
        return f"{_number(size / 1_000_000)} MB"
    return f"{_number(size / 1000)} kB"


def duration_text(seconds: float) -> str:
    if seconds < 60:
        return f"{_number(seconds)} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"
