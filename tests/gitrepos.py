"""Real git repositories for tests: a bare "remote" holding the example content, and its clones."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PROJECT

GITIGNORE = (
    ".pinops/\npinops.state.json.lock\npinops.state.json.lock.holder\npinops.state.json.journal\n"
)


def isolate_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Git reads only a config made here: a known identity, and `main` for new repositories."""
    config = tmp_path / "gitconfig"
    config.write_text(
        "[user]\n\tname = Reviewer\n\temail = reviewer@example.com\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        for key in ("NAME", "EMAIL", "DATE"):
            monkeypatch.delenv(f"GIT_{role}_{key}", raising=False)
    for name in ("GITHUB_ACTIONS", "GITHUB_BASE_REF", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
        monkeypatch.delenv(name, raising=False)


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


@dataclass(frozen=True)
class Origin:
    """A bare repository standing in for GitHub, seeded with the example content on `main`."""

    bare: Path
    folder: Path

    def clone(self, name: str) -> Path:
        target = self.folder / name
        subprocess.run(
            ["git", "clone", "-q", str(self.bare), str(target)], check=True, capture_output=True
        )
        return target

    def log(self, ref: str, *args: str) -> str:
        return git(self.bare, "log", "--format=%H %s", *args, ref)


def origin_with_content(folder: Path, config_extra: str = "", ignore_extra: str = "") -> Origin:
    bare = folder / "origin.git"
    git(folder, "init", "-q", "--bare", str(bare))
    seed = folder / "seed"
    seed.mkdir()
    shutil.copy(PROJECT / "pinops.yaml", seed / "pinops.yaml")
    shutil.copytree(PROJECT / "pins", seed / "pins")
    if config_extra:
        with (seed / "pinops.yaml").open("a", encoding="utf-8") as config:
            config.write(config_extra)
    (seed / ".gitignore").write_text(GITIGNORE + ignore_extra, encoding="utf-8")
    git(seed, "init", "-q")
    commit_all(seed, "The example pins")
    git(seed, "remote", "add", "origin", str(bare))
    git(seed, "push", "-q", "origin", "main")
    git(bare, "symbolic-ref", "HEAD", "refs/heads/main")
    return Origin(bare, folder)
