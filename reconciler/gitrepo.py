"""The git repository pinops runs in, through GitPython: opening it, naming revisions, and
provenance (the commit checked out, earlier versions of a file, the branch), and blobs and
ancestry as the state file's commits need them.

What differs between two commits is in changedfiles.py; the state file carried back to git, in
gitstate.py.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import git

from reconciler.errors import InputError, StateError

REMOTE = "origin"


@contextmanager
def open_repo(
    root: Path,
    why: str = "",
    hint: str = "run `git init` (and add a remote) to keep the pins and their state in git",
) -> Iterator[git.Repo]:
    """The git repository `root` is in; `why` and `hint` say what needs it when there is none."""
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise InputError(f"{root} is not inside a git repository{why}", hint=hint) from None
    with repo:
        yield repo


def worktree_top(repo: git.Repo) -> Path:
    assert repo.working_tree_dir is not None
    return Path(repo.working_tree_dir).resolve()


def head_commit(root: Path) -> str | None:
    """The commit checked out at `root`: recorded in state as the source of what is published."""
    try:
        with open_repo(root) as repo:
            return repo.head.commit.hexsha
    except (InputError, ValueError):  # not a repository, or no commit yet
        return None


# How far back the history of a media file is searched for a version the state recorded.
PAST_VERSIONS = 50


def past_version(root: Path, file: str, sha256: str) -> bytes | None:
    """The bytes of an earlier version of `file` (relative to `root`) whose SHA-256 is `sha256`:
    what a replaced pin showed, when the work tree now holds another file at that path."""
    try:
        with open_repo(root) as repo:
            # Normalised first: a `..` that leads out of the repository is refused, not asked for.
            rel = (
                Path(os.path.normpath(root.resolve() / file))
                .relative_to(worktree_top(repo))
                .as_posix()
            )
            for commit in repo.iter_commits(paths=rel, max_count=PAST_VERSIONS):
                try:
                    data: bytes = (commit.tree / rel).data_stream.read()
                except KeyError:
                    continue
                if hashlib.sha256(data).hexdigest() == sha256:
                    return data
    except (InputError, ValueError, git.GitCommandError):
        return None
    return None


def verify(repo: git.Repo, revision: str) -> str | None:
    """The object a revision names (a commit, or `commit:path` for a file in it); None if none."""
    name = revision if ":" in revision else f"{revision}^{{commit}}"
    try:
        return str(repo.git.rev_parse("--verify", "--quiet", name))
    except git.GitCommandError:
        return None


def current_branch(root: Path) -> str | None:
    """The branch checked out at `root`, if it is in a git repository and on a branch."""
    try:
        with open_repo(root) as repo:
            return None if repo.head.is_detached else repo.active_branch.name
    except (InputError, TypeError):
        return None


def store_blob(repo: git.Repo, data: bytes) -> str:
    """Store `data` as a blob in the repository's object database; its id."""
    done = subprocess.run(
        [git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git", "hash-object", "-w", "--stdin"],
        input=data,
        cwd=worktree_top(repo),
        capture_output=True,
        check=False,
    )
    if done.returncode:
        error = done.stderr.decode(errors="replace").strip()
        raise StateError(f"cannot store the state in git: {error}")
    return done.stdout.decode().strip()


def read_blob(repo: git.Repo, blob: str | None) -> bytes | None:
    """The bytes of a stored blob; None for no blob."""
    return repo.odb.stream(bytes.fromhex(blob)).read() if blob else None


def is_ancestor(repo: git.Repo, ancestor: str, descendant: str) -> bool:
    """Whether commit `ancestor` is in the history of commit `descendant`."""
    return repo.is_ancestor(repo.commit(ancestor), repo.commit(descendant))


def first_line(error: git.GitCommandError) -> str:
    """What git said went wrong, in one line: its first line that is not a hint."""
    text = str(error.stderr or error.stdout or error).strip().strip("'").strip()
    for line in text.splitlines():
        line = line.strip().removeprefix("stderr:").strip().strip("'")
        if line and not line.startswith("hint:"):
            return line
    return text
