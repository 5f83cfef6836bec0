from __future__ import annotations

import dataclasses
import hashlib
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import pytest

from reconciler.media import PINTEREST_LIMITS, MediaProblem, media_problems
from reconciler.mediaprobe import MediaInfo, MediaTypeError, inspect_media
from reconciler.repofiles import MediaPathError, resolve_repo_file
from tests.mediafiles import write_gif, write_jpeg, write_mov, write_mp4, write_png, write_webp

EXAMPLE_MEDIA = Path(__file__).resolve().parents[1] / "pins/media"


def problems(path: Path, field: str = "image") -> list[MediaProblem]:
    return media_problems(inspect_media(path), PINTEREST_LIMITS, field)


def image(tmp_path: Path, width: int, height: int) -> MediaInfo:
    return inspect_media(write_jpeg(tmp_path / "image.jpg", width, height))


# Detection by magic bytes


@pytest.mark.parametrize(
    ("write", "name", "content_type"),
    [
        (write_jpeg, "a.jpg", "image/jpeg"),
        (write_png, "a.png", "image/png"),
        (write_gif, "a.gif", "image/gif"),
        (write_webp, "a.webp", "image/webp"),
    ],
)
def test_images_are_recognised_with_their_dimensions(
    tmp_path: Path, write: Callable[[Path, int, int], Path], name: str, content_type: str
) -> None:
    info = inspect_media(write(tmp_path / name, 200, 300))
    assert (info.kind, info.content_type) == ("image", content_type)
    assert (info.width, info.height, info.duration) == (200, 300, None)


def test_the_extension_is_ignored(tmp_path: Path) -> None:
    info = inspect_media(write_png(tmp_path / "photo.jpg", 100, 150))
    assert info.content_type == "image/png"


def test_mp4_and_mov_are_recognised_with_their_length(tmp_path: Path) -> None:
    mp4 = inspect_media(write_mp4(tmp_path / "a.mp4", 10))
    mov = inspect_media(write_mov(tmp_path / "a.mov", 7.5))
    assert (mp4.kind, mp4.content_type, mp4.duration) == ("video", "video/mp4", 10.0)
    assert (mov.kind, mov.content_type, mov.duration) == ("video", "video/quicktime", 7.5)
    assert (mp4.width, mp4.height) == (None, None)


def test_heic_is_an_image_not_an_mp4(tmp_path: Path) -> None:
    path = tmp_path / "photo.heic"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic")
    info = inspect_media(path)
    assert (info.kind, info.content_type) == ("image", "image/heic")
    [problem] = media_problems(info, PINTEREST_LIMITS, "image")
    assert problem.message == "image is HEIC; Pinterest takes GIF, JPEG, PNG or WebP images"


@pytest.mark.parametrize("content", [b"BM6\x00\x00\x00 a bitmap", b""])
def test_unknown_or_empty_files_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "picture.jpg"
    path.write_bytes(content)
    with pytest.raises(MediaTypeError) as caught:
        inspect_media(path)
    assert caught.value.message.startswith("picture.jpg is ")
    assert caught.value.hint


