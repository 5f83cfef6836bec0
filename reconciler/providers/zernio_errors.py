"""Zernio's known failures as actionable errors: a key that is not the account's, a disconnected
account, its per-account caps (read by `explain`, the hook the HTTP client calls on every error
response), and the refusals pinops meets on its own path: its 24-hour duplicate check, and an
unpublish it will not do."""

from __future__ import annotations

from reconciler.errors import AuthError, ProviderError, ProviderRejected, RateLimited, Undeletable
from reconciler.providers import services
from reconciler.providers.faults import Failure

NAME = services.ZERNIO.name
# 403s that stop the run: every pin of the account would fail alike.
FORBIDDEN = {
    None: "the account_id in pinops.yaml is not one of this API key's accounts",
    "ACCOUNT_DISCONNECTED": "reconnect the Pinterest account in Zernio's dashboard",
}
CAPPED = (
    "Zernio publishes at most 25 pins a day and 25 posts an hour per Pinterest account: a later "
    "run publishes the rest; `pace: 25/day` on the account plans for it"
)


def explain(failure: Failure) -> ProviderError | None:
    code = failure.body.get("code") if isinstance(failure.body, dict) else None
    if failure.status == 403 and code in FORBIDDEN:
        return AuthError(failure.describe(NAME), hint=FORBIDDEN[code])
    if failure.status == 429 and (failure.method, failure.path) == ("POST", "/v1/posts"):
        # The per-account caps; a short Retry-After (the per-minute limit) is waited as usual.
        return RateLimited(failure.describe(NAME), retry_after=failure.retry_after, hint=CAPPED)
    return None


def duplicate(existing: str) -> ProviderRejected:
    """The pin refused as the duplicate of another post, `existing` (its id, or "")."""
    return ProviderRejected(
        f"{NAME} refused the pin as a duplicate of post {existing or '?'}: the same "
        "description and media went to this account within 24 hours",
        hint=(
            "Zernio compares only the description and media URLs, and another post has "
            "these: give this pin its own description, or publish it after 24 hours"
        ),
    )


def undeletable(pin_id: str, why: str, url: str) -> Undeletable:
    """An unpublish Zernio refused: the pin stays at `url`, and how to remove it by hand."""
    # Its Pinterest page says pins cannot be deleted through Zernio; its API document's
    # unpublish mostly can. When it cannot, the pin stays: say so, and how to remove it.
    return Undeletable(
        f"{NAME} refused to unpublish pin {pin_id} ({why}): the pin remains on Pinterest at {url}",
        hint="delete it there yourself: open the pin, then ⋯ → Delete Pin",
    )
