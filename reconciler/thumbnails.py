"""Thumbnails for the preview: each repository image made small and cropped the way the feed
crops it, with Pillow.

The feed shows a pin at its own aspect ratio, in a column of fixed width; a pin taller than the
long-pin ratio (1:2.1, the tallest Pinterest documents) is cut at the bottom. Thumbnails are made
at 1.5 times the feed's column width (sharp enough on most screens, and about 15 kB each), as
JPEG, once per distinct file (named by its SHA-256), so a plan of thousands of pins stays small.
A made thumbnail is kept in the cache folder (see cache.py) under a key of the file's SHA-256, this
module's code and the versions of Pillow and its JPEG library, so a later preview of the same file
does not decode it again.
Bytes that are not an image Pillow can read, or that would decode to more pixels than a pin may
have, give no thumbnail and a reason instead, never an error.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import PIL
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError, features

from reconciler.cache import Cache

# Pinterest's feed column is 236 CSS pixels wide; thumbnails hold 1.5 times that.
FEED_WIDTH = 236
WIDTH = 354
# The tallest a pin shows in the feed: height / width of a long pin (1:2.1).
TALLEST = 2.1
QUALITY = 72
# Pinterest takes images up to about 20-32 MB; more pixels than this is not a pin.
MAX_PIXELS = 50_000_000
# Nor is a file larger than this (a video named as an image, in a hand-edited plan file).
MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Thumbnail:
    """A made thumbnail (file name under the preview's media folder and its size), or why not;
    `note` says what a made one shows where it is not simply the file (a video's frame)."""

    name: str | None
    width: int = 0
    height: int = 0
    cropped: bool = False
    problem: str = ""
    note: str = ""


def feed_size(width: int, height: int) -> tuple[int, int, bool]:
    """The size a width×height image shows at in a thumbnail, and whether the feed cuts it."""
    scale = min(1.0, WIDTH / width)
    shown_w = max(1, round(width * scale))
    shown_h = max(1, round(height * scale))
    tallest = round(shown_w * TALLEST)
    return shown_w, min(shown_h, tallest), shown_h > tallest


class Maker:
    """Makes thumbnails into `folder`, each distinct image once, through `store` across runs."""

    def __init__(self, folder: Path, store: Cache | None = None) -> None:
        self.folder = folder
        self.store = store or Cache(None, "thumbnail")
        self.made: dict[str, Thumbnail] = {}

    def from_bytes(self, data: bytes) -> Thumbnail:
        # Hashed here, not taken from the caller: the key must be of these very bytes.
        digest = hashlib.sha256(data).hexdigest()
        return self.made_once(digest, lambda: self._make(data))

    def made_once(
        self, digest: str, make: Callable[[], tuple[bytes, Thumbnail] | str], *depends: str
    ) -> Thumbnail:
        """The thumbnail named by `digest` (a SHA-256 of what it shows), made by `make` once a
        run, and kept across runs under `digest`, this module's code and what else it `depends`
        on."""
        found = self.made.get(digest)
        if found is None:
            found = self.made[digest] = self._cached(digest, make, depends)
        return found

    def _cached(
        self,
        digest: str,
        make: Callable[[], tuple[bytes, Thumbnail] | str],
        depends: tuple[str, ...],
    ) -> Thumbnail:
        key = self.store.key("thumbnail", _code(), *depends, digest)
        kept = self.store.get(key)
        if isinstance(kept, tuple) and len(kept) == 5 and isinstance(kept[0], bytes):
            encoded, width, height, cropped, note = kept
            return self._write(digest, encoded, Thumbnail(None, width, height, cropped, note=note))
        if isinstance(kept, str):
            return Thumbnail(None, problem=kept)
        made = make()
        if isinstance(made, str):
            self.store.put(key, made)
            return Thumbnail(None, problem=made)
        encoded, shown = made
        self.store.put(key, (encoded, shown.width, shown.height, shown.cropped, shown.note))
        return self._write(digest, encoded, shown)

    def _write(self, digest: str, encoded: bytes, shown: Thumbnail) -> Thumbnail:
        name = f"{digest[:32]}.jpg"
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / name).write_bytes(encoded)
        return Thumbnail(name, shown.width, shown.height, shown.cropped, note=shown.note)

    @staticmethod
    def _make(data: bytes) -> tuple[bytes, Thumbnail] | str:
        """The thumbnail's JPEG bytes and size, or why there is none."""
        try:
            with warnings.catch_warnings():
                # Pillow warns, then refuses, past its own limit; ours is lower and refuses.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data)) as image:
                    if image.width * image.height > MAX_PIXELS:
                        return "the image is too large to preview"
                    _draft(image)
                    return as_fed(image)
        except (
            UnidentifiedImageError,
            Image.DecompressionBombError,
            Image.DecompressionBombWarning,
        ):
            return "not an image that can be previewed"
        except (OSError, ValueError, SyntaxError):
            return "the image could not be decoded"


def as_fed(image: Image.Image) -> tuple[bytes, Thumbnail]:
    """The thumbnail of `image` as the feed shows it: its JPEG bytes and size."""
    small = _shrink(image)
    width, height, cropped = feed_size(small.width, small.height)
    if cropped:
        small = small.crop((0, 0, width, height))
    encoded = io.BytesIO()
    small.save(encoded, "JPEG", quality=QUALITY)
    return encoded.getvalue(), Thumbnail(None, small.width, small.height, cropped)


def _draft(image: Image.Image) -> None:
    """Have a JPEG decoded straight at the smallest fraction (1/2, 1/4 or 1/8) that still fills
    the thumbnail's width, which is much faster than decoding it whole. Only the width counts:
    the height follows from it, and the feed cuts a tall pin anyway. A picture that stands turned
    (EXIF orientation 5 to 8) is as wide as it is tall in the file."""
    turned = image.getexif().get(ExifTags.Base.Orientation, 1) in (5, 6, 7, 8)
    image.draft("RGB", (1, WIDTH) if turned else (WIDTH, 1))


def _shrink(image: Image.Image) -> Image.Image:
    """The image upright, in RGB, at most WIDTH wide; copied only where something changes (a
    copy of a decoded photo costs as much as decoding it at the reduced size)."""
    upright = image
    if image.getexif().get(ExifTags.Base.Orientation, 1) != 1:
        upright = ImageOps.exif_transpose(image)
    if upright.mode not in ("RGB", "L"):
        # Transparent parts show on white, as on a pin.
        rgba = upright.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        upright = flat
    if upright.mode != "RGB":
        upright = upright.convert("RGB")
    if upright.width > WIDTH:
        height = max(1, round(upright.height * WIDTH / upright.width))
        # An area average (box) after an integer reduction: smooth when shrinking, and cheaper
        # than bilinear (a third of the CPU of a photo's thumbnail), which dominates a big
        # preview's time.
        upright = upright.resize((WIDTH, height), Image.Resampling.BOX, reducing_gap=1.0)
    return upright


@cache
def _code() -> str:
    """What a kept thumbnail depends on besides its image: how it is made (this module), by which
    Pillow, and which JPEG library decodes and encodes for it (a Pillow built on the system's)."""
    jpeg = features.version("libjpeg_turbo") or features.version("jpg")
    return f"{PIL.__version__} {jpeg} {hashlib.sha256(Path(__file__).read_bytes()).hexdigest()}"
