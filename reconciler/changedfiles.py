"""Files changed between two points of the repository's history: what `plan --changed` shows."""

from __future__ import annotations

import os
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import git

from reconciler.changes import Change
from reconciler.errors import InputError
from reconciler.gitrepo import REMOTE, open_repo, verify, worktree_top


@dataclass(frozen=True)
class ChangedFiles:
    """Files changed between two points, as paths relative to the pinops root."""

    root: Path
    base: str
    head: str
    paths: frozenset[str]

    def touches(self, change: Change) -> bool:
        """Whether a planned change comes from a changed manifest, defaults file or medium."""
        if "pinops.yaml" in self.paths:
            return True  # the config shapes every pin
        target = change.target
        if target is None:
            return change.action != "kept"  # its manifest went away, or the pin is marked absent
        file = PurePosixPath(target.location.file)
        if str(file) in self.paths:
            return True
        if any(str(folder / "_defaults.yaml") in self.paths for folder in file.parents):
            return True
        for medium in target.fields.media:
            if medium.path is not None:
                try:
                    if medium.path.relative_to(self.root).as_posix() in self.paths:
                        return True
                except ValueError:
                    continue
        return False


def default_branch(repo: git.Repo) -> str:
    """The branch pull requests merge into: origin's HEAD, the pull request's base, or main."""
    candidates: list[str] = []
    with suppress(git.GitCommandError):
        candidates.append(repo.git.symbolic_ref("--short", f"refs/remotes/{REMOTE}/HEAD"))
    base_ref = os.environ.get("GITHUB_BASE_REF")
    if base_ref:
        candidates += [f"{REMOTE}/{base_ref}", base_ref]
    candidates += [f"{REMOTE}/main", f"{REMOTE}/master", "main", "master"]
    for name in candidates:
        if verify(repo, name):
            return name
    raise InputError(
        "cannot tell the default branch to compare with",
        hint="name the commit to compare with: pinops plan --changed --base REF",
    )


def changed_files(root: Path, base: str | None = None, head: str | None = None) -> ChangedFiles:
    """Files that differ between `base` (default: the merge base with the default branch) and
    `head` (default: the work tree, uncommitted and untracked files included)."""
    with open_repo(root) as repo:
        for name in (base, head):
            if name is not None and verify(repo, name) is None:
                raise InputError(f"'{name}' is not a commit in this repository")
        if base is None:
            branch = default_branch(repo)
            bases = repo.merge_base(branch, head or "HEAD")
            if not bases:
                raise InputError(f"HEAD and {branch} have no common history")
            base_commit = bases[0].hexsha
        else:
            base_commit = str(repo.git.rev_parse(base))
        listing = ["--name-only", "--no-renames", "-z", base_commit]
        names = str(repo.git.diff(*listing, *([head] if head else []))).split("\0")
        if head is None:
            names += str(repo.git.ls_files("--others", "--exclude-standard", "-z")).split("\0")
        top, here = worktree_top(repo), root.resolve()
        prefix = "" if here == top else here.relative_to(top).as_posix() + "/"
        paths = frozenset(name[len(prefix) :] for name in names if name and name.startswith(prefix))
    return ChangedFiles(root, base_commit, head or "the work tree", paths)
