"""Sharding over a matrix: jobs that apply different accounts at once all commit their state to one
branch, on real git (a bare remote and a clone per job) with real processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from reconciler import gitstate
from reconciler.cli import main
from reconciler.errors import StateError
from tests import mediafiles
from tests.conftest import PROJECT, sandbox_pins
from tests.emulators import postproxy
from tests.gitrepos import GITIGNORE, Origin, commit_all, git

STATE = "pinops.state.json"
BRANCH = "pinops-state"
ACCOUNTS = ("acme", "globex", "initech", "umbrella")
PINS_EACH = 6


pytestmark = pytest.mark.usefixtures("isolated_git")


def agency(folder: Path, accounts: tuple[str, ...] = ACCOUNTS) -> Origin:
    """A bare remote with one sandbox account per brand and a few pins each; no state yet."""
    bare = folder / "origin.git"
    git(folder, "init", "-q", "--bare", str(bare))
    seed = folder / "seed"
    (seed / "pins" / "media").mkdir(parents=True)
    shutil.copy(PROJECT / "pins" / "media" / "salad.jpg", seed / "pins" / "media" / "salad.jpg")
    config = ["pins: pins/", f"state: {STATE}", f"state_branch: {BRANCH}", "accounts:"]
    for name in accounts:
        config += [f"  {name}:", "    provider: sandbox", "    boards: [Recipes]"]
        pins = ["pins:"]
        for number in range(PINS_EACH):
            pins += [
                f"  - id: {name}-{number}",
                "    board: Recipes",
                f"    account: {name}",
                f"    title: Pin {number} of {name}",
                f"    link: https://example.com/{name}/{number}",
                "    image: media/salad.jpg",
            ]
        (seed / "pins" / f"{name}.yaml").write_text("\n".join(pins) + "\n", encoding="utf-8")
    (seed / "pinops.yaml").write_text("\n".join(config) + "\n", encoding="utf-8")
    (seed / ".gitignore").write_text(GITIGNORE + f"/{STATE}\n", encoding="utf-8")
    git(seed, "init", "-q")
    commit_all(seed, "An agency's pins")
    git(seed, "remote", "add", "origin", str(bare))
    git(seed, "push", "-q", "origin", "main")
    git(bare, "symbolic-ref", "HEAD", "refs/heads/main")
    return Origin(bare, folder)


def remote_state(origin: Origin) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(git(origin.bare, "show", f"{BRANCH}:{STATE}"))
    return data


def test_four_jobs_for_four_accounts_commit_at_once_and_every_record_lands(
    tmp_path: Path,
) -> None:
    origin = agency(tmp_path)
    clones = {name: origin.clone(f"job-{name}") for name in ACCOUNTS}
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    jobs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "reconciler", "apply", "--yes", "--commit", "--account", name],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, clone in clones.items()
    }
    for name, job in jobs.items():
        out, err = job.communicate(timeout=600)
        assert job.returncode == 0, f"{name}: {out}\n{err}"
        assert "and pushed it" in out, out

    final = remote_state(origin)
    pins = final["pins"]
    assert sorted(pins) == sorted(f"{a}-{n}" for a in ACCOUNTS for n in range(PINS_EACH))
    assert all("intent" not in record for record in pins.values())
    assert set(final["boards"]) == set(ACCOUNTS)
    for name, clone in clones.items():
        # Each job's account published each pin once, and the final state holds exactly those.
        published = sandbox_pins(clone, name)
        assert len(published) == PINS_EACH
        ours = {k: r["pin_id"] for k, r in pins.items() if r["account"] == name}
        assert sorted(ours.values()) == sorted(published)
    # Nothing is left to do for any account, from a fresh checkout of the branch's state.
    check = origin.clone("check")
    code = main(["-C", str(check), "plan", "--detailed-exitcode"])
    assert code == 0
    # The last job to push wrote the merged state locally as well.
    last = max(clones.values(), key=lambda c: json.loads((c / STATE).read_text())["serial"])
    assert json.loads((last / STATE).read_text()) == final
    assert final["lineage"]


def test_a_job_whose_push_lost_the_race_keeps_the_winners_records(tmp_path: Path) -> None:
    """Deterministic: the other job commits between this job's read and its push."""
    origin = agency(tmp_path, ("acme", "globex"))
    ours, theirs = origin.clone("ours"), origin.clone("theirs")
    assert main(["-C", str(ours), "apply", "--yes", "--account", "acme"]) == 0  # not committed
    store = gitstate.StateInGit(ours, ours / STATE, BRANCH)
    assert store.pull() is None  # nothing in git yet: the local state stays
    # Meanwhile globex's job commits twice (a new pin in between): its state comes first.
    assert main(["-C", str(theirs), "apply", "--yes", "--commit", "--account", "globex"]) == 0
    with (theirs / "pins" / "globex.yaml").open("a", encoding="utf-8") as pins:
        pins.write(
            "  - id: globex-late\n    board: Recipes\n    account: globex\n"
            "    title: Late\n    link: https://example.com/late\n    image: media/salad.jpg\n"
        )
    commit_all(theirs, "One more globex pin")
    git(theirs, "push", "-q", "origin", "main")
    assert main(["-C", str(theirs), "apply", "--yes", "--commit", "--account", "globex"]) == 0
    winner = remote_state(origin)

    pushed = store.push("pinops: state\n", accounts=frozenset({"acme"}))
    assert pushed is not None and pushed.pushed and pushed.attempts >= 2
    final = remote_state(origin)
    globex = {k: r for k, r in final["pins"].items() if r["account"] == "globex"}
    assert globex == {k: r for k, r in winner["pins"].items() if r["account"] == "globex"}
    assert "globex-late" in globex
    assert sorted(k for k, r in final["pins"].items() if r["account"] == "acme") == [
        f"acme-{n}" for n in range(PINS_EACH)
    ]
    assert final["serial"] > winner["serial"]
    assert final["lineage"] == winner["lineage"]
    # The state file here took the merge: it is the branch's state.
    assert json.loads((ours / STATE).read_text()) == final


