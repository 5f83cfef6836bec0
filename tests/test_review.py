"""Reviewed plan = applied plan: the merge run compares its plan with the one reviewed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Run, edit
from tests.test_cli import published

SALAD = "pins/recipes/summer-salad.yaml"


def review(pinops: Run, folder: Path) -> Path:
    """The plan a pull request showed its reviewers."""
    saved = folder / "reviewed.json"
    assert pinops("plan", "--out", str(saved)).code == 0
    return saved


def test_the_reviewed_plan_is_applied(pinops: Run, repo: Path, tmp_path: Path) -> None:
    reviewed = review(pinops, tmp_path)
    result = pinops("apply", "--yes", "--reviewed", str(reviewed))
    assert result.code == 0, result.err
    assert "This is the plan reviewed on the pull request." in result.out
    assert len(published(repo)) == 8


def test_a_moved_state_with_the_same_changes_is_still_the_reviewed_plan(
    pinops: Run, repo: Path, tmp_path: Path
) -> None:
    assert pinops("apply", "--yes").code == 0
    edit(repo / SALAD, "Crunchy Summer Salad", "Crisp Summer Salad")
    reviewed = review(pinops, tmp_path)
    # Before the merge, another pull request publishes another pin: the state moves on.
    edit(repo / SALAD, "Crisp Summer Salad", "Crunchy Summer Salad")
    edit(repo / "pins/home/living-spaces.yaml", "Cozy Living Room Ideas", "Cozy Living Room Tips")
    assert pinops("apply", "--yes").code == 0
    edit(repo / SALAD, "Crunchy Summer Salad", "Crisp Summer Salad")  # our merge
    result = pinops("apply", "--yes", "--reviewed", str(reviewed))
    assert result.code == 0, result.err
    assert "This is the plan reviewed on the pull request." in result.out
    assert "Apply complete: 0 created, 1 updated" in result.out


def test_a_change_nobody_reviewed_stops_the_apply(pinops: Run, repo: Path, tmp_path: Path) -> None:
    assert pinops("apply", "--yes").code == 0
    edit(repo / SALAD, "Crunchy Summer Salad", "Crisp Summer Salad")
    reviewed = review(pinops, tmp_path)
    # Another pull request merged first: the salad's title changed again.
    edit(repo / SALAD, "Crisp Summer Salad", "Crispy Summer Salad")
    before = published(repo)
    result = pinops("apply", "--yes", "--reviewed", str(reviewed))
    assert result.code == 3
    assert (
        "Compared with the plan reviewed on the pull request (on_plan_drift: stop):\n"
        '  ! summer-salad: publishes title "Crisp Summer Salad with Lemon Dressing" when '
        'reviewed, "Crispy Summer Salad with Lemon Dressing" now\n'
    ) in result.out
    assert "the plan differs from the plan reviewed on the pull request" in result.err
    assert published(repo) == before

    applied = pinops("apply", "--yes", "--reviewed", str(reviewed), "--on-plan-drift", "apply")
    assert applied.code == 0
    assert "(on_plan_drift: apply)" in applied.out
    assert "Apply complete: 0 created, 1 updated" in applied.out


def test_the_policy_comes_from_the_config(pinops: Run, repo: Path, tmp_path: Path) -> None:
    edit(repo / "pinops.yaml", "  max_replaces: 25%", "  max_replaces: 25%\n  on_plan_drift: apply")
    missing = tmp_path / "no-such-plan.json"
    result = pinops("apply", "--yes", "--reviewed", str(missing))
    assert result.code == 0, result.err
    assert "! summer-salad: create: no plan was reviewed" in result.out
    assert len(published(repo)) == 8


def test_without_a_reviewed_plan_stop_publishes_nothing(
    pinops: Run, repo: Path, tmp_path: Path
) -> None:
    result = pinops("apply", "--yes", "--reviewed", str(tmp_path / "none.json"))
    assert result.code == 3
    assert "! easy-pasta@Recipes: create: no plan was reviewed" in result.out
    assert not published(repo)


def test_a_pin_reviewed_while_waiting_is_published_when_due(pinops: Run, tmp_path: Path) -> None:
    reviewed = review(pinops, tmp_path)
    data = json.loads(reviewed.read_text(encoding="utf-8"))
    # As reviewed before its publish_at came: the salad was waiting.
    for change in data["changes"]:
        if change["key"] == "summer-salad":
            change["action"] = "wait"
    data["checksum"] = "reviewed-earlier"
    # Applied meanwhile: no longer planned, and that stops nothing.
    data["changes"].append(
        {"action": "create", "key": "gone", "after": {"title": "Gone"}, "before": None}
    )
    reviewed.write_text(json.dumps(data), encoding="utf-8")
    result = pinops("apply", "--yes", "--reviewed", str(reviewed))
    assert result.code == 0, result.err
    assert "  · gone: reviewed as create, no longer planned" in result.out
    assert "! summer-salad" not in result.out


def test_a_file_that_is_not_a_plan_is_refused(pinops: Run, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"changes": 3}', encoding="utf-8")
    result = pinops("apply", "--yes", "--reviewed", str(bogus))
    assert result.code == 1
    assert "is not a plan saved by pinops" in result.err
