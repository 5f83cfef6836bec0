"""The whole loop through `main(argv)`, as the README's quick start runs it."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.providers.sandbox import pin_id
from tests.conftest import Run, edit, sandbox_pins

PASTA = "pins/recipes/pasta.yaml"


def published(repo: Path) -> dict[str, dict[str, object]]:
    return sandbox_pins(repo)


def test_apply_publishes_the_example_then_has_nothing_to_do(pinops: Run, repo: Path) -> None:
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    assert "Plan: 8 to create, 0 to update, 0 to replace, 0 to delete. (1 waiting)" in result.out
    assert f"[1/8] + cozy-living-room: created (pin {pin_id('main', 1)})" in result.out
    assert result.out.endswith("Apply complete: 8 created, 0 updated, 0 replaced, 0 deleted.\n")
    assert len(published(repo)) == 8
    state = json.loads((repo / "pinops.state.json").read_text())
    assert state["serial"] == 1
    assert sorted(state["pins"]) == [
        "cozy-living-room",
        "easy-pasta@Recipes",
        "easy-pasta@Weeknight Dinners",
        "pasta-howto-video",
        "product-ap-22",  # generated from pins/shop/products.csv
        "product-kn-05",
        "product-sk-10",
        "summer-salad",
    ]
    again = pinops("apply", "--yes")
    assert again.code == 0
    assert (
        again.out
        == (
            "No changes to make now.\n\n"
            "  ⏲ wait calm-bedroom  (pins/home/living-spaces.yaml:14:9)\n"
            "      # publish_at 2027-03-01T09:00:00Z\n"
        )
        or "No changes" in again.out
    )
    assert json.loads((repo / "pinops.state.json").read_text())["serial"] == 1


def test_state_file_is_sorted_with_a_trailing_newline(pinops: Run, repo: Path) -> None:
    pinops("apply", "--yes")
    text = (repo / "pinops.state.json").read_text()
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def test_title_edit_plans_one_update(pinops: Run, repo: Path) -> None:
    pinops("apply", "--yes")
    edit(repo / "pins/recipes/summer-salad.yaml", "Crunchy Summer Salad", "Crisp Summer Salad")
    result = pinops("plan")
    assert result.code == 0
    assert "  ~ update summer-salad  (pins/recipes/summer-salad.yaml:3)\n" in result.out
    assert (
        '      title:          "Crunchy Summer Salad with Lemon Dressing" → '
        '"Crisp Summer Salad with Lemon Dressing"\n'
    ) in result.out
    assert "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete. (1 waiting)" in result.out
    applied = pinops("apply", "--yes")
    assert applied.code == 0
    assert "updated (pin" in applied.out
    salad = [
        p
        for p in published(repo).values()
        if p["link"] == "https://example.com/recipes/summer-salad"
    ]
    assert [p["title"] for p in salad] == ["Crisp Summer Salad with Lemon Dressing"]


def test_image_change_plans_one_replace(pinops: Run, repo: Path) -> None:
    pinops("apply", "--yes")
    edit(repo / "pins/recipes/summer-salad.yaml", "../media/salad.jpg", "../media/bedroom.jpg")
    result = pinops("plan")
    assert "  -/+ replace summer-salad  (pins/recipes/summer-salad.yaml:3)\n" in result.out
    assert "      # image cannot be changed on a published pin\n" in result.out
    assert "Plan: 0 to create, 0 to update, 1 to replace, 0 to delete." in result.out
    before = set(published(repo))
    assert pinops("apply", "--yes").code == 0
    after = set(published(repo))
    assert len(after - before) == 1 and len(before - after) == 1  # new pin created, old one deleted
    assert "No changes" in pinops("plan").out


def test_same_bytes_under_another_name_change_nothing(pinops: Run, repo: Path) -> None:
    pinops("apply", "--yes")
    shutil.copy(repo / "pins/media/salad.jpg", repo / "pins/media/salad-copy.jpg")
    edit(repo / "pins/recipes/summer-salad.yaml", "salad.jpg", "salad-copy.jpg")
    assert "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete." in pinops("plan").out


def test_renaming_and_moving_manifests_plans_nothing(pinops: Run, repo: Path) -> None:
    pinops("apply", "--yes")
    (repo / "pins/recipes/summer-salad.yaml").rename(repo / "pins/recipes/salad-renamed.yaml")
    result = pinops("plan", "--detailed-exitcode")
    assert result.code == 0
    assert "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete." in result.out


def test_detailed_exitcode_and_json(pinops: Run) -> None:
    result = pinops("plan", "--detailed-exitcode", "--json")
    assert result.code == 2
    document = json.loads(result.out)
    assert document["format_version"] == 1
    assert document["state"]["serial"] == 0
    assert len(document["checksum"]) == 64
    first = document["changes"][0]
    assert set(first) >= {"action", "key", "file", "line", "before", "after", "reason"}
    assert first["action"] == "wait" and first["key"] == "calm-bedroom"
    assert document["summary"]["create"] == 8


def test_saved_plan_applies_exactly_and_stale_plans_are_refused(
    pinops: Run, repo: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    assert pinops("plan", "--out", str(saved)).code == 0
    stale = tmp_path / "stale.json"
    shutil.copy(saved, stale)
    assert pinops("apply", str(saved)).code == 0
    result = pinops("apply", str(stale))
    assert result.code == 1
    assert "the saved plan is stale" in result.err
    edit(repo / "pins/recipes/summer-salad.yaml", "Crunchy", "Crisp")
    pinops("plan", "--out", str(saved))
    edit(repo / "pins/recipes/summer-salad.yaml", "Crisp", "Fresh")
    assert "stale" in pinops("apply", str(saved)).err


def test_a_saved_plan_with_paced_pins_applies_later_in_the_same_order(
    pinops: Run, repo: Path, tmp_path: Path
) -> None:
    """A paced pin's due time moves with the moment of planning: a plan saved a second earlier
    still applies, publishing the pins that were due and leaving the waits to wait."""
    edit(repo / "pinops.yaml", "    boards: [", "    pace: 2/hour\n    boards: [")
    saved = tmp_path / "plan.json"
    assert pinops("plan", "--out", str(saved)).code == 0
    due = [c["due_at"] for c in json.loads(saved.read_text())["changes"] if c["due_at"]]
    assert len(due) == 6
    time.sleep(1.1)  # every due time, to the second, is another one now
    result = pinops("apply", str(saved))
    assert result.code == 0, result.err
    assert "Apply complete: 2 created" in result.out
    assert len(published(repo)) == 2


def test_apply_without_a_terminal_or_yes_refuses(pinops: Run, repo: Path) -> None:
    result = pinops("apply")
    assert result.code == 1
    assert "refusing to apply without confirmation" in result.err
    assert "--yes" in result.err
    assert not (repo / "pinops.state.json").exists()


def test_prune_off_keeps_removed_pins(pinops: Run, repo: Path) -> None:
    pinops("apply", "--yes")
    (repo / "pins/recipes/summer-salad.yaml").unlink()
    result = pinops("plan")
    assert "  · kept summer-salad\n      # no longer declared; kept (prune is off)\n" in result.out
    assert (
        "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete. (1 waiting, 1 kept)"
        in result.out
    )


def test_prune_deletes_and_thresholds_block(pinops: Run, repo: Path) -> None:
    pinops("apply", "--yes")
    edit(repo / "pinops.yaml", "prune: false", "prune: true")
    (repo / "pins/recipes/summer-salad.yaml").unlink()
    result = pinops("plan")
    assert "  - delete summer-salad\n" in result.out
    assert pinops("apply", "--yes").code == 0
    shutil.rmtree(repo / "pins/recipes")
    blocked = pinops("apply", "--yes")
    assert blocked.code == 3
    assert "exceed max_deletes (25% of 7 pins)" in blocked.err
    assert len(published(repo)) == 7
    assert pinops("apply", "--yes", "--allow-destroy").code == 0
    assert len(published(repo)) == 4


def test_state_commands(pinops: Run) -> None:
    pinops("apply", "--yes")
    listing = pinops("state", "list")
    assert "summer-salad" in listing.out and listing.out.endswith("8 records, serial 1\n")
    shown = json.loads(pinops("state", "show", "summer-salad").out)
    assert shown["provider"] == "sandbox" and shown["pin_id"].isdigit()
    assert pinops("state", "show", "nope").code == 1
    assert pinops("state", "forget", "summer-salad").code == 0
    assert "+ create summer-salad" in pinops("plan").out


def test_boards_and_schema(pinops: Run) -> None:
    boards = pinops("boards")
    assert boards.code == 0
    assert "main (sandbox):" in boards.out and "Home Decor" in boards.out
    schema = json.loads(pinops("schema").out)
    assert schema["title"] == "pinops manifest"


def test_usage_errors_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["plan", "--no-such-flag"])
    assert exited.value.code == 1
    assert "unrecognized arguments" in capsys.readouterr().err


def test_outside_a_content_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(tmp_path), "plan"]) == 1
    assert "no pinops.yaml found" in capsys.readouterr().err


def test_render_says_when_no_pin_matches(pinops: Run) -> None:
    result = pinops("render", "zzz*")
    assert result.code == 1
    assert result.out == ""
    assert result.err == (
        "error: no pin matches zzz* (give pin ids (* and ? match); pinops render alone shows "
        "every pin)\n"
    )
    assert pinops("render", "easy-*").code == 0


def test_an_unknown_account_on_the_command_line_has_no_file_location(pinops: Run) -> None:
    result = pinops("plan", "--account", "mian")
    assert result.code == 1
    assert result.err.startswith(
        "error: --account mian: there is no account 'mian' in pinops.yaml (did you mean 'main'?"
    ), result.err


def test_hints_are_never_in_doubled_parentheses(pinops: Run) -> None:
    result = pinops("import", "no-such-pin", "999")
    assert result.code == 1
    assert "))" not in result.err and ") (" not in result.err, result.err
    assert "(declare the pin first; name it by its id, or id@board" in result.err


def test_a_json_file_that_is_no_plan_is_said_to_be_none(pinops: Run, repo: Path) -> None:
    (repo / "other.json").write_text('{"changes": []}', encoding="utf-8")
    result = pinops("apply", "--reviewed", str(repo / "other.json"), "--yes")
    assert result.code == 1
    assert "other.json is not a plan saved by pinops" in result.err
    assert "None" not in result.err


def test_a_preview_of_one_pin_says_pin(pinops: Run, repo: Path, tmp_path: Path) -> None:
    for manifest in (PASTA, "pins/home/living-spaces.yaml", "pins/shop/products.yaml"):
        (repo / manifest).unlink()
    result = pinops("preview", "--out", str(tmp_path / "page"))
    assert result.code == 0, result.err
    assert "Wrote the preview of 1 pin (" in result.out


def test_accounts_name_an_environment_only_for_secrets(pinops: Run, repo: Path) -> None:
    edit(
        repo / "pinops.yaml",
        "accounts:\n",
        "accounts:\n  brand:\n    provider: zernio\n    environment: pinops-brand\n",
    )
    assert pinops("accounts").out == (
        "brand: zernio, secrets in environment pinops-brand\nmain: sandbox, no secrets\n"
    )
