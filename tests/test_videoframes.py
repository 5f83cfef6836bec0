"""A video pin's cover frame in the preview: decoded from a real video, at the second Pinterest
takes, and shown as the feed shows it."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser

from reconciler import media, thumbnails, videoframes
from reconciler.cache import Cache
from reconciler.providers.base import cover_second
from tests import browser as chromium
from tests.conftest import Run, edit
from tests.mediafiles import Colour, write_colour_video, write_mp4

# A second of each, in turn: the frame at second N is COLOURS[N].
COLOURS: list[Colour] = [
    (200, 30, 30),
    (30, 200, 30),
    (30, 30, 200),
    (220, 220, 40),
    (40, 200, 220),
]
PASTA = "pins/recipes/pasta.yaml"
COVER = "cover: ../media/pasta-howto-cover.jpg"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from chromium.launch()


@pytest.fixture
def video(tmp_path: Path) -> Path:
    return write_colour_video(tmp_path / "colours.mp4", COLOURS)


def frame(maker: thumbnails.Maker, video: Path, second: int) -> thumbnails.Thumbnail:
    with video.open("rb") as file:
        digest = hashlib.sha256(video.read_bytes()).hexdigest()
        return videoframes.thumbnail(maker, file, digest, second)


def centre(path: Path) -> tuple[int, ...]:
    with Image.open(path) as image:
        pixel = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    assert isinstance(pixel, tuple)
    return pixel


def near(colour: tuple[int, ...], wanted: Colour) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(colour, wanted, strict=True))


def test_the_thumbnail_is_the_frame_at_the_second(video: Path, tmp_path: Path) -> None:
    maker = thumbnails.Maker(tmp_path / "media")
    for second, colour in enumerate(COLOURS):
        made = frame(maker, video, second)
        assert made.name and (made.width, made.height, made.cropped) == (120, 180, False)
        assert near(centre(tmp_path / "media" / made.name), colour), second
        assert made.note == ""


def test_a_second_past_the_end_shows_the_last_frame_and_says_so(
    video: Path, tmp_path: Path
) -> None:
    made = frame(thumbnails.Maker(tmp_path), video, 60)
    assert made.name and near(centre(tmp_path / made.name), COLOURS[-1])
    assert (
        made.note
        == "Cover: 60 s is past the video's end (5.0 s), so Pinterest shows its last frame."
    )


def test_a_kept_frame_is_used_for_the_same_video_and_second_only(
    video: Path, tmp_path: Path
) -> None:
    store = Cache(tmp_path / "cache", "thumbnail")
    first = frame(thumbnails.Maker(tmp_path / "one", store), video, 2)
    again = frame(thumbnails.Maker(tmp_path / "two", store), video, 2)
    assert again == first
    other = frame(thumbnails.Maker(tmp_path / "three", store), video, 3)
    assert other.name != first.name and near(
        centre(tmp_path / "three" / str(other.name)), COLOURS[3]
    )
    # Another video, with the same second: made afresh.
    write_colour_video(video, list(reversed(COLOURS)))
    changed = frame(thumbnails.Maker(tmp_path / "four", store), video, 2)
    assert changed.name != first.name
    shown = frame(thumbnails.Maker(tmp_path / "five", store), video, 0)
    assert near(centre(tmp_path / "five" / str(shown.name)), COLOURS[-1])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not a video at all" * 100, "the video could not be decoded"),
        (b"", "the video could not be decoded"),
    ],
)
def test_a_video_that_cannot_be_decoded_gives_a_reason(
    data: bytes, reason: str, tmp_path: Path
) -> None:
    made = videoframes.thumbnail(thumbnails.Maker(tmp_path), io.BytesIO(data), "0" * 64, 1)
    assert (made.name, made.problem) == (None, reason)


def test_a_video_without_frames_gives_a_reason(tmp_path: Path) -> None:
    empty = write_mp4(tmp_path / "empty.mp4", 5.0)  # a movie header and no samples
    made = videoframes.thumbnail(
        thumbnails.Maker(tmp_path), io.BytesIO(empty.read_bytes()), "0" * 64, 1
    )
    assert made.name is None and made.problem


def test_the_second_is_the_one_the_providers_send() -> None:
    assert [cover_second(f) for f in (None, 0, 2, 2.4, 2.6)] == [0, 0, 2, 2, 3]


@pytest.fixture
def colour_video_pin(repo: Path) -> Path:
    """The example's video pin, with a real video of COLOURS and its cover at second 2."""
    write_colour_video(repo / "pins/media/pasta-howto.mp4", COLOURS)
    edit(repo / PASTA, COVER, "cover_frame: 2")
    return repo


def video_card(out: Path) -> str:
    page = (out / "index.html").read_text()
    found = re.search(r'aria-label="create pasta-howto-video">(.*?)</article>', page, re.S)
    assert found, page
    return found.group(1)