def test_two_jobs_for_one_account_at_once_stop_and_say_so(tmp_path: Path) -> None:
    origin = agency(tmp_path, ("acme", "globex"))
    ours, theirs = origin.clone("ours"), origin.clone("theirs")
    store = gitstate.StateInGit(ours, ours / STATE, BRANCH)
    store.pull()
    assert main(["-C", str(ours), "apply", "--yes", "--account", "acme"]) == 0
    assert main(["-C", str(theirs), "apply", "--yes", "--commit", "--account", "acme"]) == 0
    their_commit = git(origin.bare, "rev-parse", BRANCH)
    with pytest.raises(StateError, match="of account 'acme', which this run applies") as raised:
        store.push("pinops: state\n", accounts=frozenset({"acme"}))
    assert "concurrency group per account" in raised.value.hint
    assert git(origin.bare, "rev-parse", BRANCH) == their_commit  # never forced


def test_a_killed_job_is_replayed_on_a_fresh_clone_after_another_account_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner-loss guarantee holds through merges: the intents a killed job checkpointed
    survive another account's commit, and a new job settles them by idempotency key."""
    monkeypatch.setenv("POSTPROXY_API_KEY", postproxy.API_KEY)
    with postproxy.PostproxyEmulator() as api:
        api.add_board("Recipes")
        origin = agency(tmp_path, ("globex",))
        seed = tmp_path / "seed"
        mediafiles.write_png(seed / "pins" / "media" / "pin.png", 1000, 1500)
        with (seed / "pinops.yaml").open("a", encoding="utf-8") as config:
            config.write(
                f"  acme:\n    provider: postproxy\n    account_id: {postproxy.PROFILE_ID}\n"
                f"    base_url: {api.base_url}\nmedia_base_url: https://cdn.example.com/\n"
            )
        pins = ["defaults:", "  board: Recipes", "  account: acme", "pins:"]
        for number in range(8):
            pins += [
                f"  - id: acme-{number}",
                f"    title: Recipe {number}",
                "    image: media/pin.png",
            ]
        (seed / "pins" / "acme.yaml").write_text("\n".join(pins) + "\n", encoding="utf-8")
        commit_all(seed, "acme publishes through Postproxy")
        git(seed, "push", "-q", "origin", "main")

        def made() -> int:
            with api.lock:
                return len(api.posts)

        killed = origin.clone("acme-1")
        job = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "apply", "--yes", "--commit", "--account", "acme"],
            cwd=killed,
            env={**os.environ, "PYTHONPATH": str(PROJECT)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while made() < 3 and job.poll() is None:
            assert time.monotonic() < deadline, "the apply made no progress"
            time.sleep(0.002)
        job.kill()
        _, err = job.communicate()
        assert made() >= 3, err
        shutil.rmtree(killed)  # the runner is gone, and its journal with it
        intents = [k for k, r in remote_state(origin)["pins"].items() if "intent" in r]
        assert intents  # the checkpoint before the first create

        globex = origin.clone("globex")
        assert main(["-C", str(globex), "apply", "--yes", "--commit", "--account", "globex"]) == 0
        kept = remote_state(origin)["pins"]
        assert [k for k, r in kept.items() if "intent" in r] == intents

        for attempt in range(2, 5):
            again = origin.clone(f"acme-{attempt}")
            assert main(["-C", str(again), "apply", "--yes", "--commit", "--account", "acme"]) == 0
            if main(["-C", str(again), "plan", "--detailed-exitcode"]) == 0:
                break
        final = remote_state(origin)["pins"]
        assert sorted(final) == sorted(
            [f"acme-{n}" for n in range(8)] + [f"globex-{n}" for n in range(PINS_EACH)]
        )
        assert [k for k, r in final.items() if "intent" in r] == []
        with api.lock:
            live = set(api.pins)
        acme = [r["pin_id"] for r in final.values() if r["account"] == "acme"]
        assert len(live) == 8 and sorted(acme) == sorted(live)  # each published once
