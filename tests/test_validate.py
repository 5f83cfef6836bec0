"""Bad input gets `path:line:col: what is wrong (how to fix)`, exit 1, and never touches state."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Run, edit


def test_the_example_repository_is_valid(pinops: Run) -> None:
    result = pinops("validate")
    assert result.code == 0, result.err
    assert result.out == "Valid: 8 pins, 0 warnings.\n"


def write(repo: Path, name: str, text: str) -> None:
    (repo / "pins" / name).write_text(text, encoding="utf-8")


PIN = """\
id: {id}
board: Recipes
title: {title}
link: https://example.com/x
image: media/pasta.jpg
alt_text: A bowl of pasta
"""


def test_invalid_yaml(pinops: Run, repo: Path) -> None:
    write(repo, "bad.yaml", "id: broken\ntitle: [unclosed\n")
    result = pinops("validate")
    assert result.code == 1
    assert result.err.startswith("pins/bad.yaml:3:1: error: invalid YAML: ")
    assert "Traceback" not in result.err


def test_unknown_field_suggests_the_known_one(pinops: Run, repo: Path) -> None:
    write(repo, "typo.yaml", PIN.format(id="typo", title="T") + "titel: Oops\n")
    result = pinops("validate")
    assert result.code == 1
    assert result.err == (
        "pins/typo.yaml:7:1: error: unknown field 'titel' (did you mean 'title'?)\n"
        "error: 1 problem found\n"
    )


def test_too_long_title(pinops: Run, repo: Path) -> None:
    write(repo, "long.yaml", PIN.format(id="long", title="x" * 120))
    result = pinops("validate")
    assert result.code == 1
    assert (
        "pins/long.yaml:3:8: error: title is 120 characters; the limit is 100 (shorten it by 20)"
        in (result.err)
    )


def test_duplicate_ids_name_both_places(pinops: Run, repo: Path) -> None:
    write(repo, "dupe.yaml", PIN.format(id="easy-pasta", title="Again"))
    result = pinops("validate")
    assert result.code == 1
    assert result.err == (
        "pins/dupe.yaml:1:5: error: duplicate id 'easy-pasta' (also at pins/recipes/pasta.yaml:3:9)"
        " (ids must be unique)\n"
        "pins/recipes/pasta.yaml:3:9: error: duplicate id 'easy-pasta' (also at pins/dupe.yaml:1:5)"
        " (ids must be unique)\n"
        "error: 2 problems found\n"
    )


def test_missing_media_file(pinops: Run, repo: Path) -> None:
    write(repo, "gone.yaml", PIN.format(id="gone", title="T").replace("pasta.jpg", "nothing.jpg"))
    result = pinops("validate")
    assert result.code == 1
    assert result.err.startswith("pins/gone.yaml:5:8: error: ")
    assert "nothing.jpg" in result.err


def test_a_pin_without_a_medium(pinops: Run, repo: Path) -> None:
    write(
        repo, "bare.yaml", PIN.format(id="bare", title="T").replace("image: media/pasta.jpg\n", "")
    )
    result = pinops("validate")
    assert result.code == 1
    assert (
        "pins/bare.yaml:1:5: error: pin 'bare' has no medium (add image: or video:)" in result.err
    )


def test_media_path_leaving_the_repository(pinops: Run, repo: Path) -> None:
    outside = repo.parent / "secret.jpg"
    outside.write_bytes((repo / "pins/media/pasta.jpg").read_bytes())
    write(
        repo,
        "escape.yaml",
        PIN.format(id="escape", title="T").replace("media/pasta.jpg", "../../secret.jpg"),
    )
    result = pinops("validate")
    assert result.code == 1
    assert result.err.startswith("pins/escape.yaml:5:8: error: ")


def test_every_problem_is_reported_at_once(pinops: Run, repo: Path) -> None:
    write(repo, "a.yaml", PIN.format(id="a", title="x" * 101))
    write(
        repo,
        "b.yaml",
        "id: b\nboard: Recipes\nimage: media/pasta.jpg\nvideo: media/pasta-howto.mp4\n"
        "alt_text: A\n",
    )
    write(repo, "c.yaml", "id: c\nimage: media/pasta.jpg\ncover_frame: 2\nalt_text: A\n")
    result = pinops("validate")
    assert result.code == 1
    lines = result.err.splitlines()
    assert lines == [
        "pins/a.yaml:3:8: error: title is 101 characters; the limit is 100 (shorten it by 1)",
        "pins/b.yaml:4:8: error: pin 'b' has both image and video"
        " (keep only one of image and video)",
        "pins/c.yaml:1:5: error: pin 'c' has no board (add board: NAME)",
        "pins/c.yaml:3:14: error: cover_frame is only for video pins (remove cover_frame)",
        "error: 4 problems found",
    ]


def test_publish_at_must_be_utc(pinops: Run, repo: Path) -> None:
    edit(repo / "pins/home/living-spaces.yaml", "2027-03-01T09:00:00Z", "2027-03-01T09:00:00+02:00")
    result = pinops("validate")
    assert result.code == 1
    assert "is not in UTC (write it in UTC, e.g. 2026-12-01T14:00:00Z)" in result.err


def test_bad_input_never_touches_state(pinops: Run, repo: Path) -> None:
    assert pinops("apply", "--yes").code == 0
    state = repo / "pinops.state.json"
    before = state.read_bytes(), state.stat().st_mtime_ns
    write(repo, "bad.yaml", "id: [\n")
    for command in (("plan",), ("apply", "--yes")):
        result = pinops(*command)
        assert result.code == 1
        assert "Traceback" not in result.err
    assert (state.read_bytes(), state.stat().st_mtime_ns) == before


def test_bad_config_is_located(pinops: Run, repo: Path) -> None:
    edit(repo / "pinops.yaml", "provider: sandbox", "provider: myspace")
    result = pinops("plan")
    assert result.code == 1
    assert result.err.startswith(
        "pinops.yaml:7:15: error: provider 'myspace' is not one of the allowed"
    )


def test_a_sandbox_board_typo_is_reported_where_it_is_written(pinops: Run, repo: Path) -> None:
    """The sandbox's boards are declared, so validate knows a wrong name: it is reported once,
    at the `_defaults.yaml` line that has it, not at each pin that inherits it."""
    edit(repo / "pins/recipes/_defaults.yaml", "board: Recipes", "board: Recipies")
    edit(repo / "pins/home/living-spaces.yaml", "board: Home Decor", "board: '123'")  # an id
    result = pinops("validate")
    assert result.code == 1
    assert result.err == (
        "pins/recipes/_defaults.yaml:4:10: error: board 'Recipies' does not exist in account "
        "'main' (did you mean 'Recipes'? boards there: Home Decor, Recipes, Weeknight Dinners)\n"
        "error: 1 problem found\n"
    )


def test_a_value_no_alternative_takes_is_said_in_words(pinops: Run, repo: Path) -> None:
    edit(repo / "pinops.yaml", "max_deletes: 25%", "max_deletes: lots")
    result = pinops("validate")
    assert result.code == 1
    assert result.err.startswith(
        "pinops.yaml:11:16: error: max_deletes 'lots' is not valid "
        "(a count, or a percentage such as 25%)\n"
    ), result.err
    assert "given schemas" not in result.err


def test_an_error_at_a_place_reads_as_a_problem_does(pinops: Run, repo: Path) -> None:
    edit(repo / "pinops.yaml", "max_deletes: 25%", "max_deletes: 25%\n  max_deletes: 3")
    duplicate = pinops("validate")  # an error raised alone, not a list of problems
    assert duplicate.code == 1
    assert duplicate.err.startswith("pinops.yaml:12:3: error: duplicate key 'max_deletes'")
    edit(repo / "pinops.yaml", "\n  max_deletes: 3", "")
    unplaced = pinops("apply", "nowhere.json")  # no file to point at: the error comes first
    assert unplaced.code == 1
    assert unplaced.err.startswith("error: "), unplaced.err


def test_a_file_that_is_not_utf8_is_located_at_its_first_bad_byte(pinops: Run, repo: Path) -> None:
    (repo / "pins" / "latin1.yaml").write_bytes(b"id: latin\ntitle: Cr\xe8me br\xfbl\xe9e\n")
    result = pinops("validate")
    assert result.code == 1
    assert result.err.startswith(
        "pins/latin1.yaml:2:10: error: the file is not valid UTF-8 (save it as UTF-8)\n"
    ), result.err


def test_a_csv_file_that_cannot_be_read_says_how_to_quote(pinops: Run, repo: Path) -> None:
    data = repo / "pins/shop/products.csv"
    data.write_text(data.read_text(encoding="utf-8") + 'XX-1,"unclosed\n', encoding="utf-8")
    result = pinops("validate")
    assert result.code == 1
    assert "error: invalid CSV: " in result.err
    assert "in double quotes, and double each quote inside it" in result.err