@pytest.mark.usefixtures("colour_video_pin")
def test_the_preview_shows_the_frame_at_cover_frame_in_the_browser(
    pinops: Run, browser: Browser, tmp_path: Path
) -> None:
    out = tmp_path / "preview"
    result = pinops("preview", "--out", str(out))
    assert result.code == 0, result.err
    card = video_card(out)
    assert "Cover: the video&#39;s frame at 2 s." in card
    src = re.search(r'<img src="(media/[0-9a-f]+\.jpg)"', card)
    assert src and near(centre(out / src.group(1)), COLOURS[2])
    seen = chromium.visit(browser, (out / "index.html").as_uri(), 390)
    assert seen.errors == [] and seen.dialogs == []
    image = seen.page.locator(f"img[src='{src.group(1)}']").first
    assert image.evaluate("i => i.complete && i.naturalWidth === 120")
    shot = Image.open(io.BytesIO(image.screenshot())).convert("RGB")
    pixel = shot.getpixel((shot.width // 2, shot.height // 2))
    assert isinstance(pixel, tuple) and near(pixel, COLOURS[2])


def test_a_video_without_a_cover_shows_its_first_frame(
    colour_video_pin: Path, pinops: Run, tmp_path: Path
) -> None:
    edit(colour_video_pin / PASTA, "cover_frame: 2", "")
    out = tmp_path / "preview"
    assert pinops("preview", "--out", str(out)).code == 0
    card = video_card(out)
    assert "Cover: the video&#39;s first frame (no cover is set)." in card
    src = re.search(r'<img src="(media/[0-9a-f]+\.jpg)"', card)
    assert src and near(centre(out / src.group(1)), COLOURS[0])


def test_a_cover_frame_past_the_end_says_pinterest_shows_the_last_frame(
    colour_video_pin: Path, pinops: Run, tmp_path: Path
) -> None:
    edit(colour_video_pin / PASTA, "cover_frame: 2", "cover_frame: 30")
    out = tmp_path / "preview"
    assert pinops("preview", "--out", str(out)).code == 0
    card = video_card(out)
    assert (
        "Cover: 30 s is past the video&#39;s end (5.0 s), so Pinterest shows its last frame."
        in card
    )
    src = re.search(r'<img src="(media/[0-9a-f]+\.jpg)"', card)
    assert src and near(centre(out / src.group(1)), COLOURS[-1])


def test_a_video_that_cannot_be_decoded_shows_a_placeholder_saying_so(
    repo: Path, pinops: Run, tmp_path: Path
) -> None:
    # MP4 by its header (validation reads no further), with no frame to decode.
    write_mp4(repo / "pins/media/pasta-howto.mp4", 20.0)
    edit(repo / PASTA, COVER, "cover_frame: 2")
    out = tmp_path / "preview"
    result = pinops("preview", "--out", str(out))
    assert result.code == 0 and "Traceback" not in result.err
    card = video_card(out)
    assert "<img" not in card
    assert re.search(r'class="placeholder".*pins/media/pasta-howto\.mp4: the video', card, re.S)


def test_a_video_from_a_url_is_shown_by_its_url_never_fetched(
    repo: Path, pinops: Run, browser: Browser, tmp_path: Path
) -> None:
    edit(
        repo / PASTA, "video: ../media/pasta-howto.mp4", "video: https://cdn.example.com/how-to.mp4"
    )
    edit(repo / PASTA, COVER, "cover_frame: 2")
    out = tmp_path / "preview"
    assert pinops("preview", "--out", str(out)).code == 0
    card = video_card(out)
    assert "<img" not in card
    assert "shown by URL: not fetched for the preview" in card
    assert "https://cdn.example.com/how-to.mp4" in card
    seen = chromium.visit(browser, (out / "index.html").as_uri(), 1280)
    own = out.resolve().as_uri() + "/"
    assert all(url.startswith(own) for url in seen.requests), seen.requests


def test_validate_and_plan_warn_of_a_cover_frame_past_the_video_s_end(
    colour_video_pin: Path, pinops: Run, tmp_path: Path
) -> None:
    """Pinterest takes the last frame then: the pin is published, so it is a warning, at the
    value, and the preview shows the same last frame."""
    warning = (
        "pins/recipes/pasta.yaml:19:18: warning: cover_frame 5 is past the end of the 5 s video: "
        "Pinterest takes its last frame as the cover "
        "(write cover_frame: 4 or less, or give the video a cover: image)"
    )
    edit(colour_video_pin / PASTA, "cover_frame: 2", "cover_frame: 5")
    checked = pinops("validate")
    assert checked.code == 0 and warning in checked.out
    planned = pinops("plan")
    assert planned.code == 0 and warning in planned.err
    out = tmp_path / "preview"
    assert pinops("preview", "--out", str(out)).code == 0
    assert "Cover: 5 s is past the video&#39;s end" in video_card(out)
    edit(colour_video_pin / PASTA, "cover_frame: 5", "cover_frame: 4")
    assert "past the end" not in pinops("validate").out
    out = tmp_path / "before-the-end"
    assert pinops("preview", "--out", str(out)).code == 0
    assert "Cover: the video&#39;s frame at 4 s." in video_card(out)


@pytest.mark.parametrize(
    ("second", "duration", "last"),
    [(5, 5.5, None), (6, 5.5, 5), (0, 0.4, None), (1, 0.4, 0), (3, None, None), (900, 900.0, 899)],
)
def test_the_cover_is_past_the_end_when_no_frame_starts_at_or_after_its_second(
    second: int, duration: float | None, last: int | None
) -> None:
    found = media.cover_past_end(second, duration)
    if last is None:
        assert found is None
    else:
        assert found is not None and found.severity == "warning"
        assert found.hint.startswith(f"write cover_frame: {last} or less")
