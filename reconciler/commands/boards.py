"""pinops boards: each account's boards and sections with their ids, as its provider lists them."""

from __future__ import annotations

from typing import Any

from reconciler import report
from reconciler.logline import escape
from reconciler.workspace import Workspace


def listing(workspace: Workspace, *, as_json: bool) -> str:
    found: dict[str, list[dict[str, Any]]] = {
        account: [
            {"id": b.id, "name": b.name, "sections": b.sections}
            for b in workspace.provider(account).boards()
        ]
        for account in workspace.config.accounts
    }
    if as_json:
        return report.json_text(found)
    lines = []
    for account, listed in found.items():
        lines.append(f"{account} ({workspace.config.accounts[account].provider}):")
        for board in listed:
            lines.append(escape(f"  {board['id']:>20}  {board['name']}"))
            for section, section_id in board["sections"].items():
                lines.append(escape(f"  {section_id:>20}    / {section}"))
    return "".join(line + "\n" for line in lines)
