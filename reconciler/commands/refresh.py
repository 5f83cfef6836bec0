"""pinops refresh: every published pin read back, and what was changed outside pinops recorded."""

from __future__ import annotations

from reconciler.workspace import Planned, Workspace


def run(workspace: Workspace) -> Planned:
    return workspace.refresh()


def closing(workspace: Workspace, planned: Planned) -> str:
    """What the drift found means; the drift itself is in the plan."""
    if not planned.plan.drift:
        return "No drift: every published pin is as pinops left it."
    return (
        f"\nRecorded in {workspace.store.display}: the next plan and apply restore it "
        "(or declare what was changed, to keep it)."
    )
