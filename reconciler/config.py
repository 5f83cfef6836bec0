"""pinops.yaml: where the pins and state live, the accounts that publish, and the safety policy.

Credentials are never read from this file: only from environment variables, by the provider that
needs them; an account may name which variables (`credentials:`, see credentials.py).
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from reconciler import credentials, repofiles, urls
from reconciler.errors import InputError, Location, ValidationFailed

if TYPE_CHECKING:
    from reconciler.yamlsafe import Document

CONFIG_FILE = "pinops.yaml"
# The GitHub Actions environment `pinops init`'s apply workflow runs in.
DEFAULT_ENVIRONMENT = "pinops"

# Where each provider's credentials may be sent: the hosts its own documents name. The repository
# cannot widen this (a pull request could otherwise send the token anywhere); the environment the
# workflow sets can, through ALLOW_HOSTS (comma-separated host names).
PROVIDER_HOSTS = {
    "pinterest": ("api.pinterest.com", "api-sandbox.pinterest.com"),
    "crosspostify": ("v1.api.crosspostify.com",),
    "postpeer": ("api.postpeer.dev",),
    "postproxy": ("api.postproxy.dev",),
    "zernio": ("zernio.com",),
    "relayapi": ("api.relayapi.dev",),
}
ALLOW_HOSTS = "PINOPS_ALLOW_HOSTS"

_PERIOD_SECONDS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}


@dataclass(frozen=True)
class Pace:
    """At most `count` new pins per `period` (second, minute, hour or day)."""

    count: int
    period: str

    @classmethod
    def parse(cls, text: str) -> Pace:
        count, period = text.split("/")
        return cls(int(count), period)

    @property
    def seconds(self) -> float:
        return _PERIOD_SECONDS[self.period]

    @property
    def interval(self) -> float:
        return self.seconds / self.count

    def __str__(self) -> str:
        return f"{self.count}/{self.period}"


@dataclass(frozen=True)
class Account:
    name: str
    provider: str
    boards: tuple[str, ...] = ()
    account_id: str | None = None
    base_url: str | None = None
    pace: Pace | None = None
    # The environment variable of each credential role, when pinops.yaml names them.
    credentials: tuple[tuple[str, str], ...] | None = None
    # The GitHub Actions environment that holds the account's secrets (for the matrix).
    environment: str = DEFAULT_ENVIRONMENT

    @property
    def variables(self) -> dict[str, str]:
        """The variable each credential role reads (the provider's defaults unless named)."""
        named = dict(self.credentials) if self.credentials is not None else None
        return credentials.variables(self.provider, named)


@dataclass(frozen=True)
class Limit:
    """A safety threshold: a count, or a percentage of the managed pins."""

    value: int
    percent: bool

    @classmethod
    def parse(cls, raw: int | str) -> Limit:
        if isinstance(raw, int):
            return cls(raw, False)
        return cls(int(raw.rstrip("%")), True)

    def allows(self, count: int, managed: int) -> bool:
        if self.percent:
            return count * 100 <= self.value * managed
        return count <= self.value

    def __str__(self) -> str:
        return f"{self.value}%" if self.percent else str(self.value)


@dataclass(frozen=True)
class Policy:
    prune: bool = False
    max_deletes: Limit = Limit(25, True)
    max_replaces: Limit = Limit(25, True)
    # What to do when a provider cannot change or delete a published pin: error | republish | ignore
    on_unsupported_change: str = "error"
    # What `apply --reviewed` does when the plan differs from the one reviewed: stop | apply
    on_plan_drift: str = "stop"


@dataclass(frozen=True)
class Config:
    root: Path
    pins_dir: Path
    state_path: Path
    accounts: dict[str, Account]
    media_base_url: str | None = None
    policy: Policy = field(default_factory=Policy)
    # The git branch that holds the state file, when it is not kept on the checked-out branch.
    state_branch: str | None = None
    # Values every pin template can use; folder and file `vars:` override them by name.
    vars: dict[str, Any] = field(default_factory=dict)
    # Advice rules switched off (`advice: {alt-text: off}`); the names are advice.RULES'.
    advice_off: frozenset[str] = frozenset()

    @property
    def secret_variables(self) -> list[str]:
        """The variables the accounts read their secrets from, to be masked in all output."""
        return sorted(
            {
                variable
                for account in self.accounts.values()
                for variable in credentials.secret_variables(account.variables)
            }
        )

    def select(self, names: list[str] | None) -> frozenset[str] | None:
        """The accounts `--account` names (None: all of them); an unknown name is an error."""
        if not names:
            return None
        for name in names:
            if name not in self.accounts:
                close = difflib.get_close_matches(name, list(self.accounts), n=1)
                known = ", ".join(self.accounts)
                raise InputError(
                    f"--account {name}: there is no account '{name}' in {CONFIG_FILE}",
                    hint=(f"did you mean '{close[0]}'? " if close else "")
                    + f"the accounts are: {known}",
                )
        return frozenset(names)

    @property
    def default_account(self) -> str:
        return next(iter(self.accounts))

    def relative(self, path: Path) -> str:
        """A repository path as shown to users: relative to the root, with forward slashes."""
        text = str(path)
        if text.startswith(self._inside):  # the common case, without pathlib parsing both paths
            return text[len(self._inside) :].replace(os.sep, "/")
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    @cached_property
    def _inside(self) -> str:
        """The root with a separator after it: what every path inside the repository starts with."""
        return str(self.root).rstrip(os.sep) + os.sep


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds pinops.yaml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise InputError(
        f"no {CONFIG_FILE} found in {start} or any folder above it",
        hint="run pinops inside a content repository, or pass -C DIR",
    )


def load(root: Path) -> Config:
    # Imported here and in parse: a plan answered from the cache (plananswers.py) finds the root
    # only, and needs no YAML or schema library.
    from reconciler import yamlsafe

    try:
        raw = repofiles.read_bounded(
            root, repofiles.confine(root, root / CONFIG_FILE), yamlsafe.MAX_BYTES
        )
    except repofiles.OutsideRepository as exc:
        raise InputError(
            f"{CONFIG_FILE} is a symlink to {exc.real}, outside the repository",
            location=Location(CONFIG_FILE),
            hint=f"keep {CONFIG_FILE} itself in the repository",
        ) from None
    except repofiles.Unreadable as exc:
        raise InputError(
            f"cannot read {CONFIG_FILE}: {exc.message}", location=Location(CONFIG_FILE)
        ) from None
    return parse(root, raw)


def parse(root: Path, raw: bytes) -> Config:
    """A pinops.yaml's bytes as the configuration of the repository at `root` (for the base's
    own pinops.yaml, read from git, too)."""
    from reconciler import schema, yamlsafe

    document = yamlsafe.load(raw, CONFIG_FILE)
    problems = schema.check(document.data, schema.CONFIG, document=document)
    if problems:
        raise ValidationFailed(problems)
    data = document.data
    accounts = {
        name: Account(
            name=name,
            provider=spec["provider"],
            boards=tuple(spec.get("boards", ())),
            account_id=spec.get("account_id"),
            base_url=spec.get("base_url"),
            pace=Pace.parse(spec["pace"]) if "pace" in spec else None,
            credentials=tuple(spec["credentials"].items()) if "credentials" in spec else None,
            environment=spec.get("environment", DEFAULT_ENVIRONMENT),
        )
        for name, spec in data["accounts"].items()
    }
    for account in accounts.values():
        if account.credentials is not None:
            _check_credentials(account, document)
        if account.base_url:
            _check_host(account, document.location(("accounts", account.name, "base_url")))
    policy_data = data.get("policy", {})
    policy = Policy(
        prune=policy_data.get("prune", False),
        max_deletes=Limit.parse(policy_data.get("max_deletes", "25%")),
        max_replaces=Limit.parse(policy_data.get("max_replaces", "25%")),
        on_unsupported_change=policy_data.get("on_unsupported_change", "error"),
        on_plan_drift=policy_data.get("on_plan_drift", "stop"),
    )
    media_base_url = data.get("media_base_url")
    if media_base_url and not media_base_url.endswith("/"):
        media_base_url += "/"
    paths = {}
    for key, default in (("pins", "pins/"), ("state", "pinops.state.json")):
        value = data.get(key, default)
        where = document.location((key,)) if key in data else Location(CONFIG_FILE)
        if Path(value).is_absolute() or ".." in re.split(r"[\\/]", value):
            raise InputError(
                f"{key} must be a path inside the repository",
                location=where,
                hint="write it relative to pinops.yaml, without '..'",
            )
        paths[key] = root / value
        try:
            repofiles.confine(root, paths[key])
        except (repofiles.OutsideRepository, RuntimeError) as exc:
            target = f"to {exc.real}, " if isinstance(exc, repofiles.OutsideRepository) else ""
            raise InputError(
                f"{key} path {value!r} is a symlink {target}outside the repository",
                location=where,
                hint="keep it a real folder or file inside the repository, not a link",
            ) from None
    return Config(
        root=root,
        pins_dir=paths["pins"],
        state_path=paths["state"],
        accounts=accounts,
        media_base_url=media_base_url,
        policy=policy,
        state_branch=data.get("state_branch"),
        vars=dict(data.get("vars", {})),
        # YAML reads a bare `off` as false; the schema allows only off/false and on/true.
        advice_off=frozenset(
            rule for rule, switch in data.get("advice", {}).items() if switch in ("off", False)
        ),
    )


def _check_credentials(account: Account, document: Document) -> None:
    """Each named role is one the provider reads, from a variable that is not the runner's."""
    roles = credentials.DEFAULTS.get(account.provider, {})
    for role, variable in account.credentials or ():
        where = f"accounts.{account.name}.credentials.{role}"
        location = document.location(("accounts", account.name, "credentials", role), key=True)
        if role not in roles:
            known = ", ".join(roles) or "none: it needs no credentials"
            raise InputError(
                f"{where}: the {account.provider} provider has no credential '{role}'",
                location=location,
                hint=f"its credentials are: {known}",
            )
        if variable.upper().startswith(credentials.RESERVED_PREFIXES):
            raise InputError(
                f"{where} names {variable}, a variable of the runner or of pinops, not a "
                "credential of the account",
                location=location,
                hint="store the account's secret in a variable of its own, e.g. "
                f"{account.name.upper().replace('-', '_').replace('.', '_')}_"
                f"{roles[role].upper()}",
            )


def _check_host(account: Account, location: Location) -> None:
    """Credentials go only to the provider's documented hosts, to this machine, or to a host the
    environment (not the repository) allows."""
    assert account.base_url is not None
    parts = urlsplit(account.base_url)
    host = (parts.hostname or "").rstrip(".").lower()
    allowed = {h.strip().lower() for h in os.environ.get(ALLOW_HOSTS, "").split(",") if h.strip()}
    documented = PROVIDER_HOSTS.get(account.provider, ())
    if urls.loopback(host):
        return
    if host not in documented and host not in allowed:
        known = ", ".join(documented) or "none: it makes no network calls"
        raise InputError(
            f"accounts.{account.name}.base_url sends the {account.provider} credentials to "
            f"{host or 'no host'}, which is not one of the provider's documented hosts ({known})",
            location=location,
            hint=(
                "remove base_url to use the provider's own API; to use another host on purpose, "
                f"allow it where the workflow runs, outside the repository: {ALLOW_HOSTS}={host}"
            ),
        )
    if parts.scheme != "https":
        raise InputError(
            f"accounts.{account.name}.base_url is not https: credentials would travel in clear",
            location=location,
            hint="use https:// (plain http only to this machine, for local emulators)",
        )
