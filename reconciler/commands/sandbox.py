"""pinops sandbox: the boards and pins of the local sandbox accounts."""

from __future__ import annotations

import json
from typing import Any

from reconciler.errors import InputError
from reconciler.providers.sandbox import SandboxProvider
from reconciler.workspace import Workspace


def listing(workspace: Workspace, *, as_json: bool) -> str:
    # Only sandbox accounts are opened: another provider may want credentials.
    accounts = {
        name: provider
        for name in workspace.config.accounts
        if workspace.provider_name(name) == "sandbox"
        and isinstance(provider := workspace.provider(name), SandboxProvider)
    }
    if not accounts:
        raise InputError(
            "no account in pinops.yaml uses the sandbox provider",
            hint="`pinops boards` lists the boards of the other providers",
        )
    found: dict[str, dict[str, Any]] = {
        name: {"database": workspace.config.relative(p.path), "boards": p.listing()}
        for name, p in accounts.items()
    }
    if as_json:
        return json.dumps(found, indent=2, ensure_ascii=False) + "\n"
    lines = []
    for name, account in found.items():
        count = sum(len(board["pins"]) for board in account["boards"])
        lines.append(f"{name}: {count} pins in {account['database']}")
        for board in account["boards"]:
            lines.append(f"  {board['name'] or '(not declared)'} (board {board['id']})")
            for pin in board["pins"]:
                link = f"  {pin['link']}" if pin["link"] else ""
                lines.append(f"    {pin['id']}  {pin['title'] or '(no title)'}{link}")
    return "".join(line + "\n" for line in lines)
