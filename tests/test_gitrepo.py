"""State back to git, on real repositories: a bare remote and clones of it, as on GitHub."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reconciler import gitrepo, gitstate
from reconciler.cli import main
from reconciler.errors import StateError
from reconciler.providers.sandbox import pin_id
from tests.conftest import Result, edit
from tests.gitrepos import Origin, commit_all, git, origin_with_content

STATE = "pinops.state.json"
SALAD = "pins/recipes/summer-salad.yaml"


pytestmark = pytest.mark.usefixtures("isolated_git")


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    return origin_with_content(tmp_path)


def run(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> Result:
    capsys.readouterr()
    code = main(["-C", str(root), *args])
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def state(root: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((root / STATE).read_text(encoding="utf-8"))
    return data


def test_every_published_pin_records_its_source_commit(
    origin: Origin, capsys: pytest.CaptureFixture[str]
) -> None:
    clone = origin.clone("work")
    head = git(clone, "rev-parse", "HEAD")
    assert gitrepo.head_commit(clone) == head
    assert run(capsys, clone, "apply", "--yes").code == 0
    pins = state(clone)["pins"]
    assert isinstance(pins, dict) and len(pins) == 8
    assert {record["commit"] for record in pins.values()} == {head}


def test_apply_commit_pushes_the_state_with_what_was_published(
    origin: Origin, capsys: pytest.CaptureFixture[str]
) -> None:
    clone = origin.clone("work")
    source = git(clone, "rev-parse", "HEAD")
    result = run(capsys, clone, "apply", "--yes", "--commit")
    assert result.code == 0, result.err
    assert "and pushed it." in result.out
    pushed = git(origin.bare, "rev-parse", "main")
    assert git(clone, "rev-parse", "HEAD") == pushed
    assert git(clone, "status", "--porcelain") == ""
    # Before the first create, a checkpoint recorded every create to come as an intent.
    assert git(origin.bare, "rev-parse", "main^^") == source
    checkpoint = git(origin.bare, "log", "-1", "--format=%s", "main^")
    assert checkpoint == "pinops: checkpoint: apply started: 8 changes to make"
    intents = json.loads(git(origin.bare, "show", f"main^:{STATE}"))["pins"]
    assert len(intents) == 8
    assert {record["intent"]["operation"] for record in intents.values()} == {"create"}
    assert git(origin.bare, "diff", "--name-only", source, pushed) == STATE
    message = git(origin.bare, "log", "-1", "--format=%B", "main")
    assert message.splitlines()[0] == f"pinops: state after 8 published changes from {source[:12]}"
    assert f"+ cozy-living-room (pin {pin_id('main', 1)})" in message
    assert f"Source-Commit: {source}" in message
    committed = json.loads(git(origin.bare, "show", f"main:{STATE}"))
    assert committed == state(clone)
    again = run(capsys, clone, "apply", "--yes", "--commit")
    assert again.code == 0
    assert "The state did not change: nothing to commit." in again.out
    assert git(origin.bare, "rev-parse", "main") == pushed


def test_a_rejected_push_is_rebased_onto_the_moved_branch_and_retried(origin: Origin) -> None:
    ours, theirs = origin.clone("ours"), origin.clone("theirs")
    assert main(["-C", str(ours), "apply", "--yes"]) == 0  # state written, not committed yet
    store = gitstate.StateInGit(ours, ours / STATE)
    assert store.pull() is None  # nothing in git yet: the local state stays
    # Meanwhile another pull request is merged: the branch moves.
    edit(theirs / SALAD, "Crunchy Summer Salad", "Crisp Summer Salad")
    moved = commit_all(theirs, "Retitle the salad")
    git(theirs, "push", "-q", "origin", "main")

    pushed = store.push("pinops: state\n")
    assert pushed is not None and pushed.pushed and pushed.attempts == 2
    assert git(origin.bare, "rev-parse", "main") == pushed.commit
    assert git(origin.bare, "rev-parse", "main^") == moved
    assert git(origin.bare, "diff", "--name-only", moved, pushed.commit) == STATE
    # The checkout followed: it holds the other merge and the state commit, and nothing else.
    assert git(ours, "rev-parse", "HEAD") == pushed.commit
    assert git(ours, "status", "--porcelain") == ""
    assert "Crisp Summer Salad" in (ours / SALAD).read_text(encoding="utf-8")


def test_a_push_is_not_retried_over_a_state_someone_else_changed(origin: Origin) -> None:
    ours, theirs = origin.clone("ours"), origin.clone("theirs")
    store = gitstate.StateInGit(ours, ours / STATE)
    store.pull()
    assert main(["-C", str(ours), "apply", "--yes"]) == 0
    assert main(["-C", str(theirs), "apply", "--yes", "--commit"]) == 0  # another apply won
    their_commit = git(origin.bare, "rev-parse", "main")
    with pytest.raises(StateError, match="changed while this apply ran"):
        store.push("pinops: state\n")
    assert git(origin.bare, "rev-parse", "main") == their_commit  # never forced


def test_giving_up_after_the_last_attempt_says_so(origin: Origin) -> None:
    ours, theirs = origin.clone("ours"), origin.clone("theirs")
    store = gitstate.StateInGit(ours, ours / STATE)
    store.pull()
    assert main(["-C", str(ours), "apply", "--yes"]) == 0
    edit(theirs / SALAD, "Crunchy Summer Salad", "Crisp Summer Salad")
    commit_all(theirs, "Retitle the salad")
    git(theirs, "push", "-q", "origin", "main")
    with pytest.raises(StateError, match="after 1 attempts: the branch kept moving") as raised:
        store.push("pinops: state\n", attempts=1)
    assert "run the same command again" in raised.value.hint


def test_queued_runs_apply_their_own_commit_on_top_of_the_newest_state(
    origin: Origin, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two merges in a row: the first run's push is rebased onto the second merge; the second
    run checks out its own merge, which is behind origin, and reads the state the first left."""
    first, author = origin.clone("first"), origin.clone("author")
    seed = git(first, "rev-parse", "HEAD")
    edit(author / SALAD, "Crunchy Summer Salad", "Crisp Summer Salad")
    second = commit_all(author, "Retitle the salad")
    git(author, "push", "-q", "origin", "main")

    result = run(capsys, first, "apply", "--yes", "--commit")  # applies the first merge
    assert result.code == 0, result.err
    assert "and pushed it." in result.out  # on top of the second merge, which it had fetched
    assert git(origin.bare, "log", "--format=%s", "main").splitlines() == [
        f"pinops: state after 8 published changes from {seed[:12]}",
        "pinops: checkpoint: apply started: 8 changes to make",
        "Retitle the salad",
        "The example pins",
    ]

    queued = origin.clone("queued")
    shutil.copytree(first / ".pinops", queued / ".pinops")  # the same sandbox account
    git(queued, "reset", "-q", "--hard", second)  # the run checks out its own merge
    result = run(capsys, queued, "apply", "--yes", "--commit")
    assert result.code == 0, result.err
    assert "read the state from main" in result.err
    assert "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete." in result.out
    assert state(queued)["serial"] == 3  # the first run's checkpoint had a serial of its own
    assert git(origin.bare, "log", "--format=%s", "-2", "main").splitlines() == [
        f"pinops: state after 1 published change from {second[:12]}",
        f"pinops: state after 8 published changes from {seed[:12]}",
    ]
    assert git(queued, "rev-parse", "HEAD") == git(origin.bare, "rev-parse", "main")
    assert git(queued, "status", "--porcelain") == ""


