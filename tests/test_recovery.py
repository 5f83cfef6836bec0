"""Interrupted creates, drift, tombstones, protection, import and pacing, on the sandbox."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import replace
from pathlib import Path

from reconciler import boards
from reconciler.config import load as load_config
from reconciler.content import content, idempotency_key
from reconciler.providers.base import PinContent, Published
from reconciler.providers.sandbox import SandboxProvider, pin_id
from reconciler.state import Record
from reconciler.statefile import StateFile
from reconciler.timestamps import utcnow
from reconciler.workspace import Workspace
from tests.conftest import Run, edit, sandbox_pins, state

SALAD = "pins/recipes/summer-salad.yaml"


def sandbox_create(repo: Path, sent: PinContent) -> Published:
    """Publish `sent` straight to the sandbox account, as another tool or person would."""
    provider = SandboxProvider(repo, "main", ("Recipes", "Weeknight Dinners", "Home Decor"))
    try:
        return provider.create(sent, "unused")
    finally:
        provider.close()


def interrupt_create(repo: Path, key: str, *, reached_provider: bool, copies: int = 1) -> None:
    """Leave the state as a process killed right after (or before) the provider's create call."""
    with Workspace(repo) as workspace:
        planned = workspace.plan()
        target = planned.desired.targets[key]
        store, state = workspace.store, planned.state
        made = boards.resolve(planned.plan, state.boards, workspace.provider)
        state.boards.update(made.boards)  # as apply records them
        change = next(c for c in made.changes if c.key == key)
        sent = content(change)
        record = Record(
            provider="sandbox",
            account="main",
            content_hash=target.content_hash,
            board=target.board,
            board_id=change.board_id,
            fields=target.fields.to_json(),
            status="pending",
            intent={
                "operation": "create",
                "started_at": utcnow(),
                "idempotency_key": idempotency_key(),
            },
        )
        store.begin(state)
        store.record(state, {"op": "record", "key": key, "record": record.to_json()})
        for _ in range(copies if reached_provider else 0):
            sandbox_create(repo, sent)
    # No finish(): the process died. The journal holds the intent, not the result.


def test_a_create_that_reached_the_provider_is_adopted_not_reposted(
    pinops: Run, repo: Path
) -> None:
    interrupt_create(repo, "summer-salad", reached_provider=True)
    plan = pinops("plan")
    assert "  = adopt summer-salad  (pins/recipes/summer-salad.yaml:3)\n" in plan.out
    assert f"      # found as pin {pin_id('main', 1)}\n" in plan.out
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    assert "+ summer-salad" not in result.out
    assert f"= summer-salad: adopted (pin {pin_id('main', 1)})" in result.out
    salads = [p for p in sandbox_pins(repo).values() if "salad" in str(p["link"])]
    assert len(salads) == 1
    assert "No changes" in pinops("apply", "--yes").out


def test_a_create_that_never_reached_the_provider_is_created(pinops: Run, repo: Path) -> None:
    interrupt_create(repo, "summer-salad", reached_provider=False)
    plan = pinops("plan")
    assert "  + create summer-salad" in plan.out
    assert "not on the board: it was never created" in plan.out
    assert pinops("apply", "--yes").code == 0
    salads = [p for p in sandbox_pins(repo).values() if "salad" in str(p["link"])]
    assert len(salads) == 1


def test_an_ambiguous_create_waits_for_a_person(pinops: Run, repo: Path) -> None:
    interrupt_create(repo, "summer-salad", reached_provider=True, copies=2)
    plan = pinops("plan")
    assert "  ? unresolved summer-salad" in plan.out
    first, second = pin_id("main", 1), pin_id("main", 2)
    assert f"several pins match it: {first}, {second}" in plan.out
    assert "pinops state resolve summer-salad --published PIN_ID" in plan.out
    applied = pinops("apply", "--yes")
    assert "summer-salad" not in applied.out.split("Plan:")[1]  # skipped by apply
    assert pinops("state", "resolve", "summer-salad", "--published", second).code == 0
    record = json.loads(pinops("state", "show", "summer-salad").out)
    assert record["pin_id"] == second and "intent" not in record
    assert "summer-salad" not in pinops("plan").out


def test_resolve_not_published_plans_the_create_again(pinops: Run, repo: Path) -> None:
    interrupt_create(repo, "summer-salad", reached_provider=True, copies=2)
    assert pinops("state", "resolve", "summer-salad", "--not-published").code == 0
    assert "+ create summer-salad" in pinops("plan").out
    assert pinops("state", "resolve", "summer-salad", "--not-published").code == 1


def test_tombstone_deletes_on_purpose_with_prune_off(pinops: Run, repo: Path) -> None:
    pinops("apply", "--yes")
    (repo / SALAD).write_text("id: summer-salad\nstate: absent\n")
    plan = pinops("plan")
    assert "  - delete summer-salad\n      # marked state: absent\n" in plan.out
    assert pinops("apply", "--yes").code == 0
    assert "summer-salad" not in pinops("state", "list").out
    assert len(sandbox_pins(repo)) == 7


def test_a_protected_pin_survives_removal_of_its_manifest(pinops: Run, repo: Path) -> None:
    edit(repo / SALAD, "dominant_color:", "protect: true\ndominant_color:")
    pinops("apply", "--yes")
    edit(repo / "pinops.yaml", "prune: false", "prune: true")
    edit(repo / "pinops.yaml", "max_deletes: 25%", "max_deletes: 10")
    (repo / SALAD).unlink()
    blocked = pinops("apply", "--yes")
    assert blocked.code == 3
    assert "'summer-salad' is protected and would be deleted" in blocked.err
    assert len(sandbox_pins(repo)) == 8
    assert pinops("plan").code == 3


