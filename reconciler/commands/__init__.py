"""Each command's use case, one module a command: what it does with a Workspace, returned as data
(a typed result, or the text to print) and never printed. cli.py parses, calls these and prints;
ghreporter.py shows the results in a GitHub Actions job.

`import` is in state.py with the other deliberate edits of the state; `schema` is
schema.schema_text. Beside the commands: failure.py (what a failed command still says),
remembered.py (plan's answer kept across runs), and `prepare` below (what runs before any command
that opens the repository).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.workspace import Workspace

# The commands that act on the configuration and manifests alone, never on the state.
_STATELESS = ("validate", "boards", "sandbox", "accounts")


def prepare(workspace: Workspace, command: str, *, base: str | None, commit: bool) -> str | None:
    """Before `command` runs: an apply that merges from `base` refuses a state changed since
    (before the state branch is even read), and the commands that read the state get the newest
    git holds. What was pulled, to tell the user; None when nothing was."""
    if command == "apply" and base:
        workspace.refuse_state_edits(base)
    if command in _STATELESS:
        return None
    return workspace.pull_state(for_commit=command == "apply" and commit)
