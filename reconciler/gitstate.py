"""The state file carried back to git.

The state lives in git on a branch: the checked-out one, or its own `state_branch`. Before an apply
that commits, `StateInGit.pull` takes the newest state git holds (the branch tip on origin may be
ahead of the checkout, e.g. when queued runs apply older commits); `StateInGit.push` commits the
state file and pushes without force. The commit is built with a temporary index from the branch's
own tree, so it changes the state file only and never takes anyone's staged work with it; a
`state_branch` is written without touching the work tree at all. A push rejected because the
branch moved is retried on the new tip when the state there is still the one this run started
from (only the state file may differ); if someone else changed the state, it stops and says so.
A run for some accounts (`apply --account`, a job of a matrix) instead merges: the branch's
records of the accounts it does not apply are kept in what it commits (statemerge.py).
"""

from __future__ import annotations

import json
import logging
import os
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git

from reconciler import statemerge
from reconciler.durablefiles import replace_file
from reconciler.errors import StateError
from reconciler.gitrepo import (
    REMOTE,
    first_line,
    is_ancestor,
    open_repo,
    read_blob,
    store_blob,
    verify,
    worktree_top,
)

log = logging.getLogger(__name__)

PUSH_ATTEMPTS = 4
# A run for some accounts retries longer: the other jobs of its matrix push to the same branch.
MERGE_ATTEMPTS = 12
# How git says a push lost a race: the branch moved before it, or while the remote updated it.
_MOVED = ("[rejected]", "fetch first", "non-fast-forward", "cannot lock ref", "incorrect old value")
# Fallback author when git has no identity configured (e.g. a bare CI runner).
_IDENTITY = {"name": "pinops", "email": "pinops@localhost"}


@dataclass(frozen=True)
class Pushed:
    """The state commit that was made, and whether it reached origin."""

    commit: str
    branch: str
    pushed: bool
    attempts: int


def _identity(repo: git.Repo) -> dict[str, str]:
    """Environment for commits: git's own identity where it has one, else a fallback."""
    env: dict[str, str] = {}
    for key in ("name", "email"):
        try:
            repo.git.config("--get", f"user.{key}")
            continue
        except git.GitCommandError:
            pass
        for role in ("AUTHOR", "COMMITTER"):
            variable = f"GIT_{role}_{key.upper()}"
            env[variable] = os.environ.get(variable) or _IDENTITY[key]
    return env