def test_refresh_finds_drift_and_apply_restores_it(pinops: Run, repo: Path) -> None:
    pinops("apply", "--yes")
    # Edited by hand, as anyone can with the sqlite3 shell.
    with closing(sqlite3.connect(repo / ".pinops/sandbox/main.sqlite3")) as db, db:
        db.execute(
            "UPDATE pins SET title = 'Edited by hand on Pinterest' WHERE link LIKE '%salad%'"
        )
        db.execute("DELETE FROM pins WHERE link LIKE '%living%'")
    refresh = pinops("refresh")
    assert refresh.code == 0
    assert refresh.out.startswith(
        "Changed outside pinops since the last apply:\n\n"
        "  - cozy-living-room: deleted on the provider\n"
        '  ~ summer-salad: title is "Edited by hand on Pinterest", published as '
        '"Crunchy Summer Salad with Lemon Dressing"\n'
    )
    assert "  + create cozy-living-room" in refresh.out
    assert "  ~ update summer-salad" in refresh.out
    assert "Recorded in pinops.state.json: the next plan and apply restore it" in refresh.out
    # The refresh is remembered: the state says what it found, so plans act on it without it.
    records = state(repo)
    assert records["cozy-living-room"]["status"] == "deleted"
    assert records["summer-salad"]["fields"]["title"] == "Edited by hand on Pinterest"
    plan = pinops("plan", "--detailed-exitcode")
    assert plan.code == 2
    assert "  + create cozy-living-room" in plan.out
    assert "  ~ update summer-salad" in plan.out
    assert '"Edited by hand on Pinterest" → "Crunchy Summer Salad with Lemon Dressing"' in plan.out
    assert pinops("apply", "--yes").code == 0
    assert pinops("refresh").out == "No drift: every published pin is as pinops left it.\n"
    assert "No changes" in pinops("plan").out
    assert len(sandbox_pins(repo)) == 8


def test_without_refresh_a_plan_trusts_the_state(pinops: Run, repo: Path) -> None:
    pinops("apply", "--yes")
    with closing(sqlite3.connect(repo / ".pinops/sandbox/main.sqlite3")) as db, db:
        db.execute("DELETE FROM pins WHERE link LIKE '%living%'")
    assert "No changes" in pinops("plan").out
    assert "  + create cozy-living-room" in pinops("plan", "--refresh").out
    assert "No changes" in pinops("plan").out  # plan --refresh shows drift, records nothing
    assert "  + create cozy-living-room" in pinops("refresh").out
    assert "  + create cozy-living-room" in pinops("plan").out


def test_import_adopts_an_existing_pin_without_republishing(pinops: Run, repo: Path) -> None:
    with Workspace(repo) as workspace:
        planned = workspace.plan()
        made = boards.resolve(planned.plan, planned.state.boards, workspace.provider)
        change = next(c for c in made.changes if c.key == "summer-salad")
        existing = sandbox_create(repo, replace(content(change), title="Old title"))
    result = pinops("import", "summer-salad", str(existing.pin_id))
    assert result.code == 0, result.err
    assert (
        result.out == f"Imported pin {existing.pin_id} as 'summer-salad'; nothing was published.\n"
    )
    plan = pinops("plan").out
    assert "  ~ update summer-salad" in plan
    assert '"Old title" → "Crunchy Summer Salad with Lemon Dressing"' in plan
    assert pinops("import", "summer-salad", "1").code == 1  # already managed
    assert pinops("import", "nope", "1").code == 1


def test_state_mv_renames_without_republishing(pinops: Run, repo: Path) -> None:
    pinops("apply", "--yes")
    edit(repo / SALAD, "id: summer-salad", "id: lemon-salad")
    assert "+ create lemon-salad" in pinops("plan").out
    assert pinops("state", "mv", "summer-salad", "lemon-salad").code == 0
    assert "No changes" in pinops("plan").out
    assert pinops("state", "mv", "nope", "other").code == 1


def test_pace_spreads_new_pins_over_time_and_the_plan_shows_when(pinops: Run, repo: Path) -> None:
    edit(repo / "pinops.yaml", "    boards: [", "    pace: 2/hour\n    boards: [")
    plan = pinops("plan")
    assert "Plan: 2 to create, 0 to update, 0 to replace, 0 to delete. (7 waiting)" in plan.out
    assert plan.out.count("# paced at 2/hour: due about ") == 6
    assert pinops("apply", "--yes").code == 0
    assert len(sandbox_pins(repo)) == 2
    again = pinops("plan")
    assert "Plan: 0 to create" in again.out and again.out.count("paced at 2/hour") == 6


def test_unlock_clears_only_a_lock_whose_holder_is_gone(pinops: Run, repo: Path) -> None:
    assert pinops("state", "unlock").out == "the state was not locked\n"
    store = StateFile(load_config(repo).state_path)
    with store.lock("apply"):
        held = pinops("state", "unlock")
        assert held.code == 1 and "which is still running" in held.err
    assert pinops("state", "unlock").out == "the state was not locked\n"  # released when done
    # A holder killed while holding the lock: the OS lets go of the lock, its name is left.
    killed = (
        "import os, sys; from reconciler.statefile import StateFile; from pathlib import Path\n"
        "with StateFile(Path(sys.argv[1])).lock('apply'):\n    os._exit(9)\n"
    )
    run = subprocess.run([sys.executable, "-c", killed, str(store.path)], check=False)
    assert run.returncode == 9
    released = pinops("state", "unlock")
    assert released.code == 0
    assert released.out.startswith("the lock was not held; its last holder, pinops apply (pid")
    assert pinops("state", "unlock").out == "the state was not locked\n"
