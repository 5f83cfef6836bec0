"""Thumbnails for the preview: each repository image made small and cropped the way the feed
crops it, with Pillow.

The feed shows a pin at its own aspect ratio, in a column of fixed width; a pin taller than the
long-pin ratio (1:2.1, the tallest Pinterest documents) is cut at the bottom. Thumbnails are made
at 1.5 times the feed's column width (sharp enough on most screens, and about 15 kB each), as
JPEG, once per distinct file (named by its SHA-256), so a plan of thousands of pins stays small.
Bytes that are not an image Pillow can read, or that would decode to more pixels than a pin may
have, give no thumbnail and a reason instead, never an error.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

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
    """A made thumbnail (file name under the preview's media folder and its size), or why not."""

    name: str | None
    width: int = 0
    height: int = 0
    cropped: bool = False
    problem: str = ""


def feed_size(width: int, height: int) -> tuple[int, int, bool]:
    """The size a width×height image shows at in a thumbnail, and whether the feed cuts it."""
    scale = min(1.0, WIDTH / width)
    shown_w = max(1, round(width * scale))
    shown_h = max(1, round(height * scale))
    tallest = round(shown_w * TALLEST)
    return shown_w, min(shown_h, tallest), shown_h > tallest


class Maker:
    """Makes thumbnails into `folder`, each distinct image once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.made: dict[str, Thumbnail] = {}

    def from_bytes(self, data: bytes, digest: str | None = None) -> Thumbnail:
        digest = digest or hashlib.sha256(data).hexdigest()
        found = self.made.get(digest)
        if found is None:
            found = self.made[digest] = self._make(data, digest)
        return found

    def _make(self, data: bytes, digest: str) -> Thumbnail:
        try:
            with warnings.catch_warnings():
                # Pillow warns, then refuses, past its own limit; ours is lower and refuses.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data)) as image:
                    if image.width * image.height > MAX_PIXELS:
                        return Thumbnail(None, problem="the image is too large to preview")
                    # JPEG decodes straight at a fraction of its size: much faster.
                    image.draft("RGB", (WIDTH, round(WIDTH * TALLEST)))
                    small = self._shrink(image)
        except (
            UnidentifiedImageError,
            Image.DecompressionBombError,
            Image.DecompressionBombWarning,
        ):
            return Thumbnail(None, problem="not an image that can be previewed")
        except (OSError, ValueError, SyntaxError):
            return Thumbnail(None, problem="the image could not be decoded")
        width, height, cropped = feed_size(small.width, small.height)
        if cropped:
            small = small.crop((0, 0, width, height))
        name = f"{digest[:32]}.jpg"
        self.folder.mkdir(parents=True, exist_ok=True)
        small.save(self.folder / name, "JPEG", quality=QUALITY)
        return Thumbnail(name, small.width, small.height, cropped)

    @staticmethod
    def _shrink(image: Image.Image) -> Image.Image:
        upright = ImageOps.exif_transpose(image)
        if upright.mode not in ("RGB", "L"):
            # Transparent parts show on white, as on a pin.
            rgba = upright.convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            upright = flat
        upright = upright.convert("RGB")
        if upright.width > WIDTH:
            height = max(1, round(upright.height * WIDTH / upright.width))
            # Bilinear after a box reduction: Pillow's filters scale with the ratio, so this is
            # smooth at a third of Lanczos' cost, which dominates a big preview's time.
            upright = upright.resize((WIDTH, height), Image.Resampling.BILINEAR, reducing_gap=1.0)
        return upright
