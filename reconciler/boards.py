"""Board names to ids, per account, from the map cached in state.

Plans need no credentials: a change carries the ids of its board and section from the cached map
(`ids`), and shows boards by name, so a pull request is planned with no network (from a fork too).
A name not in the cache yet is resolved at apply, in one step before anything is published
(`resolve`): it asks the provider only for accounts whose map lacks a name, returns the plan with
the ids and the refreshed maps (which apply writes to the state), and stops on an unknown name.
An account whose provider cannot be asked (a refused token, an outage) stops nothing else: its
changes that lack an id fail at apply, and the other accounts publish.
A section is cached as "Board/Section".
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from reconciler.errors import PlanError, ProviderError
from reconciler.providers.base import Provider

if TYPE_CHECKING:
    from reconciler.changes import Change, Plan
    from reconciler.targets import Target


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


def _id(maps: Mapping[str, Mapping[str, str]], account: str, name: str) -> str | None:
    """The id of a board (or "Board/Section"); a name that is already an id is its own id."""
    leaf = name.rsplit("/", 1)[-1]
    return leaf if leaf.isdigit() else maps.get(account, {}).get(name)


def ids(target: Target, maps: Mapping[str, Mapping[str, str]]) -> tuple[str | None, str | None]:
    """The ids of the target's board and section (None without one), as far as `maps` know them:
    a board written as its id (by the provider's rule) is its own."""
    board = target.board_id or _id(maps, target.account, target.board)
    section = target.fields.section
    return board, _id(maps, target.account, f"{target.board}/{section}") if section else None


def resolve(
    made: Plan, cached: Mapping[str, dict[str, str]], open_provider: Callable[[str], Provider]
) -> Plan:
    """The plan with every change that publishes holding its ids, the maps refreshed for them as
    its `boards`, and the accounts whose provider could not be asked as its `unread` (why, by
    account). The provider is asked only for accounts whose cached map lacks a name.

    Raises PlanError naming the boards that exist when a name is unknown to the provider, and
    the provider's error when no account of the plan could be asked (nothing would publish).
    """
    refreshed: dict[str, dict[str, str]] = {}
    failed: dict[str, ProviderError] = {}
    for account, wanted in _lacking(made.changes, cached).items():
        try:
            refreshed[account] = _read(account, wanted, open_provider)
        except ProviderError as exc:
            failed[account] = exc
    if failed and failed.keys() >= {c.account for c in made.changes if c.makes}:
        raise next(iter(failed.values()))  # no account would publish: the error, as it was
    if not refreshed and not failed:
        return made  # the plan's ids, from the cache, are complete
    maps = {**cached, **refreshed}
    changes = tuple(placed(change, maps) for change in made.changes)
    unread = {
        account: f"could not read the boards of account '{account}': {exc}"
        for account, exc in failed.items()
    }
    return replace(made, changes=changes, boards=refreshed, unread=unread)


def placed(change: Change, maps: Mapping[str, Mapping[str, str]]) -> Change:
    """The change with the ids of its board and section, when it publishes."""
    if change.target is None or not change.publishes:
        return change
    board, section = ids(change.target, maps)
    if (board, section) == (change.board_id, change.section_id):
        return change  # placed already, as resolve finds most changes the plan placed
    return replace(change, board_id=board, section_id=section)


def refresh(
    targets: Iterable[Target | None],
    cached: Mapping[str, dict[str, str]],
    open_provider: Callable[[str], Provider],
) -> dict[str, dict[str, str]]:
    """The boards of each account whose cached map lacks a name the targets use, fresh from its
    provider.

    Raises PlanError naming the boards that exist when a name is unknown to the provider.
    """
    return {
        account: _read(account, wanted, open_provider)
        for account, wanted in _needed(targets, cached).items()
    }


def _lacking(
    changes: Iterable[Change], cached: Mapping[str, dict[str, str]]
) -> dict[str, dict[str, Target]]:
    return _needed((c.target for c in changes if c.publishes), cached)


def _needed(
    targets: Iterable[Target | None], cached: Mapping[str, dict[str, str]]
) -> dict[str, dict[str, Target]]:
    """The names (with a target that uses each) of every account whose cached map lacks one."""
    needed: dict[str, dict[str, Target]] = {}
    for target in filter(None, targets):
        for name in names(target):
            if not name.rsplit("/", 1)[-1].isdigit():
                needed.setdefault(target.account, {}).setdefault(name, target)
    return {
        account: wanted
        for account, wanted in needed.items()
        if not all(name in cached.get(account, {}) for name in wanted)
    }


def _read(
    account: str, wanted: dict[str, Target], open_provider: Callable[[str], Provider]
) -> dict[str, str]:
    """The account's boards and sections, name to id, from its provider."""
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
    return fresh
