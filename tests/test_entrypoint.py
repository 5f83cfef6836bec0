"""The installed command and `python -m reconciler` run the quick start as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_python_dash_m_runs_the_quick_start(repo: Path) -> None:
    command = [sys.executable, "-m", "reconciler", "-C", str(repo), "apply", "--yes"]
    first = subprocess.run(
        command, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    assert first.returncode == 0, first.stderr
    assert "Apply complete: 8 created" in first.stdout
    again = subprocess.run(
        command, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    assert again.returncode == 0
    assert again.stdout.startswith("No changes")


def test_errors_never_show_a_traceback(repo: Path) -> None:
    (repo / "pins" / "broken.yaml").write_text("id: [\n")
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "-C", str(repo), "plan"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("pins/broken.yaml:2:1: error: invalid YAML")


def test_a_plan_from_cached_media_without_a_state_branch_loads_no_git_or_media_library(
    repo: Path, tmp_path: Path
) -> None:
    # GitPython and the media parsers cost start-up time on every run that needs neither.
    script = (
        "import sys\n"
        "from reconciler.cli import main\n"
        f"main(['-C', {str(repo)!r}, 'plan'])\n"
        "print(sorted(m for m in ('git', 'imagesize', 'mutagen') if m in sys.modules))\n"
    )
    environment = {**os.environ, "PINOPS_CACHE_DIR": str(tmp_path / "cache")}
    loaded = []
    for _ in range(2):
        run = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=False,
            env=environment,
        )
        assert run.returncode == 0, run.stderr
        loaded.append(run.stdout.splitlines()[-1])
    assert loaded == ["['imagesize', 'mutagen']", "[]"]
