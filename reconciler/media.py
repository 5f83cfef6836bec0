"""Media against a provider's limits: what each provider takes (types, sizes, dimensions,
lengths) and what stands in the way of publishing a file, as errors and warnings.

What a file is comes from mediaprobe; where a manifest's path may point, from repofiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from reconciler.mediaprobe import MediaInfo, MediaKind

Severity = Literal["error", "warning"]

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


def cover_past_end(second: int, duration: float | None) -> MediaProblem | None:
    """A warning when a video's cover frame, at `second`, is at or past its end. Pinterest then
    takes the last frame ("if entered time exceeds video duration, the last frame is used"): the
    pin is published, with a cover seldom the one meant."""
    if duration is None or second < duration:
        return None
    last = max(math.ceil(duration) - 1, 0)  # the last whole second with a frame
    return MediaProblem(
        "warning",
        f"cover_frame {second} is past the end of the {duration_text(duration)} video: "
        "Pinterest takes its last frame as the cover",
        f"write cover_frame: {last} or less, or give the video a cover: image",
    )


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
