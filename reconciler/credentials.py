"""Where each account's credentials come from: the environment variables, by role.

An account without `credentials:` in pinops.yaml reads its provider's default variables. An
account with it reads exactly the variables it names and no default, so that two accounts of one
provider never share (or silently fall back to) one another's secrets.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

# Each provider's roles and their default variables.
DEFAULTS: dict[str, dict[str, str]] = {
    "sandbox": {},
    "pinterest": {
        "access_token": "PINTEREST_ACCESS_TOKEN",
        "refresh_token": "PINTEREST_REFRESH_TOKEN",
        "client_id": "PINTEREST_CLIENT_ID",
        "client_secret": "PINTEREST_CLIENT_SECRET",
        "token_file": "PINTEREST_TOKEN_FILE",
    },
    "crosspostify": {"api_key": "CROSSPOSTIFY_API_KEY"},
    "postpeer": {"api_key": "POSTPEER_API_KEY"},
    "postproxy": {"api_key": "POSTPROXY_API_KEY"},
    "zernio": {"api_key": "ZERNIO_API_KEY"},
    "relayapi": {"api_key": "RELAYAPI_API_KEY"},
}

# The roles whose values are secret (an app's client id and a file path are not).
SECRET_ROLES = frozenset({"access_token", "refresh_token", "client_secret", "api_key"})

# Variables a pinops.yaml may not name: the runner's and GitHub's own (a pull request could
# otherwise send the workflow's GitHub token to a provider's host), and pinops' own settings.
RESERVED_PREFIXES = ("GITHUB_", "GH_", "ACTIONS_", "RUNNER_", "PINOPS_")


def variables(provider: str, named: Mapping[str, str] | None) -> dict[str, str]:
    """The variable each role of an account reads: the ones it names, or the defaults."""
    return dict(named) if named is not None else dict(DEFAULTS.get(provider, {}))


def secret_variables(roles: Mapping[str, str]) -> list[str]:
    return [variable for role, variable in roles.items() if role in SECRET_ROLES]


def default_secret_variables() -> list[str]:
    return [v for roles in DEFAULTS.values() for v in secret_variables(roles)]


def read(variable: str | None) -> str | None:
    """A variable's value, blank counting as unset."""
    if variable is None:
        return None
    return os.environ.get(variable, "").strip() or None


def values(names: Iterable[str]) -> list[str]:
    return [value for value in map(read, names) if value]
