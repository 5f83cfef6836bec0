"""Board names to ids, per account, from the map cached in state.

The provider is asked only when a name is missing from the cache, so plans of an unchanged set of
boards need no network and no credentials (pull requests from forks still get a full plan).
A section is cached as "Board/Section".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from reconciler.desired import Target
from reconciler.errors import PlanError
from reconciler.providers.base import Provider
from reconciler.state import State


def names(target: Target) -> list[str]:
    """The cache keys a target needs: its board unless written as its id, and its section if it
    has one."""
    section = target.fields.get("section")
    board = [] if target.board_id else [target.board]
    return [*board, f"{target.board}/{section}"] if section else board


def lookup(state: State, account: str, name: str) -> str:
    """The id of a board (or "Board/Section"); a name that is already an id is its own id."""
    leaf = name.rsplit("/", 1)[-1]
    return leaf if leaf.isdigit() else state.boards[account][name]


def board_id(state: State, target: Target) -> str:
    """The id of the target's board: as written, when the provider's rule takes it as an id."""
    return target.board_id or lookup(state, target.account, target.board)


def resolve(
    targets: Iterable[Target], state: State, open_provider: Callable[[str], Provider]
) -> dict[str, dict[str, str]]:
    """Make sure every board the targets use is known; return the refreshed maps by account.

    Raises PlanError naming the boards that exist when a name is unknown to the provider.
    """
    needed: dict[str, dict[str, Target]] = {}
    for target in targets:
        for name in names(target):
            if not name.rsplit("/", 1)[-1].isdigit():
                needed.setdefault(target.account, {}).setdefault(name, target)
    refreshed: dict[str, dict[str, str]] = {}
    for account, wanted in needed.items():
        cached = state.boards.get(account, {})
        if all(name in cached for name in wanted):
            continue
        provider = open_provider(account)
        fresh: dict[str, str] = {}
        for board in provider.boards():
            fresh[board.name] = board.id
            for section, section_id in board.sections.items():
                fresh[f"{board.name}/{section}"] = section_id
        unknown = [name for name in wanted if name not in fresh]
        if unknown:
            target = wanted[unknown[0]]
            existing = sorted(name for name in fresh if "/" not in name)
            raise PlanError(
                f"board '{unknown[0]}' (pin '{target.pin}') does not exist in account '{account}'",
                location=target.location,
                hint=f"boards there: {', '.join(existing) or 'none'}",
            )
        state.boards[account] = fresh
        refreshed[account] = fresh
    return refreshed
