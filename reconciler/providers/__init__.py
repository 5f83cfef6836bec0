"""The provider registry: each provider module exposes CAPABILITIES and
open_provider(account, connection).

Modules are imported only when their provider is used, so a plan imports no HTTP stack.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

from reconciler.config import Account
from reconciler.errors import InputError
from reconciler.providers.base import OWN_CONNECTION, Capabilities, Connection, Provider

MODULES = {
    "sandbox": "reconciler.providers.sandbox",
    "pinterest": "reconciler.providers.pinterest",
    "postpeer": "reconciler.providers.postpeer",
    "postproxy": "reconciler.providers.postproxy",
    "crosspostify": "reconciler.providers.crosspostify",
    "zernio": "reconciler.providers.zernio",
    "relayapi": "reconciler.providers.relayapi",
}


def _module(name: str) -> ModuleType:
    if name not in MODULES:
        raise InputError(
            f"the provider '{name}' is not available in this version of pinops",
            hint=f"use one of: {', '.join(MODULES)}",
        )
    return importlib.import_module(MODULES[name])


@cache  # asked for every pin: importlib's lookup each time showed in profiles
def capabilities(name: str) -> Capabilities:
    caps: Capabilities = _module(name).CAPABILITIES
    return caps


def open_provider(account: Account, connection: Connection = OWN_CONNECTION) -> Provider:
    """The account's provider, reaching its service as `connection` says (retries, timeouts)."""
    provider: Provider = _module(account.provider).open_provider(account, connection)
    return provider
