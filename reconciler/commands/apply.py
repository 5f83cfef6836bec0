"""pinops apply: the saved or current plan checked against the plan reviewed on the pull request
(policy.on_plan_drift), confirmed, executed, and the state committed back to git."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reconciler import exitcodes, review
from reconciler.cancellation import Cancellation
from reconciler.commands import DEFAULT_PARALLEL
from reconciler.commands.plan import read_checksum
from reconciler.errors import SafetyBlocked
from reconciler.gitstate import Pushed
from reconciler.logline import escape
from reconciler.outcome import Outcome, Progress
from reconciler.review import Difference
from reconciler.workspace import Planned, Workspace


@dataclass(frozen=True)
class Review:
    """How the plan about to be applied differs from the plan reviewed, and the policy for it."""

    differences: list[Difference]
    policy: str  # stop | apply

    @property
    def stops(self) -> bool:
        return self.policy == "stop" and any(d.blocking for d in self.differences)

    def text(self) -> str:
        if not self.differences:
            return "\nThis is the plan reviewed on the pull request."
        lines = [
            f"\nCompared with the plan reviewed on the pull request (on_plan_drift: {self.policy}):"
        ]
        for difference in self.differences:
            mark = "!" if difference.blocking else "·"
            lines.append(f"  {mark} {escape(difference.key)}: {escape(difference.what)}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Applied:
    """What one apply did: the plan, each change's outcome, and the state commit (with --commit)."""

    planned: Planned
    outcomes: list[Outcome]
    pushed: Pushed | None
    committed: bool

    @property
    def commit_line(self) -> str | None:
        """What became of the state commit; None when none was asked for."""
        if not self.committed:
            return None
        pushed = self.pushed
        if pushed is None:
            return "The state did not change: nothing to commit."
        where = f"{pushed.commit[:12]} on {pushed.branch}"
        if not pushed.pushed:
            return f"Committed the state as {where} (no origin remote: not pushed)."
        retried = f" after {pushed.attempts} attempts" if pushed.attempts > 1 else ""
        return f"Committed the state as {where} and pushed it{retried}."

    @property
    def exit_code(self) -> int:
        return exitcodes.ERROR if any(not o.ok for o in self.outcomes) else exitcodes.OK


@dataclass(frozen=True)
class Request:
    """What `pinops apply` is asked (its options of the same names)."""

    planfile: Path | None = None
    yes: bool = False
    refresh: bool = False
    allow_destroy: bool = False
    commit: bool = False
    reviewed: Path | None = None
    base: str | None = None
    on_plan_drift: str | None = None
    accounts: list[str] | None = None
    parallel: int = DEFAULT_PARALLEL  # accounts applied at once


class Run:
    """One `pinops apply`: its saved plan, reviewed plan and policy read before anything else."""

    def __init__(self, workspace: Workspace, request: Request) -> None:
        self.workspace = workspace
        self.request = request
        self.expected = read_checksum(request.planfile) if request.planfile else None
        # A saved plan was reviewed as it is: applying it asks no more.
        self.approved = request.yes or self.expected is not None
        self.accounts = workspace.config.select(request.accounts)
        self.reviewed = review.load(request.reviewed) if request.reviewed is not None else None
        if self.accounts is not None:
            self.reviewed = review.of_accounts(self.reviewed, self.accounts)
        # The merge run follows the policy of the base the pull request merged into: a pull
        # request cannot switch off the check that guards it.
        base = request.base
        base_policy = workspace.base_policy(base) if base else workspace.config.policy
        self.policy = request.on_plan_drift or base_policy.on_plan_drift

    def execute(
        self,
        *,
        show: Callable[[Planned, Review | None], None],
        ask: Callable[[], bool],
        progress: Progress | None = None,
        cancellation: Cancellation | None = None,
    ) -> tuple[Planned, list[Outcome]]:
        """Plan and apply. Before anything is published, `show` gets the plan (and how it differs
        from the plan reviewed); a blocking difference under policy `stop` ends the run there;
        then, unless approved already, `ask` confirms."""
        request = self.request

        def confirm(planned: Planned) -> bool:
            found = None
            if request.reviewed is not None:
                found = Review(review.compare(self.reviewed, planned.plan), self.policy)
            show(planned, found)
            if found is not None and found.stops:
                raise SafetyBlocked(
                    "the plan differs from the plan reviewed on the pull request, and "
                    "policy.on_plan_drift is stop: nothing was applied",
                    hint="review the differences above; apply by hand (workflow_dispatch, or "
                    "pinops apply) or through a new pull request",
                )
            return self.approved or ask()

        return self.workspace.apply(
            expected_checksum=self.expected,
            refresh=request.refresh,
            allow_destroy=request.allow_destroy,
            progress=progress,
            confirm=confirm,
            base=request.base,
            commit=request.commit,
            cancellation=cancellation,
            accounts=self.accounts,
            parallel=request.parallel,
        )

    def commit(self, outcomes: list[Outcome]) -> Pushed | None:
        """With --commit, the state committed and pushed (None: it did not change)."""
        if not self.request.commit:
            return None
        return self.workspace.commit_state(outcomes, self.accounts)

    def applied(self, planned: Planned, outcomes: list[Outcome], pushed: Pushed | None) -> Applied:
        return Applied(planned, outcomes, pushed, committed=self.request.commit)
