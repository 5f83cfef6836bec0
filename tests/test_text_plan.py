"""The text plan shows every change: long values word by word, replaced media, what waits and
what is deleted; in colour on a terminal, plain elsewhere; apply stays short unless asked."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from reconciler import report
from reconciler.providers.sandbox import pin_id
from tests.conftest import Run, edit
from tests.mediafiles import write_jpeg
from tests.terminals import environment, on_terminal

SALAD = "pins/recipes/summer-salad.yaml"
ESCAPE = "\x1b["


def test_a_change_past_72_characters_is_shown_word_by_word(repo: Path, pinops: Run) -> None:
    assert pinops("apply", "--yes").code == 0
    edit(repo / SALAD, "A side for every barbecue.", "A side for every summer barbecue.")
    out = pinops("plan").out
    assert ('      description:    "… A side for every {+summer +}barbecue."\n') in out


def test_word_diff_keeps_a_few_words_around_each_change() -> None:
    old = " ".join(f"word{n}" for n in range(40))
    new = old.replace("word3 ", "first ").replace("word30 ", "second ")
    line = report.word_diff(old, new)
    assert "".join(part for part, _style in line) == (
        '"word0 word1 word2 [-word3-]{+first+} word4 word5 word6 word7 … '
        'word26 word27 word28 word29 [-word30-]{+second+} word31 word32 word33 word34 …"'
    )
    assert [style for _part, style in line if style] == ["removed", "added"] * 2


def test_media_replaced_at_the_same_path_shows_content_changed(repo: Path, pinops: Run) -> None:
    assert pinops("apply", "--yes").code == 0
    write_jpeg(repo / "pins/media/salad.jpg", 1000, 1500, (20, 120, 200))
    out = pinops("plan").out
    assert "      image:          pins/media/salad.jpg (content changed)\n" in out


def test_waits_and_deletes_show_what_they_hold(repo: Path, pinops: Run) -> None:
    edit(repo / "pinops.yaml", "prune: false", "prune: true")
    edit(repo / "pinops.yaml", "max_deletes: 25%", "max_deletes: 100%")
    assert pinops("apply", "--yes").code == 0
    (repo / SALAD).unlink()
    out = pinops("plan").out
    wait = out.split("  ⏲ wait calm-bedroom  (pins/home/living-spaces.yaml:12)\n")[1]
    assert wait.startswith(
        "      # publish_at 2027-03-01T09:00:00Z\n"
        '      board:          "Home Decor"\n'
        '      title:          "A Calm Bedroom in Five Steps"\n'
    )
    delete = out.split("  - delete summer-salad\n")[1]
    assert '      title:          "Crunchy Summer Salad with Lemon Dressing"\n' in delete
    assert "      pin:            " in delete


def test_colour_on_a_terminal_and_never_when_piped_or_with_no_color(repo: Path) -> None:
    coloured = on_terminal("-C", str(repo), "plan")
    assert coloured.code == 0
    assert f"{ESCAPE}32m+ create{ESCAPE}0m cozy-living-room" in coloured.screen
    plain = on_terminal("-C", str(repo), "plan", env=environment(NO_COLOR="1"))
    assert ESCAPE not in plain.screen and "  + create cozy-living-room" in plain.screen
    piped = subprocess.run(
        [sys.executable, "-m", "reconciler", "-C", str(repo), "plan"],
        capture_output=True,
        text=True,
        check=False,
        env=environment(),
    )
    assert piped.returncode == 0 and ESCAPE not in piped.stdout
    forced = subprocess.run(
        [sys.executable, "-m", "reconciler", "-C", str(repo), "plan"],
        capture_output=True,
        text=True,
        check=False,
        env=environment(FORCE_COLOR="1"),
    )
    assert f"{ESCAPE}32m+ create" in forced.stdout


def test_apply_prints_the_summary_unless_asked_for_the_whole_plan(repo: Path, pinops: Run) -> None:
    short = pinops("apply", "--yes")
    assert short.out.startswith(
        "Plan: 8 to create, 0 to update, 0 to replace, 0 to delete. (1 waiting) "
        "(--show-plan prints every change)\n[1/8] + cozy-living-room: created"
    )
    edit(repo / SALAD, "Crunchy Summer Salad", "Crisp Summer Salad")
    whole = pinops("apply", "--yes", "--show-plan")
    assert whole.out.startswith("pinops will perform these actions:\n")
    assert '"Crunchy Summer Salad with Lemon Dressing" → "Crisp Summer' in whole.out


def test_progress_has_rate_and_eta_on_a_terminal_and_plain_lines_in_ci(repo: Path) -> None:
    session = on_terminal("-C", str(repo), "apply", "--yes")
    assert session.code == 0, session.screen
    assert "ETA" in session.screen and "8/8" in session.screen
    assert "[8/8] + summer-salad: created" in session.screen
    edit(repo / SALAD, "Crunchy Summer Salad", "Crisp Summer Salad")
    ci = on_terminal("-C", str(repo), "apply", "--yes", env=environment(CI="true"))
    assert ci.code == 0, ci.screen
    assert "ETA" not in ci.screen
    assert f"[1/1] ~ summer-salad: updated (pin {pin_id('main', 8)})\n" in ci.screen


def test_drift_in_a_long_value_is_shown_word_by_word(repo: Path, pinops: Run) -> None:
    assert pinops("apply", "--yes").code == 0
    with closing(sqlite3.connect(repo / ".pinops/sandbox/main.sqlite3")) as db, db:
        db.execute(
            "UPDATE pins SET description = replace(description, 'every barbecue', 'every picnic')"
            " WHERE link LIKE '%salad%'"
        )
    assert (
        '  ~ summer-salad: description since published: "… A side for every '
        '[-barbecue.-]{+picnic.+}"\n'
    ) in pinops("refresh").out


def test_the_word_runs_give_both_texts_back() -> None:
    from reconciler import worddiff

    old, new = "Easy pasta  for two, in ten minutes", "Easy pasta for four, in ten minutes!"
    found = worddiff.runs(old, new)
    assert "".join(t for k, t in found if k != worddiff.INSERTED) == old
    assert "".join(t for k, t in found if k != worddiff.DELETED) == new
    assert (worddiff.DELETED, "two,") in found and (worddiff.INSERTED, "four,") in found
    assert found[0] == (worddiff.SAME, "Easy pasta")
