"""RelayAPI's idempotency receipts: what its answer to a create sent under a key means (the post,
a replay from the receipt, a key still in progress, or a key that cannot tell what it did), which
earlier post such a key made, and the error body its answers come in."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from reconciler.errors import OutcomeUnknown, ProviderRejected
from reconciler.providers import http, services
from reconciler.providers.http import json_body
from reconciler.providers.posting import Post

NAME = services.RELAYAPI.name
IN_PROGRESS_TRIES = 5
# The key's first use failed inside RelayAPI, or sent another body: only the listing can tell.
UNTOLD = ("IDEMPOTENCY_OUTCOME_UNKNOWN", "IDEMPOTENCY_KEY_REUSED")


def error_detail(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) of `{"error": {code, message, details: {issues}}}`, with where it is."""
    code, message = http.generic_error(response)
    try:
        issues = response.json()["error"]["details"]["issues"]
        where = [
            i["path"] if i.get("message") == message else f"{i['path']}: {i['message']}"
            for i in issues
        ]
    except (ValueError, KeyError, TypeError):
        return code, message
    return code, f"{message} ({'; '.join(where)})" if where else message


def answered(send: Callable[[], httpx.Response]) -> tuple[Post, bool] | None:
    """The create's post and whether it was answered from a receipt; None when the key cannot
    tell (UNTOLD). `send` posts the create under its key, a 409 allowed."""
    for _ in range(IN_PROGRESS_TRIES):
        response = send()
        if response.status_code != 409:
            replayed = response.headers.get("idempotency-replayed") == "true"
            return json_body(response), replayed
        code, message = error_detail(response)
        if code in UNTOLD:
            return None
        if code != "IDEMPOTENCY_IN_PROGRESS":
            raise ProviderRejected(f"{NAME} answered 409 to POST /v1/posts: {message}")
        wait = http.retry_after(response.headers.get("retry-after"))
        time.sleep(2.0 if wait is None else wait)
    raise OutcomeUnknown(
        f"{NAME} is still working on the create sent under this key",
        hint="the next plan replays it under the same key",
    )


def earlier(matching: list[Post], body: Post) -> Post | None:
    """The post an earlier use of the key made: among the posts `matching` the pin, the one
    with the create's media URLs; None when there is none."""
    sent_media = [item["url"] for item in body["media"]]
    found = [p for p in matching if [m.get("url") for m in p.get("media") or []] == sent_media]
    if len(found) > 1:
        ids = ", ".join(post["id"] for post in found)
        raise OutcomeUnknown(
            f"{NAME} cannot tell which post an earlier attempt made: {ids} match the pin",
            hint="settle it with `pinops state resolve`",
        )
    return found[0] if found else None
