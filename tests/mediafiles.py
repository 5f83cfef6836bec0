"""Small but real media files for tests: Pillow images, hand-built ISO BMFF (MP4/MOV) files, and
videos encoded with PyAV.

The hand-built video files carry a movie header, one video track and an empty sample table:
enough for mutagen to read their length, and for any ISO BMFF parser to walk them, without
encoding frames. `write_colour_video` encodes real frames, a solid colour a second, for tests that
decode them.
"""

from __future__ import annotations

import struct
from pathlib import Path

from PIL import Image

Colour = tuple[int, int, int]

_TIMESCALE = 1000
# The identity transformation matrix of movie and track headers (16.16 and 2.30 fixed point).
_MATRIX = struct.pack(">9i", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def write_jpeg(path: Path, width: int, height: int, colour: Colour = (200, 80, 60)) -> Path:
    Image.new("RGB", (width, height), colour).save(path, "JPEG")
    return path


def write_png(path: Path, width: int, height: int, colour: Colour = (60, 140, 90)) -> Path:
    Image.new("RGB", (width, height), colour).save(path, "PNG")
    return path


def write_gif(path: Path, width: int, height: int, colour: Colour = (240, 200, 40)) -> Path:
    Image.new("RGB", (width, height), colour).save(path, "GIF")
    return path


def write_webp(path: Path, width: int, height: int, colour: Colour = (70, 90, 200)) -> Path:
    Image.new("RGB", (width, height), colour).save(path, "WEBP")
    return path


def write_mp4(path: Path, seconds: float, *, width: int = 240, height: int = 360) -> Path:
    path.write_bytes(_movie(b"isom", (b"isom", b"iso2", b"mp41"), seconds, width, height))
    return path


def write_mov(path: Path, seconds: float, *, width: int = 240, height: int = 360) -> Path:
    path.write_bytes(_movie(b"qt  ", (b"qt  ",), seconds, width, height))
    return path


def write_colour_video(
    path: Path, colours: list[Colour], *, width: int = 120, height: int = 180, fps: int = 10
) -> Path:
    """An MP4 of one second of each colour, in turn, with key frames 0.7 s apart: reaching the
    frame at a whole second means seeking to the key frame before it and decoding on from there."""
    import av

    with av.open(str(path), "w", format="mp4") as container:
        # No key frame at a change of colour: only every 0.7 s.
        stream = container.add_stream("mpeg4", rate=fps, options={"sc_threshold": "1000000000"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = round(fps * 0.7)
        for colour in colours:
            solid = Image.new("RGB", (width, height), colour)
            frame = av.VideoFrame.from_image(solid)  # type: ignore[no-untyped-call]
            for _ in range(fps):
                container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", version << 24 | flags), *parts)


def _movie(
    brand: bytes, compatible: tuple[bytes, ...], seconds: float, width: int, height: int
) -> bytes:
    duration = round(seconds * _TIMESCALE)
    quicktime = brand == b"qt  "
    ftyp = _box(b"ftyp", brand, struct.pack(">I", 0x200 if quicktime else 0), *compatible)
    mvhd = _full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, _TIMESCALE, duration),
        struct.pack(">IH10x", 0x10000, 0x100),  # rate 1.0, volume 1.0
        _MATRIX,
        bytes(24),
        struct.pack(">I", 2),  # next track id
    )
    tkhd = _full_box(
        b"tkhd",
        0,
        0x3,  # enabled, in movie
        struct.pack(">IIIII", 0, 0, 1, 0, duration),
        bytes(8),
        struct.pack(">hhhH", 0, 0, 0, 0),  # layer, alternate group, volume (0 for video)
        _MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )
    # 0x55C4 packs the language code "und".
    mdhd = _full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, _TIMESCALE, duration, 0x55C4, 0))
    # QuickTime names the component type in the field ISO BMFF leaves as zero.
    hdlr = _full_box(
        b"hdlr", 0, 0, b"mhlr" if quicktime else bytes(4), b"vide", bytes(12), b"Video\0"
    )
    empty_table = struct.pack(">I", 0)
    stbl = _box(
        b"stbl",
        _full_box(b"stsd", 0, 0, empty_table),
        _full_box(b"stts", 0, 0, empty_table),
        _full_box(b"stsc", 0, 0, empty_table),
        _full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
        _full_box(b"stco", 0, 0, empty_table),
    )
    minf = _box(
        b"minf",
        _full_box(b"vmhd", 0, 1, bytes(8)),
        _box(b"dinf", _full_box(b"dref", 0, 0, struct.pack(">I", 1), _full_box(b"url ", 0, 1))),
        stbl,
    )
    trak = _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf))
    return ftyp + _box(b"moov", mvhd, trak) + _box(b"mdat")
