"""`pinops new MEDIA`: a manifest scaffolded from a media file, checked first, never overwriting."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Run
from tests.mediafiles import write_jpeg, write_mp4, write_png


def test_new_scaffolds_a_manifest_that_validates(pinops: Run, repo: Path) -> None:
    (repo / "pins/recipes/media").mkdir()
    write_jpeg(repo / "pins/recipes/media/Lemon Tart_2.jpg", 1000, 1500)
    result = pinops("new", "pins/recipes/media/Lemon Tart_2.jpg")
    assert result.code == 0, result.err
    manifest = repo / "pins/recipes/lemon-tart-2.yaml"
    assert manifest.read_text() == (
        "# yaml-language-server: $schema=../../schemas/pin-file.schema.json\n"
        "id: lemon-tart-2\n"
        "title: Lemon Tart 2\n"
        "# description: what the pin is about, at most 800 characters\n"
        "# link: https://example.com/the-page-the-pin-leads-to\n"
        "# alt_text: what the image shows, for people using screen readers\n"
        "image: media/Lemon Tart_2.jpg\n"
        "# board: Recipes (from pins/recipes/_defaults.yaml)\n"
    )
    assert result.out.startswith("Wrote pins/recipes/lemon-tart-2.yaml:\n")
    validated = pinops("validate")
    assert validated.code == 0, validated.err
    assert "pins/recipes/lemon-tart-2.yaml:2:5: warning: pin 'lemon-tart-2' has no alt_text" in (
        validated.out
    )
    # Run again: the manifest exists, and is left as it is.
    again = pinops("new", "pins/recipes/media/Lemon Tart_2.jpg")
    assert again.code == 1
    assert "pins/recipes/lemon-tart-2.yaml already exists; pinops new never overwrites" in (
        again.err
    )
    assert manifest.read_text().startswith("# yaml-language-server:")


def test_new_checks_the_media_before_writing(pinops: Run, repo: Path) -> None:
    write_jpeg(repo / "pins/recipes/tiny.jpg", 90, 90)
    result = pinops("new", "pins/recipes/tiny.jpg")
    assert result.code == 1
    assert result.err.startswith(
        "pins/recipes/tiny.jpg: error: image is 90×90 pixels; Pinterest needs at least 100×100"
    )
    assert not (repo / "pins/recipes/tiny.yaml").exists()


def test_new_warns_about_a_ratio_far_from_2_by_3(pinops: Run, repo: Path) -> None:
    write_png(repo / "pins/recipes/wide.png", 1920, 1080)
    result = pinops("new", "pins/recipes/wide.png")
    assert result.code == 0
    assert "warning: image is 1920×1080 pixels, far from the 2:3" in result.err


def test_new_takes_a_video_with_a_cover_frame(pinops: Run, repo: Path) -> None:
    write_mp4(repo / "pins/recipes/clip.mp4", 10)
    assert pinops("new", "pins/recipes/clip.mp4").code == 0
    text = (repo / "pins/recipes/clip.yaml").read_text()
    assert "video: clip.mp4\ncover_frame: 0" in text
    assert pinops("validate").code == 0


def test_new_needs_a_board_where_no_defaults_give_one(pinops: Run, repo: Path) -> None:
    write_jpeg(repo / "pins/media/lamp.jpg", 1000, 1500)
    refused = pinops("new", "pins/media/lamp.jpg")
    assert refused.code == 1
    assert "no board for the pin: no _defaults.yaml above pins/lamp.yaml sets one" in refused.err
    assert not (repo / "pins/lamp.yaml").exists()
    made = pinops("new", "pins/media/lamp.jpg", "--board", "Home Decor", "--id", "desk-lamp")
    assert made.code == 0, made.err
    text = (repo / "pins/desk-lamp.yaml").read_text()
    assert "id: desk-lamp\n" in text and "board: Home Decor\n" in text
    assert "image: media/lamp.jpg\n" in text
    assert pinops("validate").code == 0


def test_new_refuses_an_id_in_use_and_places_outside_the_pins(pinops: Run, repo: Path) -> None:
    write_jpeg(repo / "pins/recipes/pasta.jpg", 1000, 1500)
    taken = pinops("new", "pins/recipes/pasta.jpg", "--id", "easy-pasta")
    assert taken.code == 1
    assert "the id 'easy-pasta' is already used at pins/recipes/pasta.yaml:3:9" in taken.err
    outside = pinops("new", "pins/recipes/pasta.jpg", "--out", "elsewhere/pasta.yaml")
    assert outside.code == 1
    assert "elsewhere/pasta.yaml is not under pins, where manifests are read" in outside.err
    write_jpeg(repo.parent / "stranger.jpg", 1000, 1500)
    foreign = pinops("new", str(repo.parent / "stranger.jpg"))
    assert foreign.code == 1
    assert "is outside the repository" in foreign.err
    assert pinops("new", "pins/recipes/missing.jpg").code == 1
