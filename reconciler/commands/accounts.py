"""pinops accounts: the accounts of pinops.yaml, for people or (one JSON line) a GitHub Actions
matrix."""

from __future__ import annotations

import json

from reconciler import credentials
from reconciler.config import Account, Config


def listing(config: Config, *, as_json: bool) -> str:
    accounts = config.accounts.values()
    if as_json:
        # One line: `echo "accounts=$(pinops accounts --json)" >> "$GITHUB_OUTPUT"` holds it.
        found = [
            {"name": a.name, "provider": a.provider, "environment": a.environment} for a in accounts
        ]
        return json.dumps(found, ensure_ascii=False, separators=(",", ":")) + "\n"
    return "".join(f"{a.name}: {a.provider}, {_secrets(a)}\n" for a in accounts)


def _secrets(account: Account) -> str:
    """Where the account's secrets are kept, for an account that has any."""
    if not credentials.secret_variables(account.variables):
        return "no secrets"
    return f"secrets in environment {account.environment}"
