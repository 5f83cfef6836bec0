"""A content repository opened for work: its config, state file, desired pins and providers.

It ties the pure steps together in the order of DESIGN.md's data flow, so that the CLI only parses
arguments and prints what comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from reconciler import boards, config, desired, plan, providers
from reconciler.apply import Applier, Outcome, Progress
from reconciler.errors import PlanError, SafetyBlocked
from reconciler.providers.base import Capabilities, Provider
from reconciler.state import State, StateFile


@dataclass(frozen=True)
class Planned:
    plan: plan.Plan
    state: State
    desired: desired.Desired
    refreshed_boards: dict[str, dict[str, str]]


class Workspace:
    def __init__(self, start: Path) -> None:
        self.config = config.load(config.find_root(start))
        self.store = StateFile(self.config.state_path, self.config.relative(self.config.state_path))
        self._providers: dict[str, Provider] = {}

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
                self.config, self.config.accounts[account]
            )
        return self._providers[account]

    def load_desired(self) -> desired.Desired:
        return desired.load(self.config, self.capabilities)

    def plan(self, *, allow_destroy: bool = False, now: datetime | None = None) -> Planned:
        wanted = self.load_desired()
        state = self.store.read()
        refreshed = boards.resolve(wanted.targets.values(), state, self.provider)
        made = plan.make(
            wanted.targets,
            state,
            self.capabilities,
            self.provider_name,
            self.config.policy,
            now or datetime.now(UTC),
            allow_destroy,
        )
        return Planned(made, state, wanted, refreshed)

    def apply(
        self,
        *,
        expected_checksum: str | None = None,
        allow_destroy: bool = False,
        progress: Progress | None = None,
        confirm: Callable[[Planned], bool] | None = None,
    ) -> tuple[Planned, list[Outcome]]:
        """Plan under the state lock and execute it; refuse a saved plan that no longer matches."""
        with self.store.lock("apply"):
            planned = self.plan(allow_destroy=allow_destroy)
            if expected_checksum is not None and planned.plan.checksum != expected_checksum:
                raise PlanError(
                    "the saved plan is stale: the state or the manifests changed since it was made",
                    hint="run pinops plan again and review the new plan",
                )
            if planned.plan.blocked:
                raise_blocked(planned.plan)
            if not planned.plan.has_changes or (confirm and not confirm(planned)):
                return planned, []
            applier = Applier(planned.state, self.store, self.provider, self.provider_name)
            return planned, applier.run(planned.plan, planned.refreshed_boards, progress)


def raise_blocked(made: plan.Plan) -> None:
    raise SafetyBlocked(
        "the plan is blocked by a safety check: " + "; ".join(made.blocked),
        hint="review the plan; if it is intended, run again with --allow-destroy",
    )