def test_hash_and_size_cover_every_byte_of_a_large_file(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    content = b"\xff\xd8\xff" + bytes(range(256)) * 10_000  # several read chunks
    path.write_bytes(content)
    info = inspect_media(path)
    assert info.sha256 == hashlib.sha256(content).hexdigest()
    assert info.size == len(content)
    # Not a decodable JPEG: its dimensions are unknown, which is a warning, not a crash.
    assert (info.width, info.height) == (None, None)
    [problem] = media_problems(info, PINTEREST_LIMITS, "image")
    assert (problem.severity, problem.message) == (
        "warning",
        "image's dimensions could not be read",
    )


def test_a_video_whose_length_cannot_be_read_has_none(tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(write_mp4(tmp_path / "a.mp4", 10).read_bytes()[:200])
    zero_timescale = tmp_path / "zero.mp4"
    content = bytearray(write_mp4(tmp_path / "b.mp4", 10).read_bytes())
    timescale = content.index(b"mvhd") + 16
    content[timescale : timescale + 4] = bytes(4)
    zero_timescale.write_bytes(content)
    for path in (truncated, zero_timescale):
        info = inspect_media(path)
        assert info.duration is None
        [problem] = media_problems(info, PINTEREST_LIMITS, "video")
        assert problem.severity == "warning"
        assert problem.message == "video's length could not be read"


# What Pinterest takes


def test_a_2_by_3_image_is_clean(tmp_path: Path) -> None:
    assert problems(write_jpeg(tmp_path / "a.jpg", 1000, 1500)) == []


def test_a_small_image_is_an_error(tmp_path: Path) -> None:
    assert problems(write_jpeg(tmp_path / "a.jpg", 90, 90)) == [
        MediaProblem(
            "error",
            "image is 90×90 pixels; Pinterest needs at least 100×100",
            "use an image at least 1000×1500 (2:3)",
            "image dimensions",
        )
    ]


def test_an_image_taller_than_1_to_2_1_is_an_error(tmp_path: Path) -> None:
    [problem] = problems(write_png(tmp_path / "a.png", 500, 1500))
    assert problem.severity == "error"
    assert problem.message == "image is 500×1500 pixels, taller than the 1:2.1 Pinterest takes"


@pytest.mark.parametrize(("width", "height"), [(1000, 1000), (1920, 1080)])
def test_an_image_far_from_2_by_3_is_a_warning(tmp_path: Path, width: int, height: int) -> None:
    [problem] = problems(write_jpeg(tmp_path / "a.jpg", width, height))
    assert problem.severity == "warning"
    assert problem.message == (
        f"image is {width}×{height} pixels, far from the 2:3 Pinterest recommends"
    )


@pytest.mark.parametrize(("width", "height"), [(1080, 1920), (1000, 1250)])
def test_common_portrait_ratios_near_2_by_3_are_clean(
    tmp_path: Path, width: int, height: int
) -> None:
    assert media_problems(image(tmp_path, width, height), PINTEREST_LIMITS, "image") == []


def test_an_image_too_large_is_an_error(tmp_path: Path) -> None:
    info = dataclasses.replace(image(tmp_path, 1000, 1500), size=25_300_000)
    assert media_problems(info, PINTEREST_LIMITS, "image") == [
        MediaProblem(
            "error",
            "image is 25.3 MB; Pinterest takes at most 20 MB",
            "compress it or reduce its dimensions",
            "image size",
        )
    ]


def test_a_service_names_itself_its_minimum_width_and_the_ratios_it_lists(
    tmp_path: Path,
) -> None:
    limits = dataclasses.replace(
        PINTEREST_LIMITS, min_image_width=200, quiet_aspects=frozenset({1.5, 1.25, 1.0})
    )
    narrow = media_problems(image(tmp_path, 150, 225), limits, "image", "Crosspostify")
    assert [(p.severity, p.message, p.about) for p in narrow] == [
        (
            "error",
            "image is 150×225 pixels; Crosspostify needs at least 200 pixels of width",
            "image dimensions",
        )
    ]
    assert media_problems(image(tmp_path, 1000, 1000), limits, "image", "Crosspostify") == []
    assert media_problems(image(tmp_path, 1000, 1250), limits, "image", "Crosspostify") == []
    [wide] = media_problems(image(tmp_path, 1920, 1080), limits, "image", "Crosspostify")
    assert wide.message == (
        "image is 1920×1080 pixels, far from the 2:3 Crosspostify recommends "
        "(or the 1:1 and 4:5 it also takes)"
    )


def test_a_type_the_provider_does_not_take_is_an_error(tmp_path: Path) -> None:
    limits = dataclasses.replace(
        PINTEREST_LIMITS, image_types=frozenset({"image/jpeg", "image/png"})
    )
    info = inspect_media(write_webp(tmp_path / "a.webp", 1000, 1500))
    [problem] = media_problems(info, limits, "cover")
    assert problem.message == "cover is WebP; Pinterest takes JPEG or PNG images"


def test_the_field_must_match_the_kind(tmp_path: Path) -> None:
    video = write_mp4(tmp_path / "a.mp4", 10)
    picture = write_jpeg(tmp_path / "a.jpg", 1000, 1500)
    assert problems(video, "image") == [
        MediaProblem("error", "image is a video (MP4), not an image", "declare it under `video:`")
    ]
    assert problems(video, "cover") == [
        MediaProblem("error", "cover is a video (MP4), not an image", "use an image here")
    ]
    assert problems(picture, "video") == [
        MediaProblem("error", "video is an image (JPEG), not a video", "declare it under `image:`")
    ]


def test_video_length_limits(tmp_path: Path) -> None:
    assert problems(write_mp4(tmp_path / "ok.mp4", 10), "video") == []
    assert problems(write_mov(tmp_path / "ok.mov", 10), "video") == []
    assert problems(write_mp4(tmp_path / "short.mp4", 3), "video") == [
        MediaProblem(
            "error",
            "video is 3 s long; Pinterest needs at least 4 s",
            "use a video of 4 s to 15 min",
            "video length",
        )
    ]
    assert problems(write_mp4(tmp_path / "long.mp4", 1000), "video") == [
        MediaProblem(
            "error",
            "video is 16 min 40 s long; Pinterest takes at most 15 min",
            "trim it to 15 min or less",
            "video length",
        )
    ]


def test_a_video_too_large_is_an_error(tmp_path: Path) -> None:
    info = dataclasses.replace(inspect_media(write_mp4(tmp_path / "a.mp4", 10)), size=2_500_000_000)
    [problem] = media_problems(info, PINTEREST_LIMITS, "video")
    assert problem.message == "video is 2.5 GB; Pinterest takes at most 2 GB"


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("pasta.jpg", "image"),
        ("salad.jpg", "image"),
        ("living-room.png", "image"),
        ("bedroom.jpg", "image"),
        ("pasta-howto.mp4", "video"),
        ("pasta-howto-cover.jpg", "cover"),
    ],
)
def test_the_example_media_are_clean(name: str, field: str) -> None:
    assert problems(EXAMPLE_MEDIA / name, field) == []


