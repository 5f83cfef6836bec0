"""Whole plans remembered across runs: an unchanged repository is answered without planning again,
and a change to any input (manifest, defaults, data file, media, config, state, pinops' own code)
is planned again."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler import plananswers
from reconciler.workspace import Workspace
from tests.conftest import PROJECT, Run, edit

SALAD = "pins/recipes/summer-salad.yaml"


def change_manifest(repo: Path) -> None:
    edit(repo / SALAD, "Crunchy Summer Salad", "Crisp Summer Salad")


def change_defaults(repo: Path) -> None:
    edit(repo / "pins/recipes/_defaults.yaml", "#C8553D", "#2E7D32")


def change_data_file(repo: Path) -> None:
    edit(repo / "pins/shop/products.csv", "Cast Iron Skillet", "Iron Skillet")


def change_media(repo: Path) -> None:
    """A byte changed as a careless tool might: same size, modification time set back."""
    path = repo / "pins/media/salad.jpg"
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def change_config(repo: Path) -> None:
    edit(repo / "pinops.yaml", "provider: sandbox", "provider: myspace")


def change_state(repo: Path) -> None:
    path = repo / "pinops.state.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["pins"]["summer-salad"]
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        (change_manifest, "  ~ update summer-salad"),
        (change_defaults, '"#2E7D32"'),
        (change_data_file, "Iron Skillet"),
        (change_media, "  -/+ replace summer-salad"),
        (change_config, "'myspace'"),
        (change_state, "  + create summer-salad"),
    ],
    ids=["manifest", "defaults", "data file", "media", "config", "state"],
)
def test_a_changed_input_is_planned_again(
    pinops: Run, repo: Path, change: Callable[[Path], None], shown: str
) -> None:
    assert pinops("apply", "--yes").code == 0
    first = pinops("plan")
    assert "No changes" in first.out
    assert pinops("plan") == first
    change(repo)
    again = pinops("plan")
    assert shown in again.out + again.err
    assert pinops("plan") == again


def plan_process(repo: Path, code: Path = PROJECT) -> subprocess.CompletedProcess[str]:
    """`pinops plan` in a process of its own, saying which modules it imported."""
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reconciler", "-C", str(repo), "plan"],
        env={**os.environ, "PYTHONPATH": str(code)},
        cwd=repo,  # not the project: `-m` imports from the working folder first
        capture_output=True,
        text=True,
        check=False,
    )


def planned_again(run: subprocess.CompletedProcess[str]) -> bool:
    return "reconciler.workspace" in run.stderr


def test_an_unchanged_repository_is_answered_without_planning(repo: Path) -> None:
    first = plan_process(repo)
    assert first.returncode == 0 and planned_again(first)
    second = plan_process(repo)
    assert not planned_again(second)
    assert second.stdout == first.stdout
    # A fresh checkout of the same bytes: every file's times differ, their contents do not.
    for path in repo.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    third = plan_process(repo)
    assert not planned_again(third) and third.stdout == first.stdout


def test_another_version_of_pinops_plans_again(repo: Path, tmp_path: Path) -> None:
    code = tmp_path / "code"
    shutil.copytree(
        PROJECT / "reconciler", code / "reconciler", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(PROJECT / "schemas", code / "schemas")
    first = plan_process(repo, code)
    assert "pinops will perform these actions" in first.stdout
    edit(code / "reconciler/report.py", "pinops will perform these actions", "pinops would do this")
    again = plan_process(repo, code)
    assert planned_again(again)
    assert "pinops would do this" in again.stdout


def test_a_plan_waiting_for_publish_at_is_kept_only_until_then(repo: Path) -> None:
    since = datetime.now(UTC).timestamp()
    with Workspace(repo) as workspace:
        planned = workspace.plan()
        targets = planned.desired.targets.values()
        waiting = [
            t.publish_at for t in targets if t.publish_at and t.publish_at.timestamp() > since
        ]
        until = plananswers.lifetime(planned, workspace.config, workspace.capabilities, since)
    assert until == min(moment.timestamp() for moment in waiting)


def test_a_paced_plan_is_not_kept(repo: Path) -> None:
    edit(repo / "pinops.yaml", "    boards: [", "    pace: 2/hour\n    boards: [")
    since = datetime.now(UTC).timestamp()
    with Workspace(repo) as workspace:
        planned = workspace.plan()
        until = plananswers.lifetime(planned, workspace.config, workspace.capabilities, since)
        assert until == since
