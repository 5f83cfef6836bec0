"""What `pinops validate` says about media and advice, on real files written per test: errors stop
the run (exit 1); warnings are printed and the run still passes (exit 0)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from reconciler import advice
from reconciler.errors import Location
from reconciler.manifest import Pin
from reconciler.media import PINTEREST_LIMITS, media_problems
from reconciler.mediaprobe import inspect_media
from tests.conftest import Run, edit
from tests.mediafiles import write_gif, write_jpeg, write_mov, write_mp4, write_png, write_webp

PIN = """\
id: checked
board: Recipes
title: Garlic pasta for busy evenings
description: Garlic pasta with basil, ready in fifteen minutes.
link: https://example.com/pasta
alt_text: A bowl of garlic pasta
{medium}
"""


def pin(repo: Path, medium: str) -> None:
    (repo / "pins/checked.yaml").write_text(PIN.format(medium=medium), encoding="utf-8")


def media_dir(repo: Path) -> Path:
    return repo / "pins/media"


def validate(pinops: Run, code: int) -> list[str]:
    result = pinops("validate")
    assert result.code == code, result.err
    assert "Traceback" not in result.err
    return (result.err if code else result.out).splitlines()[:-1]


def use_pinterest(repo: Path) -> None:
    """Pinterest's own API takes JPEG and PNG only; validation needs no credentials for it."""
    edit(repo / "pinops.yaml", "provider: sandbox", "provider: pinterest")


# Type, by the bytes


def test_a_png_named_jpg_is_read_as_a_png(pinops: Run, repo: Path) -> None:
    write_png(media_dir(repo) / "photo.jpg", 1000, 1500)
    pin(repo, "image: media/photo.jpg")
    use_pinterest(repo)
    assert validate(pinops, 0) == []
    info = inspect_media(media_dir(repo) / "photo.jpg")
    assert info.content_type == "image/png"
    jpeg_only = dataclasses.replace(PINTEREST_LIMITS, image_types=frozenset({"image/jpeg"}))
    [problem] = media_problems(info, jpeg_only, "image")
    assert problem.message == "image is PNG; Pinterest takes JPEG images"


@pytest.mark.parametrize("write", [write_gif, write_webp])
def test_types_the_provider_does_not_take_are_errors_whatever_their_name(
    pinops: Run, repo: Path, write: Callable[[Path, int, int], Path]
) -> None:
    write(media_dir(repo) / "photo.jpg", 1000, 1500)
    pin(repo, "image: media/photo.jpg")
    assert validate(pinops, 0) == []  # the sandbox takes GIF and WebP, as Pinterest's site does
    use_pinterest(repo)
    [line] = validate(pinops, 1)
    assert line.startswith("pins/checked.yaml:7:8: error: image is ")
    assert line.endswith("; Pinterest takes JPEG or PNG images (convert it to JPEG or PNG)")


def test_a_file_that_is_no_image_is_an_error(pinops: Run, repo: Path) -> None:
    (media_dir(repo) / "notes.jpg").write_text("just some text")
    pin(repo, "image: media/notes.jpg")
    [line] = validate(pinops, 1)
    assert line.startswith(
        "pins/checked.yaml:7:8: error: notes.jpg is not a JPEG, PNG, GIF, WebP, MP4 or MOV file"
    )


def test_a_video_under_image_is_an_error(pinops: Run, repo: Path) -> None:
    write_mp4(media_dir(repo) / "clip.jpg", 10)
    pin(repo, "image: media/clip.jpg")
    assert validate(pinops, 1) == [
        "pins/checked.yaml:7:8: error: image is a video (MP4), not an image"
        " (declare it under `video:`)"
    ]


# Size and dimensions


def test_a_90_by_90_image_is_an_error(pinops: Run, repo: Path) -> None:
    write_jpeg(media_dir(repo) / "tiny.jpg", 90, 90)
    pin(repo, "image: media/tiny.jpg")
    assert validate(pinops, 1) == [
        "pins/checked.yaml:7:8: error: image is 90×90 pixels; Pinterest needs at least 100×100"
        " (use an image at least 1000×1500 (2:3))"
    ]


def test_an_image_taller_than_1_to_2_1_is_an_error(pinops: Run, repo: Path) -> None:
    write_png(media_dir(repo) / "tall.png", 400, 1000)
    pin(repo, "image: media/tall.png")
    [line] = validate(pinops, 1)
    assert "image is 400×1000 pixels, taller than the 1:2.1 Pinterest takes" in line


def test_an_image_far_from_2_by_3_is_a_warning(pinops: Run, repo: Path) -> None:
    write_jpeg(media_dir(repo) / "square.jpg", 1000, 1000)
    pin(repo, "image: media/square.jpg")
    result = pinops("validate")
    assert result.code == 0
    assert result.out.splitlines()[0] == (
        "pins/checked.yaml:7:8: warning: image is 1000×1000 pixels, far from the 2:3 Pinterest"
        " recommends (use 2:3, e.g. 1000×1500, so the pin is not cropped or shown small)"
    )
    assert result.out.endswith(" 1 warning.\n")


def test_an_image_over_20_mb_is_an_error(pinops: Run, repo: Path) -> None:
    big = write_jpeg(media_dir(repo) / "big.jpg", 1000, 1500)
    with big.open("ab") as file:  # bytes after the end of the picture still count
        file.write(bytes(20_100_000))
    pin(repo, "image: media/big.jpg")
    [line] = validate(pinops, 1)
    assert "image is 20.1 MB; Pinterest takes at most 20 MB" in line


def test_an_image_whose_dimensions_cannot_be_read_is_a_warning(pinops: Run, repo: Path) -> None:
    (media_dir(repo) / "odd.jpg").write_bytes(b"\xff\xd8\xff" + bytes(100))
    pin(repo, "image: media/odd.jpg")
    [line] = validate(pinops, 0)
    assert line.startswith("pins/checked.yaml:7:8: warning: image's dimensions could not be read")


