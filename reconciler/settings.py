"""How pinops.yaml differs from the base's: each setting that alters what apply may do or where it
connects is a change of its own in the plan, and one that loosens a safeguard carries a warning.

Only what shapes an apply is compared (accounts, where they connect, pace, the policy, where pins
and state live); `vars` change pins, which the plan shows pin by pin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from reconciler.config import Account, Config, Limit, Pace


@dataclass(frozen=True)
class Setting:
    """One changed setting: its name in pinops.yaml, the base's value and the new one (None when
    unset), and, when it relaxes a safeguard, how."""

    name: str
    before: str | None
    after: str | None
    relaxes: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "setting": self.name,
            "before": self.before,
            "after": self.after,
            "relaxes": self.relaxes or None,
        }


def _host(url: str | None) -> str:
    return (urlsplit(url).hostname or url) if url else "the provider's own API"


def _looser(before: Limit, after: Limit) -> bool:
    return after.percent != before.percent or after.value > before.value


def _faster(before: Pace | None, after: Pace | None) -> bool:
    if after is None:
        return before is not None
    return before is not None and after.interval < before.interval


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _roles(variables: dict[str, str]) -> str:
    return ", ".join(f"{role}: {variable}" for role, variable in variables.items())


def _account(name: str, before: Account | None, after: Account | None) -> list[Setting]:
    prefix = f"accounts.{name}"
    if before is None and after is not None:
        where = _host(after.base_url)
        return [
            Setting(
                prefix,
                None,
                f"provider {after.provider}",
                f"a new account: apply publishes through {after.provider} ({where})",
            )
        ]
    if after is None and before is not None:
        return [Setting(prefix, f"provider {before.provider}", None)]
    assert before is not None and after is not None
    found: list[Setting] = []
    fields = ("provider", "base_url", "account_id", "boards", "pace", "credentials", "environment")
    for field in fields:
        old, new = getattr(before, field), getattr(after, field)
        if field == "credentials" and old != new:  # shown as the variables read, by role
            old, new = _roles(before.variables), _roles(after.variables)
        if old == new:
            continue
        relaxes = ""
        if field == "provider":
            relaxes = f"publishes through {after.provider} instead of {before.provider}"
        elif field == "base_url":
            relaxes = f"credentials now go to {_host(new)}"
        elif field == "account_id":
            relaxes = "publishes to another account of the service"
        elif field == "credentials":
            relaxes = "reads its credentials from other variables: publishes as their owner"
        elif field == "environment":
            relaxes = "its matrix job takes the secrets of another GitHub environment"
        elif field == "pace" and _faster(old, new):
            relaxes = "publishes faster"
        found.append(Setting(f"{prefix}.{field}", _text(old), _text(new), relaxes))
    return found


_ELSEWHERE = "the state is read from another place"
# Each policy setting: whether a change loosens it, and what that allows.
_POLICY: dict[str, tuple[Callable[[Any, Any], bool], str]] = {
    "prune": (lambda old, new: new and not old, "removing a manifest now deletes its pin"),
    "max_deletes": (_looser, "more deletes pass the safety check"),
    "max_replaces": (_looser, "more replaces pass the safety check"),
    "on_unsupported_change": (
        lambda _old, new: new != "error",
        "edits the provider cannot make are no longer refused",
    ),
    "on_plan_drift": (
        lambda _old, new: new != "stop",
        "later merge runs apply changes that differ from the reviewed plan",
    ),
}


def compare(base: Config, head: Config) -> tuple[Setting, ...]:
    """Each setting of `head` that differs from `base`, in the order pinops.yaml lists them."""
    places = (
        ("pins", base.relative(base.pins_dir), head.relative(head.pins_dir), ""),
        ("state", base.relative(base.state_path), head.relative(head.state_path), _ELSEWHERE),
        ("state_branch", base.state_branch, head.state_branch, _ELSEWHERE),
    )
    found = [Setting(key, old, new, why) for key, old, new, why in places if old != new]
    for name in [*base.accounts, *(n for n in head.accounts if n not in base.accounts)]:
        found += _account(name, base.accounts.get(name), head.accounts.get(name))
    if base.media_base_url != head.media_base_url:
        found.append(Setting("media_base_url", base.media_base_url, head.media_base_url))
    for name, (looser, why) in _POLICY.items():
        before, after = getattr(base.policy, name), getattr(head.policy, name)
        if before != after:
            relaxes = why if looser(before, after) else ""
            found.append(Setting(f"policy.{name}", _text(before), _text(after), relaxes))
    return tuple(found)
