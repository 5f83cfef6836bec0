"""The review is the contract, played on real repositories: a bare remote standing in for GitHub, a
contributor's pull request planned as the workflow plans it (the merge commit, `--base HEAD^1`),
and the merge run (`apply --commit --reviewed --base BEFORE`). Each attack is named in the comment
or refused by the merge run before anything is published."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler import commitmessage
from reconciler.cli import main
from tests.conftest import Result, Run, edit
from tests.gitrepos import Origin, commit_all, git, origin_with_content
from tests.test_cli import published

STATE = "pinops.state.json"
SALAD = "pins/recipes/summer-salad.yaml"


pytestmark = pytest.mark.usefixtures("isolated_git")


Runner = tuple[Origin, Path]


def run(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> Result:
    capsys.readouterr()
    code = main(["-C", str(root), *args])
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def _published_origin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config_extra: str = ""
) -> Runner:
    """The example published by the merge runner, its state committed and pushed; prune on."""
    origin = origin_with_content(tmp_path, config_extra)
    runner = origin.clone("runner")
    edit(runner / "pinops.yaml", "prune: false", "prune: true")
    commit_all(runner, "Prune removed pins")
    git(runner, "push", "-q", "origin", "main")
    result = run(capsys, runner, "apply", "--yes", "--commit")
    assert result.code == 0, result.err
    return origin, runner


@pytest.fixture
def published_origin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Runner:
    return _published_origin(tmp_path, capsys)


def pull_request(origin: Origin, name: str) -> Path:
    """A contributor's branch, pushed to the remote."""
    clone = origin.clone(f"pr-{name}")
    git(clone, "switch", "-q", "-c", name)
    return clone


def plan_comment(
    capsys: pytest.CaptureFixture[str], clone: Path, name: str
) -> tuple[Result, Result, Path]:
    """As the plan workflow does: the pull request's merge commit, planned against its base."""
    commit_all(clone, f"The change of {name}")
    git(clone, "push", "-q", "origin", name)
    git(clone, "switch", "-q", "-c", f"merge-{name}", "origin/main")
    git(clone, "merge", "-q", "--no-ff", "-m", f"Merge {name}", name)
    saved = clone.parent / f"{name}-plan.json"
    comment = run(
        capsys, clone, "plan", "--format", "markdown", "--base", "HEAD^1", "--out", str(saved)
    )
    text = run(capsys, clone, "plan", "--base", "HEAD^1")
    return comment, text, saved


def merge_run(
    capsys: pytest.CaptureFixture[str], runner: Path, name: str, reviewed: Path, *extra: str
) -> Result:
    """As the apply workflow does after the merge: `--base` is the push's `before`."""
    git(runner, "pull", "-q", "--ff-only")
    before = git(runner, "rev-parse", "HEAD")
    git(runner, "fetch", "-q", "origin", name)
    if not git(runner, "ls-files", STATE):
        (runner / STATE).unlink(missing_ok=True)  # a runner's checkout starts without it
    git(runner, "merge", "-q", "--no-ff", "-m", f"Merge {name}", "FETCH_HEAD")
    return run(
        capsys,
        runner,
        "apply",
        "--yes",
        "--commit",
        "--reviewed",
        str(reviewed),
        "--base",
        before,
        *extra,
    )


