"""Each command's use case, one module a command: what it does with a Workspace, returned as data
(a typed result, or the text to print) and never printed. cli.py parses, calls these and prints;
ghreporter.py shows the results in a GitHub Actions job.

`import` is in state.py with the other deliberate edits of the state; `schema` is
schema.schema_text. Beside the commands: failure.py (what a failed command still says),
remembered.py (plan's answer kept across runs), and `prepare` below (what runs before any command
that opens the repository).
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import argparse

    from _typeshed import DataclassInstance

    from reconciler.workspace import Workspace

Request = TypeVar("Request", bound="DataclassInstance")

# What each command reads beyond the configuration and manifests: the one table of it.
# Authoring reads neither the state (nor its branch) nor the accounts' secrets; the stateless
# commands open the accounts but never pull the state; init and schema open no repository.
_AUTHORING = ("render", "new")
_STATELESS = (*_AUTHORING, "validate", "boards", "sandbox", "accounts")
_NO_REPOSITORY = ("init", "schema")
# Accounts applied at once unless asked otherwise (apply --parallel). Each waits on its own
# account's budget, so a worker costs a thread, not another account's speed; more accounts queue
# for a worker (docs/agencies.md).
DEFAULT_PARALLEL = 8


def authoring(command: str) -> bool:
    """Whether `command` works from the manifests alone: no state branch, no secrets to mask."""
    return command in _AUTHORING


def opens_directory(command: str) -> bool:
    """Whether `-C DIR` means anything to `command` (schema prints what pinops holds)."""
    return command != "schema"


def takes_state_branch(command: str) -> bool:
    """Whether `--state-branch` means anything to `command`."""
    return command not in _AUTHORING and command not in _NO_REPOSITORY


def prepare(workspace: Workspace, command: str, *, base: str | None, commit: bool) -> str | None:
    """Before `command` runs: an apply that merges from `base` refuses a state changed since
    (before the state branch is even read), and the commands that read the state get the newest
    git holds. What was pulled, to tell the user; None when nothing was."""
    if command == "apply" and base:
        workspace.refuse_state_edits(base)
    if command in _STATELESS:
        return None
    return workspace.pull_state(for_commit=command == "apply" and commit)


def request(kind: type[Request], args: argparse.Namespace) -> Request:
    """A command's request record (a dataclass), from the parsed options of the same names."""
    given = {f.name: getattr(args, f.name) for f in fields(kind) if hasattr(args, f.name)}
    return kind(**given)