# Videos


def video_pin(repo: Path, name: str) -> None:
    write_jpeg(media_dir(repo) / "cover.jpg", 1000, 1500)
    pin(repo, f"video: media/{name}\ncover: media/cover.jpg")


def test_a_3_second_mp4_is_an_error(pinops: Run, repo: Path) -> None:
    write_mp4(media_dir(repo) / "short.mp4", 3)
    video_pin(repo, "short.mp4")
    assert validate(pinops, 1) == [
        "pins/checked.yaml:7:8: error: video is 3 s long; Pinterest needs at least 4 s"
        " (use a video of 4 s to 15 min)"
    ]


def test_videos_from_4_seconds_to_15_minutes_are_taken(pinops: Run, repo: Path) -> None:
    for seconds, name in ((4, "four.mp4"), (900, "fifteen.mov")):
        (write_mov if name.endswith(".mov") else write_mp4)(media_dir(repo) / name, seconds)
        video_pin(repo, name)
        assert validate(pinops, 0) == []


def test_a_video_over_15_minutes_is_an_error(pinops: Run, repo: Path) -> None:
    write_mov(media_dir(repo) / "long.mov", 15 * 60 + 1)
    video_pin(repo, "long.mov")
    [line] = validate(pinops, 1)
    assert "video is 15 min 1 s long; Pinterest takes at most 15 min" in line


def test_a_video_cover_is_checked_as_an_image(pinops: Run, repo: Path) -> None:
    write_mp4(media_dir(repo) / "ok.mp4", 10)
    video_pin(repo, "ok.mp4")
    write_jpeg(media_dir(repo) / "cover.jpg", 90, 90)
    [line] = validate(pinops, 1)
    assert line.startswith("pins/checked.yaml:8:8: error: cover is 90×90 pixels;")


# Advice: warnings that never fail a run


def test_advice_warnings_do_not_fail_validation(pinops: Run, repo: Path) -> None:
    (repo / "pins/advice.yaml").write_text(
        "id: advice\n"
        "board: Recipes\n"
        "title: Weeknight Dinner Ideas\n"
        "description: Garlic pasta with basil, ready in fifteen minutes.\n"
        "link: https://bit.ly/3xYz\n"
        "image: media/pasta.jpg\n",
        encoding="utf-8",
    )
    result = pinops("validate")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "pins/advice.yaml:1:5: warning: pin 'advice' has no alt_text"
        " (add alt_text: describing the image, for people using screen readers) [alt-text]",
        "pins/advice.yaml:3:8: warning: the title does not lead with words from the description:"
        " 'Weeknight Dinner Ideas' (start the title with what the description is about;"
        " Pinterest search weighs a title's first words) [title-lead]",
        "pins/advice.yaml:5:7: warning: the link goes through the URL shortener bit.ly"
        " (link to the destination page itself; Pinterest may block shortened links)"
        " [link-shortener]",
        result.out.splitlines()[-1],
    ]
    assert result.out.splitlines()[-1].endswith(", 3 warnings.")
    document = json.loads(pinops("validate", "--json").out)
    assert document["valid"] is True
    assert [p["severity"] for p in document["problems"]] == ["warning"] * 3
    assert [p["rule"] for p in document["problems"]] == ["alt-text", "title-lead", "link-shortener"]
    # A plan shows them too, and still plans.
    plan = pinops("plan")
    assert plan.code == 0 and "warning: the link goes through" in plan.err


@pytest.mark.parametrize(
    ("title", "description", "leads"),
    [
        ("Easy 15-Minute Garlic Pasta", "Creamy garlic pasta from pantry staples.", True),
        ("Pastas for Winter", "Three pasta dishes.", True),  # a plural matches its singular
        ("The Best Weeknight Dinners", "Garlic pasta with basil.", False),
        ("How to Make Bread", "Bread needs time, not work.", True),  # minor words are skipped
        ("2024 Guide", "A guide.", True),
        ("Bread Recipes", "And the 42.", True),  # no word that carries meaning
        ("Pasta Night", "Antipasti and antipasta platters.", False),  # inside a word is not a word
    ],
)
def test_what_leading_with_description_words_means(
    title: str, description: str, leads: bool
) -> None:
    here = Location("pins/x.yaml", 1, 1)
    found = advice.warnings(
        Pin(
            "x",
            here,
            {"title": title, "description": description, "alt_text": "x", "image": "a.jpg"},
            {"title": here, "description": here, "alt_text": here, "image": here},
        )
    )
    assert (not found) is leads


@pytest.mark.parametrize(
    ("link", "host"),
    [
        ("https://bit.ly/abc", "bit.ly"),
        ("https://www.tinyurl.com/abc", "tinyurl.com"),
        ("https://T.CO/abc", "t.co"),
        ("https://example.com/bit.ly", None),
        ("https://notbit.ly/abc", None),
        ("https://[::1", None),
        ("https://bit.ly./abc", "bit.ly"),
        ("http://bit.ly/abc", "bit.ly"),
        ("https://someone@bit.ly:443/abc", "bit.ly"),
    ],
)
def test_known_url_shorteners(link: str, host: str | None) -> None:
    assert advice.shortener(link) == host


def test_the_example_media_stay_clean_after_copying(repo: Path, pinops: Run) -> None:
    shutil.copy(media_dir(repo) / "salad.jpg", media_dir(repo) / "copy.jpg")
    pin(repo, "image: media/copy.jpg")
    assert validate(pinops, 0) == []
    with Image.open(media_dir(repo) / "copy.jpg") as image:
        assert image.size == (1000, 1500)
