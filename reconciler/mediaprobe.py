"""What a media file is: its type, size, dimensions, duration and digest, read from its bytes.

The type of a file is decided by its first bytes, never by its name: a PNG saved as `.jpg` is a
PNG. Nothing here uploads or fetches anything.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from reconciler import repofiles
from reconciler.repofiles import MediaPathError

MediaKind = Literal["image", "video"]

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