# Paths in manifests


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A repository with pins/recipes/pasta.yaml and pins/media/pasta.jpg, and a file outside."""
    root = tmp_path / "repo"
    (root / "pins/recipes").mkdir(parents=True)
    (root / "pins/media").mkdir()
    (root / "pins/recipes/pasta.yaml").write_text("id: pasta\n")
    write_jpeg(root / "pins/media/pasta.jpg", 100, 150)
    write_jpeg(tmp_path / "outside.jpg", 100, 150)
    return root


def resolve(root: Path, value: str) -> Path:
    return resolve_repo_file(root, root / "pins/recipes/pasta.yaml", value)


def refusal(root: Path, value: str) -> str:
    with pytest.raises(MediaPathError) as caught:
        resolve(root, value)
    assert caught.value.hint
    return caught.value.message


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging when something blocks, as opening a FIFO for reading does."""

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise TimeoutError("blocked")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_path_is_relative_to_the_declaring_file(root: Path) -> None:
    assert resolve(root, "../media/pasta.jpg") == root.resolve() / "pins/media/pasta.jpg"
    assert resolve(root, "./../../pins/media/pasta.jpg") == root.resolve() / "pins/media/pasta.jpg"


def test_a_symlink_to_a_file_inside_the_repository_is_followed(root: Path) -> None:
    (root / "pins/recipes/link.jpg").symlink_to("../media/pasta.jpg")
    assert resolve(root, "link.jpg") == root.resolve() / "pins/media/pasta.jpg"


def test_an_absolute_path_is_refused(root: Path) -> None:
    target = str(root / "pins/media/pasta.jpg")
    assert refusal(root, target) == f"media path {target!r} is absolute"


def test_a_path_leaving_the_repository_is_refused(root: Path) -> None:
    assert refusal(root, "../../../outside.jpg") == (
        "media path '../../../outside.jpg' leads outside the repository"
    )


@pytest.mark.parametrize("target", ["outside", "/etc/hostname"])
def test_a_symlink_pointing_outside_is_refused(root: Path, target: str) -> None:
    outside = root.parent / "outside.jpg" if target == "outside" else Path(target)
    (root / "pins/media/link.jpg").symlink_to(outside)
    assert "outside the repository" in refusal(root, "../media/link.jpg")


def test_a_symlinked_folder_pointing_outside_is_refused(root: Path) -> None:
    (root / "pins/shared").symlink_to(root.parent)
    assert "outside the repository" in refusal(root, "../shared/outside.jpg")


def test_missing_files_are_refused(root: Path) -> None:
    assert refusal(root, "media/pasta.jpg") == "media file 'media/pasta.jpg' does not exist"
    assert "does not exist" in refusal(root, "../media/pasta.jpg/more.jpg")


def test_a_folder_is_refused(root: Path) -> None:
    assert refusal(root, "../media") == "media path '../media' is a folder"


def test_a_symlink_loop_is_refused(root: Path) -> None:
    (root / "pins/media/loop.jpg").symlink_to("loop.jpg")
    refusal(root, "../media/loop.jpg")


def test_a_fifo_is_refused_without_blocking(root: Path) -> None:
    fifo = root / "pins/media/pipe.jpg"
    os.mkfifo(fifo)
    with deadline(2):
        assert "not a regular file" in refusal(root, "../media/pipe.jpg")
        # Even when handed a FIFO directly, inspection refuses it rather than waiting on it.
        with pytest.raises(MediaPathError, match="not a regular file"):
            inspect_media(fifo)