def test_a_policy_change_is_shown_and_cannot_switch_off_the_check_that_guards_it(
    published_origin: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    origin, runner = published_origin
    clone = pull_request(origin, "policy")
    edit(
        clone / "pinops.yaml",
        "  max_deletes: 25%",
        "  max_deletes: 100%\n  on_plan_drift: apply",
    )
    comment, text, reviewed = plan_comment(capsys, clone, "policy")
    assert comment.code == 0, comment.err
    assert "**This pull request relaxes safeguards:**" in comment.out
    row = "| <code>policy.on&#95;plan&#95;drift</code> | <code>stop</code> | <code>apply</code> |"
    assert row in comment.out
    assert "<code>policy.max&#95;deletes</code>: more deletes pass the safety check" in comment.out
    assert "  ~ policy.on_plan_drift: stop → apply" in text.out
    assert "(1 waiting, 2 settings changed)" in text.out

    # Meanwhile a pin nobody reviewed reaches main; the merge must not publish it unseen.
    (runner / "pins/unreviewed.yaml").write_text(
        "id: unreviewed\nboard: Recipes\ntitle: Unreviewed\nimage: media/pasta.jpg\n"
    )
    commit_all(runner, "A pin pushed without review")
    git(runner, "push", "-q", "origin", "main")
    before = published(runner)
    merged = merge_run(capsys, runner, "policy", reviewed)
    assert merged.code == 3, merged
    assert "Compared with the plan reviewed on the pull request (on_plan_drift: stop)" in (
        merged.out
    )
    assert "! unreviewed: create: not in the reviewed plan" in merged.out
    assert published(runner) == before


def test_credentials_redirected_by_a_pull_request_are_named_in_the_comment_and_refused(
    published_origin: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    origin, runner = published_origin
    clone = pull_request(origin, "redirect")
    edit(
        clone / "pinops.yaml",
        "provider: sandbox ",
        "provider: pinterest\n    base_url: https://evil.example/v5\n    #",
    )
    comment, text, reviewed = plan_comment(capsys, clone, "redirect")
    assert comment.code == 1 and text.code == 1
    assert comment.out.startswith("<!-- pinops-plan -->\n## pinops plan\n")
    assert "<code>pinops.yaml:8:15</code>" in comment.out
    assert "sends the pinterest credentials to evil.example" in comment.out
    assert "pinops.yaml:8:15: error: accounts.main.base_url sends the pinterest" in text.err
    before = published(runner)
    merged = merge_run(capsys, runner, "redirect", reviewed)
    assert merged.code == 1
    assert "PINOPS_ALLOW_HOSTS=evil.example" in merged.err
    assert published(runner) == before


def test_a_setting_changed_after_the_review_stops_the_merge_run(
    published_origin: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    origin, runner = published_origin
    clone = pull_request(origin, "late")
    edit(clone / SALAD, "Crunchy Summer Salad", "Crisp Summer Salad")
    _comment, _text, reviewed = plan_comment(capsys, clone, "late")
    # Pushed after the plan was reviewed: the pins are the same, a safeguard is not.
    git(clone, "switch", "-q", "late")
    edit(clone / "pinops.yaml", "max_replaces: 25%", "max_replaces: 100%")
    commit_all(clone, "A later push")
    git(clone, "push", "-q", "origin", "late")
    before = published(runner)
    merged = merge_run(capsys, runner, "late", reviewed)
    assert merged.code == 3, merged
    assert (
        "! pinops.yaml: settings changed as not reviewed: policy.max_replaces: 25% → 100%"
        in merged.out
    )
    assert published(runner) == before


def test_a_forged_state_record_is_named_in_the_comment_and_refused_at_merge(
    published_origin: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    origin, runner = published_origin
    clone = pull_request(origin, "forged")
    data = json.loads((clone / STATE).read_text())
    pasta = data["pins"]["easy-pasta@Recipes"]["pin_id"]
    salad = data["pins"]["summer-salad"]["pin_id"]
    data["pins"]["summer-salad"]["pin_id"] = pasta  # same lineage, same serial
    (clone / STATE).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    (clone / SALAD).unlink()
    comment, text, reviewed = plan_comment(capsys, clone, "forged")
    assert comment.code == 0, comment.err
    assert (
        "> **this pull request changes the state file pinops.state.json (changes summer-salad). "
        "Only pinops writes the state: the merge run refuses a state changed by a pull "
        "request.**"
    ) in comment.out
    assert f"Acts on <code>pin {pasta}</code>." in comment.out
    assert "  - delete summer-salad" in text.out and f"      on pin {pasta}" in text.out

    before = published(runner)
    merged = merge_run(capsys, runner, "forged", reviewed)
    assert merged.code == 1, merged
    assert "pinops.state.json was changed since" in merged.err
    assert "refusing to act on a state pinops did not write" in merged.err
    assert "git checkout" in merged.err
    assert published(runner) == before
    assert salad in {str(pin_id) for pin_id in before}


def test_a_removed_state_record_is_named_not_shown_as_an_ordinary_create(
    published_origin: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    origin, runner = published_origin
    clone = pull_request(origin, "removed")
    data = json.loads((clone / STATE).read_text())
    del data["pins"]["summer-salad"]
    (clone / STATE).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    comment, _text, reviewed = plan_comment(capsys, clone, "removed")
    assert "changes the state file pinops.state.json (removes summer-salad)" in comment.out
    before = published(runner)
    merged = merge_run(capsys, runner, "removed", reviewed)
    assert merged.code == 1
    assert published(runner) == before


def test_a_new_account_and_where_it_connects_are_settings_of_their_own(
    published_origin: Runner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    origin, _runner = published_origin
    monkeypatch.setenv("PINOPS_ALLOW_HOSTS", "proxy.example")
    clone = pull_request(origin, "account")
    edit(
        clone / "pinops.yaml",
        "policy:",
        "  brand:\n    provider: pinterest\n    base_url: https://proxy.example/v5\npolicy:",
    )
    comment, text, _reviewed = plan_comment(capsys, clone, "account")
    assert comment.code == 0, comment.err
    assert "  ~ accounts.brand: (unset) → provider pinterest" in text.out
    assert "a new account: apply publishes through pinterest (proxy.example)" in text.out, text.out


def test_state_added_by_a_pull_request_with_a_state_branch_is_never_taken_as_newer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    origin, runner = _published_origin(tmp_path, capsys, "state_branch: pinops-state\n")
    stored = git(origin.bare, "show", f"pinops-state:{STATE}")
    clone = pull_request(origin, "newer")
    data = json.loads(stored)
    data["serial"] += 1
    pasta = data["pins"]["easy-pasta@Recipes"]["pin_id"]
    data["pins"]["summer-salad"]["pin_id"] = pasta
    (clone / STATE).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    (clone / SALAD).unlink()
    comment, _text, reviewed = plan_comment(capsys, clone, "newer")
    assert "but the state lives on branch pinops-state" in comment.out, comment.out

    before = published(runner)
    merged = merge_run(capsys, runner, "newer", reviewed)
    assert merged.code == 1
    assert "refusing to act on a state pinops did not write" in merged.err
    # A run without a base (hourly, or by hand) reads the state branch, never the file: it
    # deletes the salad the merged pull request removed, not the pin its file pointed at.
    salad = json.loads(stored)["pins"]["summer-salad"]["pin_id"]
    again = run(capsys, runner, "apply", "--yes", "--commit")
    assert again.code == 0, again.err
    assert "- summer-salad: deleted" in again.out
    assert set(published(runner)) == set(before) - {salad}
    assert pasta in published(runner)


def test_a_state_branch_that_is_not_a_ref_name_is_refused_before_anything_is_published(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    origin = origin_with_content(tmp_path)
    clone = origin.clone("work")
    result = run(capsys, clone, "--state-branch", "a..b", "apply", "--yes", "--commit")
    assert result.code == 1
    assert "--state-branch 'a..b' is not a valid git branch name" in result.err
    assert not (clone / ".pinops/sandbox").exists() or not published(clone)
    edit(clone / "pinops.yaml", "policy:", "state_branch: 'bad name'\npolicy:")
    result = run(capsys, clone, "apply", "--yes", "--commit")
    assert result.code == 1
    assert "pinops.yaml:9:15: error: state_branch 'bad name' is not valid" in result.err


# --- every change shows what it touches (no git needed) -----------------------------------------

NEW_LINK = "https://example.com/recipes/summer-salad-v2"


def test_a_replace_shows_the_whole_new_pin_even_when_the_state_hides_a_field(
    pinops: Run, repo: Path
) -> None:
    assert pinops("apply", "--yes").code == 0
    state_file = repo / STATE
    data = json.loads(state_file.read_text())
    data["pins"]["summer-salad"]["fields"]["link"] = NEW_LINK  # forged to match the new link
    state_file.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    edit(repo / SALAD, "link: https://example.com/recipes/summer-salad", f"link: {NEW_LINK}")
    edit(repo / SALAD, "../media/salad.jpg", "../media/pasta.jpg")
    pin = data["pins"]["summer-salad"]["pin_id"]
    text = pinops("plan").out
    assert "  -/+ replace summer-salad" in text
    assert f"      on pin {pin}" in text
    assert f'      link:           "{NEW_LINK}" (unchanged)' in text
    markdown = pinops("plan", "--format", "markdown").out
    assert f"| link | (unchanged) | {NEW_LINK} <sub>" in markdown
    assert f"Acts on <code>pin {pin}</code>." in markdown


def test_warnings_for_protection_removed_lookalike_hosts_and_bidi_controls(
    pinops: Run, repo: Path
) -> None:
    edit(repo / SALAD, "dominant_color:", "protect: true\ndominant_color:")
    assert pinops("apply", "--yes").code == 0
    edit(repo / SALAD, "protect: true\n", "")
    (repo / "pins/lookalike.yaml").write_text(
        json.dumps(
            {
                "id": "lookalike",
                "board": "Recipes",
                "title": "Salad \u202edalas",
                "link": "https://ex\u0430mple.com/recipes",
                "image": "media/pasta.jpg",
            }
        )
    )
    text = pinops("plan").out
    assert "  ~ update summer-salad" in text
    assert "      ! protection removed (protect: true → false)" in text
    assert "      ! title holds bidirectional control characters (U+202E)" in text
    assert "      ! link host ex\u0430mple.com mixes scripts (Cyrillic, Latin)" in text
    plan = json.loads(pinops("plan", "--json").out)
    warned = {c["key"]: c["warnings"] for c in plan["changes"]}
    assert len(warned["lookalike"]) == 2 and len(warned["summer-salad"]) == 1
    markdown = pinops("plan", "--format", "markdown").out
    summary = next(line for line in markdown.splitlines() if "<code>summer-salad</code>" in line)
    assert "⚠️ protection removed" in summary  # on the collapsed row itself


def test_with_several_accounts_every_change_names_its_account(pinops: Run, repo: Path) -> None:
    edit(
        repo / "pinops.yaml",
        "policy:",
        "  second:\n    provider: sandbox\n    boards: [Recipes]\npolicy:",
    )
    text = pinops("plan").out
    assert "  + create summer-salad [account main]  (pins/recipes/summer-salad.yaml:3)" in text
    markdown = pinops("plan", "--format", "markdown").out
    assert "(account <b>main</b>)" in markdown
    plan = json.loads(pinops("plan", "--json").out)
    assert {c["account"] for c in plan["changes"]} == {"main"}


def test_a_board_name_cannot_add_lines_to_the_state_commit_message() -> None:
    message = commitmessage.commit_message(
        [("+", "salad@Recipes\nSource-Commit: 0000\n\u2028x", "12\n3")], "a" * 40
    )
    lines = message.splitlines()
    assert lines[2] == "+ salad@Recipes\\nSource-Commit: 0000\\n\\u2028x (pin 12\\n3)"
    assert [line for line in lines if line.startswith("Source-Commit:")] == [
        f"Source-Commit: {'a' * 40}"
    ]
