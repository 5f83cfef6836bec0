"""Provider answers, checked against the providers' documents before they are recorded.

A create's answer becomes a state record that every later command trusts, so an id, URL, time or
status that breaks the provider's document is refused before it is written, and so is a remote id
another record already holds. Such an answer may still stand for a pin that was published: it is
raised as OutcomeUnknown, so the create's intent stays and the next plan looks for the pin instead
of posting it again.
"""

from __future__ import annotations

import re
from dataclasses import replace

from reconciler.errors import OutcomeUnknown
from reconciler.providers.base import Published
from reconciler.state import State
from reconciler.timestamps import parse

# Pinterest API v5, Pin.id: "pattern: ^\d+$" (every service reports Pinterest's own pin id).
PIN_ID = re.compile(r"[0-9]{1,64}")
# The services document their post ids as opaque strings (RelayAPI: ^[a-zA-Z0-9_-]+$, ≤ 80;
# Zernio: a 24-hex ObjectId): letters, digits and `_.:-` cover them all, and nothing else is kept.
POST_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
STATUSES = ("published", "scheduled", "pending")
MAX_URL = 2048
# What no URL holds: white space (as str.isspace() has it: \s in a str pattern) or a control.
_UNFIT = re.compile(r"[\s\x00-\x1f]")

_HINT = "the next plan looks for the pin instead of posting it again"


def checked(published: Published, service: str, *, publish_now: bool) -> Published:
    """`published` as it may be recorded, or OutcomeUnknown naming what breaks the document.

    A publish-now create answered `scheduled` has no time to wait for: it is recorded as pending,
    so that later plans follow the post until it is a published pin.
    """
    problems = []
    if published.status not in STATUSES:
        problems.append(f"status {published.status!r} (documented: {', '.join(STATUSES)})")
    if published.pin_id is not None and not PIN_ID.fullmatch(published.pin_id):
        problems.append(f"pin id {published.pin_id!r}, which is not a Pinterest pin id (^\\d+$)")
    if published.post_id is not None and not POST_ID.fullmatch(published.post_id):
        problems.append(f"post id {published.post_id!r}")
    if published.url is not None and not _https(published.url):
        problems.append(f"pin URL {published.url!r}, which is not an https URL")
    if published.published_at is not None and not _moment(published.published_at):
        problems.append(f"publish time {published.published_at!r}, which is not an ISO 8601 time")
    if published.pin_id is None and published.post_id is None:
        problems.append("neither a pin id nor a post id")
    if problems:
        raise OutcomeUnknown(
            f"{service} answered the create with {'; '.join(problems)}: not recorded",
            hint=_HINT,
        )
    if publish_now and published.status == "scheduled":
        return replace(published, status="pending")
    return published


class Held:
    """The remote ids the state's records hold, so that no second record takes one of them."""

    def __init__(self, state: State) -> None:
        self.holders: dict[str, str] = {}
        for key, record in state.pins.items():
            self.add(key, record.pin_id, record.post_id, record.replaced)

    def add(self, key: str, *ids: str | None) -> None:
        for remote in ids:
            if remote is not None:
                self.holders.setdefault(remote, key)

    def check(self, key: str, service: str, pin_id: str | None, post_id: str | None) -> None:
        """Refuse a pin id or post id that another record already holds."""
        for what, remote in (("pin id", pin_id), ("post id", post_id)):
            holder = self.holders.get(remote) if remote is not None else None
            if holder is not None and holder != key:
                raise OutcomeUnknown(
                    f"{service} answered with {what} {remote}, which '{holder}' already holds: "
                    "not recorded twice",
                    hint=_HINT,
                )


def _https(url: str) -> bool:
    return len(url) <= MAX_URL and url.startswith("https://") and not _UNFIT.search(url)


def _moment(text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True
