"""The CI scripts' own pieces: the constraints that pin every dependency to its lowest version."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from tests.conftest import PROJECT


def test_every_declared_floor_is_pinned_for_the_lowest_run() -> None:
    done = subprocess.run(
        [sys.executable, ".ci/floors.py"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    pinned = done.stdout.splitlines()
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    floors = [r for r in declared if ">=" in r]
    assert len(pinned) == len(floors)
    for requirement, pin in zip(floors, pinned, strict=True):
        name, floor = requirement.split(">=")
        assert pin == f"{name.split('[')[0]}=={floor}"
    assert "pyyaml==6.0" in pinned
