"""Pinterest OAuth: the access token from the environment, and refreshing it when it is rejected.

PINTEREST_ACCESS_TOKEN is sent as a Bearer token. When Pinterest rejects it (401), or when it is
not set at all, and PINTEREST_REFRESH_TOKEN, PINTEREST_CLIENT_ID and PINTEREST_CLIENT_SECRET are
set, a new one is fetched once per run with POST /oauth/token (form-encoded, HTTP Basic auth with
the app's id and secret) and the run carries on.

Pinterest's continuous refresh tokens rotate: every refresh answers with a new refresh token and
the old one must not be used again. When PINTEREST_TOKEN_FILE names a file, the new tokens are
written there (mode 0600, as KEY=value lines) so that CI can store them back as secrets; without
it, a warning says the stored refresh token is now stale.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler import credentials, redact
from reconciler.errors import AuthError, ProviderError
from reconciler.providers.http import HttpClient, json_body

DEFAULT_NAMES = credentials.DEFAULTS["pinterest"]
_REFRESH_ROLES = ("refresh_token", "client_id", "client_secret")
TOKEN_PATH = "/oauth/token"

log = logging.getLogger(__name__)


@dataclass
class Credentials:
    access_token: str | None = None
    refresh_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    token_file: Path | None = None

    # The variable each role came from, for messages and the token file.
    names: Mapping[str, str] = field(default_factory=lambda: DEFAULT_NAMES)
    # The account in pinops.yaml, named in errors when it chose its own variables.
    account: str = ""

    @classmethod
    def from_environment(
        cls, names: Mapping[str, str] = DEFAULT_NAMES, account: str = ""
    ) -> Credentials:
        """The credentials from the variables `names` gives by role; a role it leaves out is
        not read at all."""
        token_file = credentials.read(names.get("token_file"))
        found = cls(
            access_token=credentials.read(names.get("access_token")),
            refresh_token=credentials.read(names.get("refresh_token")),
            client_id=credentials.read(names.get("client_id")),
            client_secret=credentials.read(names.get("client_secret")),
            token_file=Path(token_file) if token_file else None,
            names=names,
            account=account,
        )
        redact.register(found.access_token, found.refresh_token)
        redact.register(found.client_secret)
        return found

    def variable(self, role: str) -> str:
        """The variable a role is read from, as messages name it."""
        return self.names.get(role) or f"(no variable: accounts.{self.account}.credentials.{role})"

    def token_hint(self) -> str:
        """What to do about a missing or refused access token, naming the account's variables."""
        refresh = [self.names.get(role) for role in _REFRESH_ROLES]
        how = (
            f"set {', '.join(filter(None, refresh))}"
            if all(refresh)
            else f"name {', '.join(_REFRESH_ROLES)} in accounts.{self.account}.credentials"
        )
        return (
            f"set {self.variable('access_token')} to a current token of your Pinterest app "
            f"(scopes boards:read, boards:write, pins:read, pins:write), or {how} so that pinops "
            "can refresh it; sandbox tokens work only with base_url "
            "https://api-sandbox.pinterest.com/v5"
        )

    def refresh_hint(self) -> str:
        """What to do about a refused refresh, naming the account's variables."""
        return (
            "the refresh token or the app's id and secret were refused: refresh tokens expire "
            "after 60 days unused and change on every refresh; authorize the app again and "
            f"update {self.variable('refresh_token')} (and {self.variable('access_token')})"
        )

    @property
    def can_refresh(self) -> bool:
        return bool(self.refresh_token and self.client_id and self.client_secret)


class OAuth:
    """The Authorization header for HttpClient, and its `on_unauthorized` hook."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.refreshed = False
        self._http: HttpClient | None = None

    def attach(self, http: HttpClient) -> None:
        """The client that refreshes go through (the one this object authorizes)."""
        self._http = http

    def header(self) -> dict[str, str]:
        if self.credentials.access_token is None:
            if not self.credentials.can_refresh or self.refreshed:
                raise self._unset()
            self.refresh()
        return {"Authorization": f"Bearer {self.credentials.access_token}"}

    def renew(self) -> bool:
        """After a 401: refresh once per run when refresh credentials are set."""
        if self.refreshed or not self.credentials.can_refresh:
            return False
        self.refresh()
        return True

    def refresh(self) -> None:
        """Trade the refresh token for a new access token (and, rotated, a new refresh token)."""
        assert self._http is not None, "attach() the HTTP client first"
        credentials = self.credentials
        self.refreshed = True
        pair = f"{credentials.client_id}:{credentials.client_secret}".encode()
        basic = base64.b64encode(pair).decode("ascii")
        redact.register(basic)
        response = self._http.request(
            "POST",
            TOKEN_PATH,
            data={"grant_type": "refresh_token", "refresh_token": credentials.refresh_token},
            headers={"Authorization": f"Basic {basic}"},
            auth=False,
            idempotent=True,
            paced=False,
        )
        body = json_body(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ProviderError(
                "Pinterest's answer to the token refresh holds no access_token",
                hint="check the account's base_url in pinops.yaml",
            )
        redact.register(token)
        credentials.access_token = token
        rotated = body.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != credentials.refresh_token:
            redact.register(rotated)
            credentials.refresh_token = rotated
        log.info("refreshed the Pinterest access token")
        self._keep(rotated_refresh=credentials.refresh_token if rotated else None)

    def _keep(self, rotated_refresh: str | None) -> None:
        path = self.credentials.token_file
        if path is None:
            if rotated_refresh:
                log.warning(
                    "Pinterest rotated the refresh token: the one in %s will not work again. "
                    "Set %s to save the new tokens (see the docs: Providers, Pinterest, "
                    "'Refresh tokens in CI').",
                    self.credentials.variable("refresh_token"),
                    self.credentials.variable("token_file"),
                )
            return
        credentials = self.credentials
        lines = [f"{credentials.variable('access_token')}={credentials.access_token}"]
        if credentials.refresh_token:
            lines.append(f"{credentials.variable('refresh_token')}={credentials.refresh_token}")
        temp = path.with_name(path.name + ".tmp")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write("\n".join(lines) + "\n")
                out.flush()
                os.fsync(out.fileno())
            temp.replace(path)
        except OSError as exc:
            raise ProviderError(
                f"cannot save the refreshed Pinterest tokens to {path}: {exc.strerror}",
                hint=f"point {self.credentials.variable('token_file')} at a writable file",
            ) from None

    def _unset(self) -> AuthError:
        """No access token and no way to refresh one: which variables to set, by name."""
        credentials = self.credentials
        values = {
            "refresh_token": credentials.refresh_token,
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
        }
        missing = [credentials.variable(role) for role in _REFRESH_ROLES if not values[role]]
        unset = f"{credentials.variable('access_token')} is not set"
        if credentials.names == DEFAULT_NAMES:
            hint = credentials.token_hint()
        else:
            unset += f" (the access token of account '{credentials.account}')"
            hint = (
                f"set {credentials.variable('access_token')} to a current token of the account's "
                "Pinterest user, or the refresh variables in "
                f"accounts.{credentials.account}.credentials so that pinops can refresh it"
            )
        if 0 < len(missing) < len(_REFRESH_ROLES):
            hint += f" ({', '.join(missing)} not set)"
        return AuthError(unset, hint=hint)
