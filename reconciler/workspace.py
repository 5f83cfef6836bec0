"""A content repository opened for work: its config, state file, desired pins and providers.

It ties the pure steps together in the order of DESIGN.md's data flow (pull the state, load,
plan, apply, refresh, commit the state); each command's use case (reconciler/commands/) opens
one and calls these steps, and cli.py only parses arguments and prints what comes back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from reconciler import (
    boards,
    config,
    desired,
    drift,
    plan,
    providers,
    recovery,
    schema,
    settings,
)
from reconciler.apply import Applier
from reconciler.cancellation import Cancellation
from reconciler.changes import SYMBOLS, Plan
from reconciler.checkpoint import Checkpoints
from reconciler.errors import InputError, PlanError, SafetyBlocked
from reconciler.outcome import Outcome, Progress
from reconciler.providers.base import Capabilities, Connection, Provider
from reconciler.settings import Setting
from reconciler.state import State
from reconciler.statefile import StateFile
from reconciler.targets import Desired

if TYPE_CHECKING:
    from reconciler import gitstate


@dataclass(frozen=True)
class Planned:
    plan: Plan
    state: State
    desired: Desired


class Workspace:
    def __init__(self, start: Path, *, state_branch: str | None = None) -> None:
        self.config = config.load(config.find_root(start))
        self._branch_override = state_branch
        if state_branch:
            if not re.fullmatch(
                schema.property_pattern(schema.CONFIG, "state_branch"), state_branch
            ):
                raise InputError(
                    f"--state-branch {state_branch!r} is not a valid git branch name",
                    hint="use letters, digits and . _ / - without '..', '//' or a trailing "
                    "'/' or '.lock', e.g. pinops-state",
                )
            self.config = replace(self.config, state_branch=state_branch)
        self.store = StateFile(self.config.state_path, self.config.relative(self.config.state_path))
        self._providers: dict[str, Provider] = {}
        self._git_state: gitstate.StateInGit | None = None
        self._source: str | None = None  # the commit an apply published from

    def pull_state(self, *, for_commit: bool = False) -> str | None:
        """Take the newest state git holds into the state file: always with a state branch, and
        before an apply that commits (the branch on origin may be ahead of this checkout)."""
        if not (self.config.state_branch or for_commit):
            return None
        from reconciler import gitstate  # GitPython: imported only by runs that use git

        self._git_state = gitstate.StateInGit(
            self.config.root, self.config.state_path, self.config.state_branch
        )
        with self.store.lock("pull state"):
            if self.store.journal.exists():
                self.store.read()  # what a journal left behind knows is folded in before comparing
            try:
                if self.config.state_branch:
                    self._drop_checked_out_state()
                return self._git_state.pull()
            except InputError:  # not in git yet, as a folder `pinops init` just wrote
                if for_commit:
                    raise
                self._git_state = None
                return "not in a git repository yet: the state is the local state file"

    def _drop_checked_out_state(self) -> None:
        """With a state branch, a state file that came with the checkout (a pull request may add
        one with a higher serial) is never taken as a newer state: only a local apply makes one."""
        from reconciler import mergebase

        path = self.config.state_path
        try:
            local = path.read_bytes()
        except FileNotFoundError:
            return
        if local == mergebase.committed(self.config.root, path):
            path.unlink()

    def review_base(self, base: str) -> tuple[tuple[Setting, ...], tuple[str, ...]]:
        """How pinops.yaml differs from the base's, and notices about the pull request as a
        whole: a state file it changes (or adds, with a state branch)."""
        from reconciler import mergebase

        found = mergebase.read(
            self.config.root, base, self.config.root / config.CONFIG_FILE, self.config.state_path
        )
        notices: list[str] = []
        changed: tuple[Setting, ...] = ()
        if found.config is None:
            notices.append(f"{config.CONFIG_FILE} is new: every setting is the pull request's")
        else:
            try:
                base_config = config.parse(self.config.root, found.config)
                if self._branch_override:  # the command line's, outside the repository
                    base_config = replace(base_config, state_branch=self._branch_override)
                changed = settings.compare(base_config, self.config)
            except InputError as exc:
                notices.append(f"the base's {config.CONFIG_FILE} cannot be read: {exc}")
        name = self.config.relative(self.config.state_path)
        # As committed: with a state branch, the file in the work tree is the branch's state.
        local = mergebase.committed(self.config.root, self.config.state_path)
        if local != found.state and (local is not None or found.state is not None):
            what = mergebase.record_changes(found.state, local)
            where = (
                f", but the state lives on branch {self.config.state_branch}"
                if self.config.state_branch
                else ""
            )
            notices.append(
                f"this pull request changes the state file {name} ({what}){where}. Only pinops "
                "writes the state: the merge run refuses a state changed by a pull request"
            )
        return changed, tuple(notices)

    def base_policy(self, base: str) -> config.Policy:
        """The policy of pinops.yaml as `base` holds it (this one's, when it holds none)."""
        from reconciler import mergebase

        found = mergebase.read(
            self.config.root, base, self.config.root / config.CONFIG_FILE, self.config.state_path
        )
        if found.config is None:
            return self.config.policy
        return config.parse(self.config.root, found.config).policy

    def refuse_state_edits(self, base: str) -> None:
        """The merge run acts only on a state no commit since `base` has changed."""
        from reconciler import mergebase

        mergebase.refuse_state_edits(
            self.config.root,
            self.config.state_path,
            self.config.relative(self.config.state_path),
            base,
        )

    def commit_state(
        self, outcomes: list[Outcome], accounts: frozenset[str] | None = None
    ) -> gitstate.Pushed | None:
        """Commit the state file with what was published and push it; None if nothing changed.
        A run for some `accounts` merges the other accounts' records from git into it."""
        from reconciler import commitmessage, gitrepo

        if self._git_state is None:
            self.pull_state(for_commit=True)
        assert self._git_state is not None
        published = [(SYMBOLS[o.change.action], o.change.key, o.pin_id) for o in outcomes if o.ok]
        # The commit applied: HEAD may since be a checkpoint of the state.
        source = self._source or gitrepo.head_commit(self.config.root)
        message = commitmessage.commit_message(published, source)
        with self.store.lock("commit state"):
            return self._git_state.push(message, accounts=accounts)

    def _checkpoint(self, data: bytes, message: str, accounts: frozenset[str] | None) -> None:
        if self._git_state is None:
            self.pull_state(for_commit=True)
        assert self._git_state is not None
        self._git_state.push(message, data=data, accounts=accounts)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for provider in self._providers.values():
            provider.close()

    def capabilities(self, provider_name: str) -> Capabilities:
        return providers.capabilities(provider_name)

    def provider_name(self, account: str) -> str:
        return self.config.accounts[account].provider

    def provider(self, account: str) -> Provider:
        if account not in self._providers:
            self._providers[account] = providers.open_provider(
                self.config.accounts[account], Connection(folder=self.config.root)
            )
        return self._providers[account]

    def load_desired(self) -> Desired:
        return desired.load(self.config, self.capabilities)

    def plan(
        self,
        *,
        allow_destroy: bool = False,
        refresh: bool = False,
        now: datetime | None = None,
        base: str | None = None,
        accounts: frozenset[str] | None = None,
    ) -> Planned:
        """Plan from the manifests and state; the provider is asked only what the state cannot
        tell: interrupted creates, and (with `refresh`) drift. Boards are planned by name."""
        moment = now or datetime.now(UTC)
        wanted = self.load_desired()
        state = self.store.read(held=wanted.texts())
        # Only the chosen accounts' providers are asked: a run for some accounts may hold only
        # their credentials.
        asked = state if accounts is None else _of_accounts(state, accounts)
        observed = plan.Observations(
            interrupted=recovery.investigate(asked, self.provider, self.capabilities, moment),
            drift=drift.detect(asked, self.provider) if refresh else {},
        )
        made = plan.make(
            wanted,
            state,
            self.capabilities,
            self.config.accounts,
            self.config.policy,
            moment,
            allow_destroy=allow_destroy,
            observed=observed,
        )
        if accounts is not None:
            made = plan.only(made, accounts)
        if base is not None:
            made = plan.with_review(made, *self.review_base(base))
        return Planned(made, state, wanted)

    def apply(
        self,
        *,
        expected_checksum: str | None = None,
        allow_destroy: bool = False,
        refresh: bool = False,
        progress: Progress | None = None,
        confirm: Callable[[Planned], bool] | None = None,
        base: str | None = None,
        commit: bool = False,
        cancellation: Cancellation | None = None,
        accounts: frozenset[str] | None = None,
        parallel: int,
    ) -> tuple[Planned, list[Outcome]]:
        """Plan under the state lock and execute it; refuse a saved plan that no longer matches.

        With `commit`, the state is checkpointed to git while the apply runs, and a run for some
        `accounts` merges the other accounts' records from git into what it commits; `parallel`:
        how many accounts are applied at once (workers.py)."""
        if commit and self._git_state is None:
            self.pull_state(for_commit=True)
        with self.store.lock("apply"):
            planned = self.plan(
                allow_destroy=allow_destroy, refresh=refresh, base=base, accounts=accounts
            )
            if expected_checksum is not None and planned.plan.checksum != expected_checksum:
                raise PlanError(
                    "the saved plan is stale: the state or the manifests changed since it was made",
                    hint="run pinops plan again and review the new plan",
                )
            if planned.plan.blocked:
                raise_blocked(planned.plan)
            if not planned.plan.has_changes:
                return planned, []
            # Before anything is published: a board name the provider does not know stops here.
            resolved = boards.resolve(planned.plan, planned.state.boards, self.provider)
            if confirm and not confirm(planned):
                return planned, []
            from reconciler import gitrepo

            self._source = gitrepo.head_commit(self.config.root)
            applier = Applier(
                planned.state,
                self.store,
                self.provider,
                self.provider_name,
                commit=self._source,
                checkpoints=Checkpoints(partial(self._checkpoint, accounts=accounts))
                if commit
                else None,
                cancellation=cancellation,
                parallel=parallel,
            )
            return planned, applier.run(resolved, progress)

    def refresh(self) -> Planned:
        """Read every published pin back, plan with what was found, and record it in the state
        (see drift.py), so that later plans act on it without looking again."""
        with self.store.lock("refresh"):
            planned = self.plan(refresh=True)
            if planned.plan.drift:
                state = self.store.read()
                drift.remember(state, planned.plan.drift)
                self.store.write(state)
            return planned


def _of_accounts(state: State, accounts: frozenset[str]) -> State:
    pins = {key: r for key, r in state.pins.items() if r.account in accounts}
    return replace(state, pins=pins)


def raise_blocked(made: Plan) -> None:
    raise SafetyBlocked(
        "the plan is blocked by a safety check: " + "; ".join(made.blocked),
        hint="review the plan; if it is intended, run again with --allow-destroy",
    )