class StateInGit:
    """The state file's place in git: `branch` on origin, read before an apply and committed after.

    `branch` is the state branch, or None for the branch checked out at the root.
    """

    def __init__(self, root: Path, state_path: Path, branch: str | None = None) -> None:
        self.root = root
        self.state_path = state_path
        self.state_branch = branch
        self.branch = ""
        self.tip: str | None = None  # the commit whose state this run started from
        self.base_blob: str | None = None  # that state's blob id (None: git had no state)
        self.known_blob: str | None = None  # this run's own state when it last met the branch

    def _rel(self, repo: git.Repo) -> str:
        return self.state_path.resolve().relative_to(worktree_top(repo)).as_posix()

    def _branch(self, repo: git.Repo) -> str:
        if self.state_branch:
            return self.state_branch
        if repo.head.is_detached:
            raise StateError(
                "HEAD is detached: there is no branch to commit the state to",
                hint="check out the branch first (git switch main), or set state_branch:",
            )
        return repo.active_branch.name

    def _has_remote(self, repo: git.Repo) -> bool:
        return any(remote.name == REMOTE for remote in repo.remotes)

    def _fetch(self, repo: git.Repo, branch: str) -> str | None:
        """The branch tip on origin after fetching it; None when origin has no such branch."""
        tracking = f"refs/remotes/{REMOTE}/{branch}"
        try:
            listed = str(repo.git.ls_remote("--heads", REMOTE, f"refs/heads/{branch}"))
            if not listed.strip():
                return None
            repo.git.fetch("--no-tags", REMOTE, f"+refs/heads/{branch}:{tracking}")
        except git.GitCommandError as exc:
            raise StateError(
                f"cannot read branch '{branch}' from {REMOTE}: {first_line(exc)}",
                hint="check the network and the credentials git uses for origin",
            ) from None
        return verify(repo, tracking)

    def _blob(self, repo: git.Repo, commit: str | None, rel: str) -> str | None:
        return verify(repo, f"{commit}:{rel}") if commit else None

    def pull(self) -> str | None:
        """Bring the newest state git holds into the state file; say what was done, if anything.

        The caller holds the state lock. A newer local state (an apply not yet committed) is kept.
        """
        with open_repo(self.root) as repo:
            self.branch = self._branch(repo)
            rel = self._rel(repo)
            local_ref = f"refs/heads/{self.branch}"
            remote_tip = self._fetch(repo, self.branch) if self._has_remote(repo) else None
            local_tip = verify(repo, local_ref)
            tip = remote_tip or local_tip
            if self.state_branch and remote_tip and local_tip and local_tip != remote_tip:
                if is_ancestor(repo, remote_tip, local_tip):
                    tip = local_tip  # state commits not pushed yet: push() sends them
                elif not is_ancestor(repo, local_tip, remote_tip):
                    raise StateError(
                        f"the local branch '{self.branch}' and {REMOTE}/{self.branch} have "
                        "diverged: two different states",
                        hint=f"keep one: e.g. git branch -f {self.branch} {REMOTE}/{self.branch}",
                    )
            self.tip = tip
            self.base_blob = self.known_blob = self._blob(repo, tip, rel)
            if self.base_blob is None:
                return None
            stored = repo.odb.stream(bytes.fromhex(self.base_blob)).read()
            return self._adopt(stored, f"{self.branch} ({tip[:12] if tip else '?'})")

    def _adopt(self, stored: bytes, source: str) -> str | None:
        try:
            local = self.state_path.read_bytes()
        except FileNotFoundError:
            local = None
        if local == stored:
            return None
        if local is not None:
            ours, theirs = _identify(local, "the local state file"), _identify(stored, source)
            if ours[0] != theirs[0]:
                raise StateError(
                    f"the local state file and the state on {source} are different states "
                    f"(lineage {ours[0] or 'none'} and {theirs[0] or 'none'})",
                    hint="remove the local state file to use the one in git",
                )
            if ours[1] > theirs[1]:
                return None  # newer here: an apply whose state is not committed yet
            if ours[1] == theirs[1]:
                raise StateError(
                    f"the local state file and the state on {source} differ at the same serial "
                    f"{ours[1]}: two runs wrote the state from the same start",
                    hint="compare them and keep the right one; pinops will not merge states",
                )
        journal = self.state_path.with_name(self.state_path.name + ".journal")
        if journal.exists():
            raise StateError(
                f"an interrupted apply left {journal.name} for an older state than {source}",
                hint="run pinops apply without --commit to finish it, then commit its state",
            )
        replace_file(self.state_path, stored)
        return f"read the state from {source}"

    def push(
        self,
        message: str,
        attempts: int | None = None,
        data: bytes | None = None,
        *,
        accounts: frozenset[str] | None = None,
    ) -> Pushed | None:
        """Commit the state file (or `data` as the state file: a checkpoint) when it changed, and
        push it; None when there was nothing new. The next push builds on this one.

        `accounts`: those the run applies (`--account`); the branch's records of every other
        account are merged into what it commits (statemerge.py), and the state file (not a
        checkpoint) takes them too. None: all of them, and nothing merged."""
        if not self.branch:
            raise StateError("the state was not read from git before this commit")
        with open_repo(self.root) as repo:
            rel = self._rel(repo)
            if data is None:
                blob = str(repo.git.hash_object("-w", "--no-filters", str(self.state_path)))
            else:
                # Straight into git's object store: a disk too full for a state file may still
                # take the compressed object.
                blob = store_blob(repo, data)
            if blob == self.known_blob:
                return None
            if attempts is None:
                attempts = PUSH_ATTEMPTS if accounts is None else MERGE_ATTEMPTS
            pushed, committed = self._publish(repo, rel, blob, message, attempts, accounts)
            self.tip, self.base_blob, self.known_blob = pushed.commit, committed, blob
            if data is None and committed != blob:
                replace_file(self.state_path, read_blob(repo, committed) or b"")
            return pushed

    def _publish(
        self,
        repo: git.Repo,
        rel: str,
        blob: str,
        message: str,
        attempts: int,
        accounts: frozenset[str] | None,
    ) -> tuple[Pushed, str]:
        """Commit and push `blob` as the state; the pushed commit and the state blob it holds."""
        env = _identity(repo)
        start = self._start(repo)
        state = self._merged(repo, self._blob(repo, start, rel), blob, accounts)
        commit = self._commit(repo, start, rel, state, message, env)
        self._move(repo, commit, start, state, rel)
        if not self._has_remote(repo):
            return Pushed(commit, self.branch, pushed=False, attempts=0), state
        for attempt in range(1, attempts + 1):
            if self._push(repo, commit):
                self._settle(repo, commit)
                return Pushed(commit, self.branch, pushed=True, attempts=attempt), state
            if attempt == attempts:
                break
            tip = self._fetch(repo, self.branch)
            theirs = self._blob(repo, tip, rel)
            if theirs != self.base_blob and accounts is None:
                raise StateError(
                    f"the state on {REMOTE}/{self.branch} changed while this apply ran: "
                    "another apply published too",
                    hint=(
                        f"the state is committed locally as {commit[:12]}; compare it with "
                        f"{REMOTE}/{self.branch}, keep the right one, and do not force-push"
                    ),
                )
            if start and tip and not self.state_branch and not is_ancestor(repo, start, tip):
                raise StateError(
                    f"{self.branch} has commits that are not on {REMOTE}",
                    hint=f"push or rebase them first; the state is committed as {commit[:12]}",
                )
            log.info("push rejected: %s moved; retrying on %s", self.branch, tip)
            if accounts is not None:
                # Jobs of one matrix push at once: a random pause keeps them from meeting again.
                time.sleep(random.uniform(0, min(2.0, 0.1 * 2**attempt)))
            state = self._merged(repo, theirs, blob, accounts, commit)
            commit = self._commit(repo, tip, rel, state, message, env)
            if self.state_branch:
                self._move(repo, commit, tip, state, rel)
        raise StateError(
            f"could not push the state to {REMOTE}/{self.branch} after {attempts} attempts: "
            "the branch kept moving",
            hint="run the same command again; the state file is up to date locally",
        )

    def _merged(
        self,
        repo: git.Repo,
        theirs: str | None,
        blob: str,
        accounts: frozenset[str] | None,
        commit: str = "",
    ) -> str:
        """The state to commit on a branch whose state is `theirs`: `blob`, with the records of
        the accounts other than `accounts` merged in from the branch."""
        if accounts is None:
            return blob
        try:
            merged = statemerge.merge(
                read_blob(repo, self.base_blob),
                read_blob(repo, self.known_blob),
                read_blob(repo, blob) or b"",
                read_blob(repo, theirs),
                accounts,
            )
        except StateError as exc:
            kept = f"; the state is committed locally as {commit[:12]}" if commit else ""
            raise StateError(
                f"the state on {REMOTE}/{self.branch} changed while this apply ran: {exc}",
                hint=(
                    "give each account one job at a time (a concurrency group per account)"
                    f"{kept}; compare with {REMOTE}/{self.branch}, and do not force-push"
                ),
            ) from None
        return store_blob(repo, merged)

    def _start(self, repo: git.Repo) -> str | None:
        """The commit the state commit goes on: the branch's newest commit this run knows of."""
        if self.state_branch:
            return self.tip
        head = repo.head.commit.hexsha
        if self.tip and self.tip != head and is_ancestor(repo, head, self.tip):
            return self.tip  # the checkout is behind origin (e.g. a queued run): build on the tip
        return head

    def _commit(
        self,
        repo: git.Repo,
        parent: str | None,
        rel: str,
        blob: str,
        message: str,
        env: dict[str, str],
    ) -> str:
        """`parent`'s tree with the state file set to `blob`, committed through a private index."""
        with tempfile.TemporaryDirectory(prefix="pinops-index-") as folder:
            index = {"GIT_INDEX_FILE": str(Path(folder) / "index")}
            repo.git.read_tree(parent or "--empty", env=index)
            repo.git.update_index("--add", "--cacheinfo", f"100644,{blob},{rel}", env=index)
            tree = str(repo.git.write_tree(env=index))
        parents = ["-p", parent] if parent else []
        return str(repo.git.commit_tree(tree, *parents, "-m", message, env=env))

    def _move(self, repo: git.Repo, commit: str, start: str | None, blob: str, rel: str) -> None:
        """Point the local branch at the new state commit, as far as the checkout allows."""
        ref = f"refs/heads/{self.branch}"
        if self.state_branch:
            repo.git.update_ref(ref, commit)
            return
        # The index takes the new state, so that the checkout matches the commit that holds it.
        repo.git.update_index("--add", "--cacheinfo", f"100644,{blob},{rel}")
        head = repo.head.commit.hexsha
        if start == head:
            repo.git.update_ref(ref, commit, head)
        # Otherwise the checkout is behind origin: it follows once the push is accepted.

    def _push(self, repo: git.Repo, commit: str) -> bool:
        """Push without force: True when accepted, False when rejected because the branch moved."""
        try:
            repo.git.push("--porcelain", REMOTE, f"{commit}:refs/heads/{self.branch}")
        except git.GitCommandError as exc:
            text = f"{exc.stdout}\n{exc.stderr}"
            if any(sign in text for sign in _MOVED):
                return False
            raise StateError(
                f"pushing the state to {REMOTE}/{self.branch} failed: {first_line(exc)}",
                hint="check that the token may push to this branch (contents: write, branch rules)",
            ) from None
        return True

    def _settle(self, repo: git.Repo, commit: str) -> None:
        """After a push: the remote-tracking ref, and a checkout that was behind, catch up."""
        repo.git.update_ref(f"refs/remotes/{REMOTE}/{self.branch}", commit)
        if self.state_branch or repo.head.commit.hexsha == commit:
            return
        try:
            repo.git.reset("--keep", commit)
        except git.GitCommandError as exc:
            log.warning("pushed %s, but the work tree could not follow: %s", commit, exc)


def _identify(data: bytes, source: str) -> tuple[str, int]:
    try:
        parsed: Any = json.loads(data)
        return str(parsed.get("lineage", "")), int(parsed.get("serial", 0))
    except (ValueError, AttributeError, TypeError):
        raise StateError(f"{source} is not a pinops state file") from None
