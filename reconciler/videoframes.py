"""A video pin's cover frame for the preview, decoded with PyAV (FFmpeg), then made a thumbnail
the way the feed shows an image (thumbnails.py).

Pinterest takes a video's cover frame in whole seconds (`cover_frame`, rounded as the providers
send it; the first frame when a video has no cover) and, "if entered time exceeds video duration,
the last frame is used". The frame shown is the first at or after that second, as FFmpeg's own
seek gives it. Only the MP4/QuickTime demuxer reads the bytes (validation admits no other video),
so a file never makes FFmpeg open anything but itself. A video that cannot be decoded, or would
take too much decoding to reach its frame, gives a reason instead, never an error.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from reconciler.thumbnails import MAX_PIXELS, Maker, Thumbnail, as_fed

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

# Reaching a frame decodes from the key frame before it; past this many pixels decoded (about a
# thousand 1080p frames) the video is not previewed rather than holding the preview up.
MAX_DECODED_PIXELS = 2_000_000_000


def caption(second: int, cover_frame: object) -> str:
    """What the card says of the frame it shows."""
    if cover_frame is None:
        return "Cover: the video's first frame (no cover is set)."
    return f"Cover: the video's frame at {second} s."


def thumbnail(maker: Maker, video: BinaryIO, digest: str, second: int) -> Thumbnail:
    """The thumbnail of the frame at `second` of `video`, whose SHA-256 is `digest` (hashed by
    the caller over these very bytes: a video may be too large to hold in memory)."""
    shown = hashlib.sha256(f"{digest} frame at {second} s".encode()).hexdigest()
    return maker.made_once(shown, lambda: _make(video, second), _code())


def _make(video: BinaryIO, second: int) -> tuple[bytes, Thumbnail] | str:
    import av  # about 0.2 s to import: only when a frame is decoded

    try:
        with av.open(video, "r", format="mov") as container:
            if not container.streams.video:
                return "the video has no picture to show"
            stream = container.streams.video[0]
            if stream.width * stream.height > MAX_PIXELS:
                return "the video is too large to preview"
            found = _frame_at(container, stream, second)
            if isinstance(found, str):
                return found
            frame, past_end = found
            # PyAV types the frame but not this method: it returns a Pillow image.
            encoded, shown = as_fed(frame.to_image())  # type: ignore[no-untyped-call]
            length = container.duration
    except (av.FFmpegError, OSError, ValueError):
        return "the video could not be decoded"
    if not past_end:
        return encoded, shown
    ends = f" ({length / av.time_base:.1f} s)" if length else ""
    note = f"Cover: {second} s is past the video's end{ends}, so Pinterest shows its last frame."
    return encoded, Thumbnail(None, shown.width, shown.height, shown.cropped, note=note)


def _frame_at(
    container: InputContainer, stream: VideoStream, second: int
) -> tuple[VideoFrame, bool] | str:
    """The first frame at or after `second`, else the last one (and that it is past the end)."""
    if second > 0 and stream.time_base:
        # To the key frame at or before the second; decoding goes on from there.
        container.seek(round(second / Fraction(stream.time_base)), stream=stream, backward=True)
    last = None
    decoded = 0
    for frame in container.decode(stream):
        if frame.time is not None and frame.time >= second:
            return frame, False
        last = frame
        decoded += frame.width * frame.height
        if decoded > MAX_DECODED_PIXELS:
            return f"the frame at {second} s is too far from a key frame to preview"
    if last is None:
        return "the video has no frame to show"
    return last, True


@cache
def _code() -> str:
    """What a frame's thumbnail depends on besides the video and the second: how the frame is
    found (this module) and by which PyAV and FFmpeg."""
    import av

    module = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    return f"{av.__version__} {sorted(av.library_versions.items())} {module}"
