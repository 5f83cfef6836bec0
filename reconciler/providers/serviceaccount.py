"""A posting service's account: its API key, read from the account's variable and never
printed, named when the service refuses it; and the service's own id of its Pinterest account,
which pinops.yaml gives."""

from __future__ import annotations

from reconciler import credentials, redact
from reconciler.config import CONFIG_FILE, Account
from reconciler.errors import AuthError, InputError, Location, ProviderError
from reconciler.providers.faults import Explain, Failure


def api_key(account: Account, service: str) -> str:
    """The account's API key from its environment variable, registered so that it is never
    printed."""
    variable = account.variables["api_key"]  # the only credential a service has
    value = credentials.read(variable)
    if not value:
        whose = f" (the API key of account '{account.name}')" if account.credentials else ""
        raise AuthError(
            f"{variable} is not set{whose}: publishing through {service} needs its API key",
            hint=f"export {variable} with the key from your {service} dashboard",
        )
    redact.register(value)
    return value


def key_refused(account: Account, service: str, form: str, explain: Explain | None) -> Explain:
    """The service's `explain`, with a refused key (401) naming the variable it came from."""
    variable = account.variables["api_key"]
    notes = [f"the API key of account '{account.name}'"] if account.credentials else []
    notes += [form] if form else []
    hint = f"check {variable}" + (f" ({'; '.join(notes)})" if notes else "")

    def explained(failure: Failure) -> ProviderError | None:
        if failure.status == 401:
            return AuthError(failure.describe(service), hint=hint)
        return explain(failure) if explain else None

    return explained


def account_id_of(account: Account, service: str, what: str) -> str:
    """The service's own id of the Pinterest account, which pinops.yaml must give."""
    if not account.account_id:
        raise InputError(
            f"account '{account.name}' has no account_id: {service} needs {what}",
            location=Location(CONFIG_FILE),
            hint=f"set accounts.{account.name}.account_id in {CONFIG_FILE}",
        )
    return account.account_id
