"""Board names to ids, per account, from the map cached in state.

Plans need no ids: they show boards by name, so a pull request is planned with no network and no
credentials (from a fork too). Apply resolves the names it is about to use, asking the provider
only for names missing from the cache, and an unknown name stops it before anything is published.
A section is cached as "Board/Section".
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from reconciler.errors import PlanError
from reconciler.providers.base import Provider
from reconciler.state import State

if TYPE_CHECKING:
    from reconciler.desired import Target


def unknown_board(name: str, account: str, existing: Iterable[str]) -> tuple[str, str]:
    """The message and hint for a board name that the account does not have."""
    boards = sorted(existing)
    close = difflib.get_close_matches(name, boards, n=1, cutoff=0.6)
    there = f"boards there: {', '.join(boards)}" if boards else "it has no boards"
    hint = f"did you mean '{close[0]}'? {there}" if close else there
    return f"board '{name}' does not exist in account '{account}'", hint


def names(target: Target) -> list[str]:
    """The cache keys a target needs: its board unless written as its id, and its section if it
    has one."""
    section = target.fields.section
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
            message, hint = unknown_board(
                unknown[0], account, (name for name in fresh if "/" not in name)
            )
            raise PlanError(
                f"{message} (pin '{target.pin}'); nothing was published",
                location=target.board_location or target.location,
                hint=hint,
            )
        state.boards[account] = fresh
        refreshed[account] = fresh
    return refreshed