def test_the_state_branch_keeps_state_off_the_work_tree_and_main(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    origin = origin_with_content(
        tmp_path, config_extra="state_branch: pinops-state\n", ignore_extra=f"/{STATE}\n"
    )
    clone = origin.clone("work")
    main_before = git(origin.bare, "rev-parse", "main")
    result = run(capsys, clone, "apply", "--yes", "--commit")
    assert result.code == 0, result.err
    assert "on pinops-state and pushed it." in result.out
    assert git(origin.bare, "rev-parse", "main") == main_before
    assert git(clone, "rev-parse", "HEAD") == main_before
    assert git(clone, "status", "--porcelain") == ""
    assert git(origin.bare, "ls-tree", "-r", "--name-only", "pinops-state") == STATE
    assert json.loads(git(origin.bare, "show", f"pinops-state:{STATE}")) == state(clone)
    records = state(clone)["pins"]
    assert isinstance(records, dict)
    assert {r["commit"] for r in records.values()} == {main_before}

    # A fresh checkout (a CI run) has no state file: it reads the state from the branch.
    fresh = origin.clone("fresh")
    shutil.copytree(clone / ".pinops", fresh / ".pinops")  # the same sandbox account
    planned = run(capsys, fresh, "plan")
    assert planned.code == 0, planned.err
    assert "read the state from pinops-state" in planned.err
    assert "No changes to make now." in planned.out
    edit(fresh / SALAD, "Crunchy Summer Salad", "Crisp Summer Salad")
    commit_all(fresh, "Retitle the salad")
    assert run(capsys, fresh, "apply", "--yes", "--commit").code == 0
    assert git(origin.bare, "log", "--format=%s", "pinops-state").splitlines() == [
        f"pinops: state after 1 published change from {git(fresh, 'rev-parse', 'HEAD')[:12]}",
        f"pinops: state after 8 published changes from {main_before[:12]}",
        "pinops: checkpoint: apply started: 8 changes to make",
    ]
    assert git(origin.bare, "rev-parse", "main") == main_before
    assert STATE not in git(origin.bare, "ls-tree", "-r", "--name-only", "main").splitlines()


def test_the_state_branch_needs_git_only_to_commit(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder `pinops init` just wrote plans before it is a git repository; committing the
    state needs one, and is refused before anything is published."""
    result = run(capsys, repo, "--state-branch", "pinops-state", "plan")
    assert result.code == 0, result.err
    assert "not in a git repository yet: the state is the local state file" in result.err
    committed = run(capsys, repo, "--state-branch", "pinops-state", "apply", "--yes", "--commit")
    assert committed.code == 1
    assert "is not inside a git repository" in committed.err
    assert "git init" in committed.err
    assert not (repo / STATE).exists()


def test_different_states_in_git_and_here_are_refused(
    origin: Origin, capsys: pytest.CaptureFixture[str]
) -> None:
    first, other = origin.clone("first"), origin.clone("other")
    assert run(capsys, first, "apply", "--yes", "--commit").code == 0
    assert run(capsys, other, "apply", "--yes").code == 0  # a state of its own, never committed
    result = run(capsys, other, "apply", "--yes", "--commit")
    assert result.code == 1
    assert "are different states" in result.err


def test_plan_changed_lists_only_pins_whose_manifests_changed(
    origin: Origin, capsys: pytest.CaptureFixture[str]
) -> None:
    clone = origin.clone("work")
    git(clone, "switch", "-q", "-c", "retitle")
    edit(clone / SALAD, "Crunchy Summer Salad", "Crisp Summer Salad")
    commit_all(clone, "Retitle the salad")
    result = run(capsys, clone, "plan", "--changed")
    assert result.code == 0, result.err
    base = git(clone, "rev-parse", "main")[:12]
    assert result.out.startswith(f"Only pins whose manifests changed since {base}: 1 of 9 shown.")
    assert "+ create summer-salad" in result.out
    assert "easy-pasta" not in result.out and "calm-bedroom" not in result.out
    # A defaults file reaches every pin below it; uncommitted work counts.
    edit(clone / "pins/recipes/_defaults.yaml", "#C8553D", "#C8553E")
    widened = run(capsys, clone, "plan", "--changed", "--format", "json")
    keys = [c["key"] for c in json.loads(widened.out)["changes"]]
    assert keys == [
        "easy-pasta@Recipes",
        "easy-pasta@Weeknight Dinners",
        "pasta-howto-video",
        "summer-salad",
    ]
    assert json.loads(widened.out)["checksum"] == ""  # a part of a plan cannot be applied
    between = run(capsys, clone, "plan", "--changed", "--base", "main", "--head", "HEAD")
    assert "1 of 9 shown" in between.out
    refused = run(capsys, clone, "plan", "--changed", "--out", "plan.json")
    assert refused.code == 1 and "cannot be saved" in refused.err
    unknown = run(capsys, clone, "plan", "--changed", "--base", "no-such-ref")
    assert unknown.code == 1 and "'no-such-ref' is not a commit" in unknown.err
