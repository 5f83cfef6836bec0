"""What a failed HTTP exchange means: the `Failure` record hooks see, reading a service's error
body and `Retry-After`, and the classification of a transport error or an error status into the
reconciler.errors exception to raise (the contract is in providers/http.py's docstring).
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from reconciler import redact
from reconciler.errors import (
    AuthError,
    OutcomeUnknown,
    ProviderError,
    ProviderRejected,
    RateLimited,
    TransientError,
)

# Longest provider message kept: an echoed request body (say, base64 media) must not flood output.
_MESSAGE_LIMIT = 300
_NOT_RESENT = "it is not sent again blindly: the next plan looks for its result"


@dataclass(frozen=True)
class Failure:
    """An error response as hooks see it; `message` is already redacted and shortened."""

    method: str
    path: str
    status: int
    code: str | None
    message: str
    retry_after: float | None = None
    request_id: str | None = None
    body: Any = None  # the parsed JSON body, or None

    def describe(self, name: str) -> str:
        code = f" (code {self.code})" if self.code is not None else ""
        rid = f" [request id {self.request_id}]" if self.request_id else ""
        return (
            f"{name} answered {self.status} to {self.method} {self.path}: {self.message}{code}{rid}"
        )


ErrorDetail = Callable[[httpx.Response], tuple[str | None, str]]
Explain = Callable[[Failure], ProviderError | None]


@dataclass(frozen=True)
class Fault:
    """One failed attempt, classified: the error to raise if it is not tried again."""

    error: ProviderError
    reached: bool  # the attempt may have reached the server and been acted on
    retry_after: float | None  # the wait the service asked for, if any
    why: str  # what the log says the retry is after


def generic_error(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) from a JSON error body in any of the usual shapes, else from its text."""
    try:
        body = response.json()
    except ValueError:
        return None, response.text.strip() or response.reason_phrase
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict):
            body = {**body, **inner}
        message = next(
            (
                str(body[key])
                for key in ("message", "error", "detail", "error_description", "title")
                if isinstance(body.get(key), str | int) and body.get(key) != ""
            ),
            response.reason_phrase,
        )
        code = body.get("code")
        return (None if code is None else str(code)), message
    return None, response.reason_phrase


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def read_failure(
    response: httpx.Response,
    method: str,
    path: str,
    error_detail: ErrorDetail,
    request_id: str | None,
) -> Failure:
    """The error response as a `Failure`, its message redacted and shortened."""
    code, message = error_detail(response)
    message = redact.redact(" ".join(message.split()))
    if len(message) > _MESSAGE_LIMIT:
        message = message[:_MESSAGE_LIMIT] + "…"
    try:
        body = response.json()
    except ValueError:
        body = None
    return Failure(
        method=method,
        path=path,
        status=response.status_code,
        code=code,
        message=message,
        retry_after=retry_after(response.headers.get("retry-after")),
        request_id=request_id,
        body=body,
    )


def status_fault(failure: Failure, name: str, safe: bool, explain: Explain | None) -> Fault:
    """An error status: the adapter's `explain` first, else the default mapping by status."""
    error = (explain and explain(failure)) or _by_status(failure, name, safe)
    return Fault(error, failure.status >= 500, failure.retry_after, failure.describe(name))


def _by_status(failure: Failure, name: str, safe: bool) -> ProviderError:
    text = failure.describe(name)
    status = failure.status
    if status == 401:
        return AuthError(text, hint="the credentials were rejected: renew them")
    if status == 429:
        wait = failure.retry_after
        return RateLimited(
            text,
            retry_after=wait,
            hint=f"retry after {wait:g}s" if wait is not None else "slow down and retry",
        )
    if status >= 500:
        if not safe:
            return OutcomeUnknown(text, hint=_NOT_RESENT)
        return TransientError(text, hint="the service failed; try again later")
    if status == 403:
        return ProviderRejected(text, hint="check the account's access and scopes")
    return ProviderRejected(text)


# Failures that prove the request never left this machine.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def transport_fault(exc: httpx.HTTPError, name: str, method: str, path: str, safe: bool) -> Fault:
    """A request that got no answer: never sent, timed out, reset, or not sendable at all."""
    error = _by_transport(exc, name, method, path, safe)
    return Fault(error, not isinstance(exc, _NOT_SENT), None, str(error))


def _by_transport(
    exc: httpx.HTTPError, name: str, method: str, path: str, safe: bool
) -> ProviderError:
    reason = redact.redact(str(exc) or type(exc).__name__)
    if isinstance(exc, _NOT_SENT):
        return TransientError(
            f"could not reach {name} for {method} {path}: {reason}",
            hint="check the network and the account's base_url",
        )
    if isinstance(exc, httpx.TransportError) and not isinstance(
        exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError | httpx.ProxyError
    ):
        what = "timed out" if isinstance(exc, httpx.TimeoutException) else "lost its answer"
        if not safe:
            return OutcomeUnknown(
                f"{method} {path} to {name} {what} ({reason}); it may have been acted on",
                hint=_NOT_RESENT,
            )
        return TransientError(f"{method} {path} to {name} {what}: {reason}")
    return ProviderError(
        f"cannot send {method} {path} to {name}: {reason}",
        hint="check the account's base_url in pinops.yaml",
    )


def settled(error: ProviderError, method: str, reached: bool) -> ProviderError:
    """A keyed POST whose retries ran out after one of them may have reached the server is of
    unknown outcome, not a failure: treating it as "nothing happened" would drop its intent."""
    if method == "POST" and reached and isinstance(error, TransientError):
        return OutcomeUnknown(
            f"{error.message}; an earlier attempt may have been acted on",
            hint="it is not sent again blindly: the next plan replays or looks for it",
        )
    return error
