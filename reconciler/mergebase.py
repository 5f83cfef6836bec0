"""The base a pull request merges into, read from git: its pinops.yaml, its state file, and the
commits since it that changed the state file.

The base is trusted (the branch is protected, every change to it was reviewed); the pull request's
own files are not. So the plan compares the configuration with the base's, and the merge run acts
only on a state that no commit since the base has changed: pinops writes the state after an
apply, never through a pull request.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git

from reconciler import gitrepo
from reconciler.errors import InputError, PinopsError


def _open(root: Path) -> AbstractContextManager[git.Repo]:
    return gitrepo.open_repo(
        root,
        ", so there is no base to compare with",
        hint="drop --base, or run inside the repository's checkout",
    )


def _rel(repo: git.Repo, path: Path) -> str:
    return path.resolve().relative_to(gitrepo.worktree_top(repo)).as_posix()


def _commit(repo: git.Repo, ref: str) -> str:
    try:
        return str(repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}"))
    except git.GitCommandError:
        raise InputError(
            f"the base '{ref}' is not a commit in this repository",
            hint="fetch it first (actions/checkout with fetch-depth: 0), or name another --base",
        ) from None


def _blob(repo: git.Repo, commit: str, rel: str) -> str | None:
    return gitrepo.verify(repo, f"{commit}:{rel}")


@dataclass(frozen=True)
class Base:
    """What the base holds: its commit, and the bytes of pinops.yaml and of the state file."""

    commit: str
    config: bytes | None
    state: bytes | None


def read(root: Path, ref: str, config_path: Path, state_path: Path) -> Base:
    with _open(root) as repo:
        commit = _commit(repo, ref)

        def content(path: Path) -> bytes | None:
            blob = _blob(repo, commit, _rel(repo, path))
            return repo.odb.stream(bytes.fromhex(blob)).read() if blob else None

        return Base(commit, content(config_path), content(state_path))


def committed(root: Path, path: Path) -> bytes | None:
    """The file at `path` as the checked-out commit holds it; None if it holds none."""
    try:
        with _open(root) as repo:
            blob = _blob(repo, "HEAD", _rel(repo, path))
            return repo.odb.stream(bytes.fromhex(blob)).read() if blob else None
    except (InputError, ValueError):
        return None


def state_edits(root: Path, state_path: Path, ref: str) -> list[str]:
    """Commits after `ref` (up to HEAD) that changed the state file, as git's history
    simplification finds them: a merge that took one parent's state is not one of them. In a
    merge run, none of them is pinops' own work."""
    with _open(root) as repo:
        base = _commit(repo, ref)
        rel = _rel(repo, state_path)
        return str(repo.git.rev_list(f"{base}..HEAD", "--", rel)).split()


def refuse_state_edits(root: Path, state_path: Path, state_name: str, ref: str) -> None:
    """The merge run's check: no commit since the base changed the state file."""
    edits = state_edits(root, state_path, ref)
    if edits:
        shown = ", ".join(commit[:12] for commit in edits[:5])
        raise PinopsError(
            f"{state_name} was changed since {ref[:12]} by {shown}, not by pinops: refusing to act "
            "on a state pinops did not write (a pull request must never change the state)",
            hint=(
                f"restore it as {ref[:12]} has it in a new pull request (git checkout "
                f"{ref[:12]} -- {state_name}, or git rm it if {ref[:12]} has none); to accept a "
                "deliberate edit, check its diff, then apply by hand without --base"
            ),
        )


def record_changes(base: bytes | None, head: bytes | None) -> str:
    """In words, which records differ between two state files (added, removed, changed)."""
    old, new = _records(base), _records(head)
    parts = []
    for label, keys in (
        ("adds", sorted(new.keys() - old.keys())),
        ("removes", sorted(old.keys() - new.keys())),
        ("changes", sorted(k for k in old.keys() & new.keys() if old[k] != new[k])),
    ):
        if keys:
            more = f" and {len(keys) - 10} more" if len(keys) > 10 else ""
            parts.append(f"{label} {', '.join(keys[:10])}{more}")
    return "; ".join(parts) or "changes no record"


def _records(data: bytes | None) -> dict[str, Any]:
    if not data:
        return {}
    try:
        pins = json.loads(data).get("pins", {})
    except (ValueError, AttributeError):
        return {}
    return pins if isinstance(pins, dict) else {}
