"""What the posting-service adapters share: their API key, media as public URLs, the account id
they publish to, and following a post until the service has published it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

from reconciler import credentials, redact
from reconciler.config import CONFIG_FILE, Account, Config
from reconciler.errors import AuthError, InputError, Location, ProviderError, ProviderRejected
from reconciler.providers.base import Media, Published
from reconciler.providers.http import HttpClient

# How long a create waits for the service to publish before it records the post as pending
# (later plans follow it), and the first pause between status reads (doubled up to POLL_CAP).
PUBLISH_WAIT = 10.0
POLL_INTERVAL = 0.25
POLL_CAP = 2.0


class PostingService:
    """The part every posting-service adapter has alike: its client, the account it publishes
    to, and how long a create follows a new post before recording it as pending."""

    def __init__(
        self,
        client: HttpClient,
        config: Config,
        account_id: str,
        *,
        publish_wait: float = PUBLISH_WAIT,
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        self.client = client
        self.config = config
        self.account_id = account_id
        self.publish_wait = publish_wait
        self.poll_interval = poll_interval

    def close(self) -> None:
        self.client.close()


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


def account_id(account: Account, service: str, what: str) -> str:
    """The service's own id of the Pinterest account, which pinops.yaml must give."""
    if not account.account_id:
        raise InputError(
            f"account '{account.name}' has no account_id: {service} needs {what}",
            location=Location(CONFIG_FILE),
            hint=f"set accounts.{account.name}.account_id in {CONFIG_FILE}",
        )
    return account.account_id


def public_url(media: Media, config: Config) -> str | None:
    """Where a service can fetch `media`: its own https URL, or its repository path under
    media_base_url; None when the file must be uploaded instead."""
    if media.url:
        return media.url
    if config.media_base_url and media.path is not None:
        return config.media_base_url + quote(config.relative(media.path))
    return None


def iso_utc(moment: datetime) -> str:
    """A UTC time as ISO 8601 with a Z, e.g. 2026-12-01T14:00:00Z."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def wait_for_publish(
    follow: Callable[[], Published], post_id: str, patience: float, interval: float
) -> Published:
    """Read a new post's status until it is no longer pending, for at most `patience` seconds.

    The post exists already, so a failure to read its status is no failure of the create: the
    post is reported pending, and later plans follow it.
    """
    deadline = time.monotonic() + patience
    while True:
        try:
            published = follow()
        except ProviderError:
            return Published(pin_id=None, post_id=post_id, status="pending")
        if published.status != "pending" or time.monotonic() + interval > deadline:
            return published
        time.sleep(interval)
        interval = min(interval * 2, POLL_CAP)


def settle(
    published: Published,
    follow: Callable[[str], Published],
    service: str,
    patience: float,
    interval: float,
) -> Published:
    """A create's outcome: followed for a while if still pending (see wait_for_publish), and a
    publish that failed raised with the service's reason."""
    post_id = published.post_id
    if published.status == "pending" and post_id:
        published = wait_for_publish(lambda: follow(post_id), post_id, patience, interval)
    if published.status == "failed":
        raise ProviderRejected(
            f"{service} could not publish the pin: {published.reason}",
            hint=f"see post {published.post_id} in {service}'s dashboard",
        )
    return published
