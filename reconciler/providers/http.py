"""The HTTP client every provider adapter uses: auth, timeouts, error mapping, retries, pacing,
request ids and redaction, in one place.

    client = HttpClient(
        "https://api.example.com/v1",
        name="Example",                          # names the service in every message
        auth=lambda: {"X-API-Key": key},         # called per request: a refreshed token is used
        error_detail=example_error,              # (code, message) from the service's error body
        explain=example_explain,                 # known failures → actionable errors (optional)
        request_id_header="x-request-id",        # logged at debug with every response
        pace=(Pace(100, "minute"),),             # the documented write quota: bursts allowed
        spacing=account.pace.interval,           # and/or seconds between writes (config `pace`)
    )
    pin = client.request("POST", "/pins", json=body).json()     # a create: never re-sent blindly
    client.request("POST", "/posts", json=body, idempotent=True,   # the service dedupes by key
                   headers={"Idempotency-Key": key})
    client.request("DELETE", f"/pins/{pin_id}", allow=(404,))   # 404 returned, not raised
    client.close()

`request(method, path_or_url, ...)` returns the `httpx.Response` of a 2xx (or of a status listed
in `allow`); anything else raises from reconciler.errors:

    AuthError         401 (after `on_unauthorized` had its one chance to refresh credentials)
    ProviderRejected  any other 4xx: the request was refused, nothing happened
    RateLimited       429 once retries are spent, or when the wait asked for exceeds
                      `Retry.max_wait`; carries `retry_after` (seconds)
    TransientError    5xx or a network failure of a safe request once retries are spent, or a
                      connection that never reached the server
    OutcomeUnknown    an unsafe request (a POST that creates) that may have reached the server:
                      a timeout after sending, a reset, a lost response, or a 5xx

Safety: GET, HEAD, OPTIONS, PUT, PATCH and DELETE are safe to send again; POST is not, unless
the adapter passes `idempotent=True` (an idempotency key, an upload to a presigned URL, an OAuth
refresh). Safe requests are retried on 429, 5xx, timeouts and resets; unsafe ones only when the
request provably did not reach the server (connect errors) or was refused with 429. Delays are
`Retry-After` (seconds or an HTTP date) when given, else jittered exponential backoff.

Hooks (all optional):
    error_detail(response) -> (code, message)   read the service's error body
    explain(failure) -> ProviderError | None    an actionable error for a known failure; a
        RateLimited or TransientError it returns is retried like the default, anything else
        (e.g. SpamBlocked) is raised at once
    on_unauthorized() -> bool                   called on the first 401; True when credentials
        were renewed, and the request is sent once more

Pacing is per client, so one client per account: before a write (any method but GET, HEAD and
OPTIONS, unless `paced` says otherwise) the client waits for `spacing` since the last write and
for room in every `pace` window. A window wait longer than `Retry.max_wait` raises RateLimited
instead of blocking the run.

Every value `auth` returns is registered with reconciler.redact, and every message this module
builds (errors and logs) passes through `redact`, so credentials cannot be printed.

Tests run with tiny delays through the constructor: `retry=Retry(backoff=0.01)`,
`timeout=0.5`, `connect_timeout=0.5`.

Also here: `json_body(response)` (the parsed body, or a clear error when it is not JSON). What a
failure means (the `Failure` record, `generic_error`, the default `error_detail`, `retry_after`
(header), and the mapping to errors) lives in providers/faults.py; the names adapters use are
re-exported here.
"""

from __future__ import annotations

import functools
import logging
import random
import ssl
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx

from reconciler import redact
from reconciler.config import Pace
from reconciler.errors import ProviderError, RateLimited, TransientError
from reconciler.providers.faults import (
    ErrorDetail,
    Explain,
    Failure,
    Fault,
    generic_error,
    read_failure,
    retry_after,
    settled,
    status_fault,
    transport_fault,
)
from reconciler.providers.pacing import Pacer

__all__ = ["Failure", "HttpClient", "Retry", "generic_error", "json_body", "retry_after"]

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
USER_AGENT = "pinops/0.1"


@dataclass(frozen=True)
class Retry:
    """How often and how patiently safe requests are retried.

    attempts: tries in all, the first included. backoff: the first delay in seconds, doubled per
    try, with full jitter, capped at max_delay. max_wait: the longest wait (Retry-After or pacing)
    honoured in-process; beyond it the call raises RateLimited so the run goes on with other pins.
    """

    attempts: int = 4
    backoff: float = 1.0
    max_delay: float = 30.0
    max_wait: float = 120.0

    def delay(self, attempt: int) -> float:
        """The jittered backoff before try number `attempt + 1`."""
        return random.uniform(0.5, 1.0) * min(self.max_delay, self.backoff * 2.0 ** (attempt - 1))


@functools.cache
def _tls() -> ssl.SSLContext:
    """One verifying TLS context per process: building one loads the CA bundle, which is slow."""
    return httpx.create_ssl_context()


class HttpClient:
    """One service's API for one account. See the module docstring for the contract."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        auth: Callable[[], Mapping[str, str]] | None = None,
        error_detail: ErrorDetail = generic_error,
        explain: Explain | None = None,
        on_unauthorized: Callable[[], bool] | None = None,
        request_id_header: str | None = None,
        pace: Sequence[Pace] = (),
        spacing: float = 0.0,
        retry: Retry | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name
        self._auth = auth
        self._error_detail = error_detail
        self._explain = explain
        self._on_unauthorized = on_unauthorized
        self._request_id_header = request_id_header
        self._pacer = Pacer(pace, spacing)
        self._masked: set[str] = set()  # auth header values already registered with redact
        self.retry = retry or Retry()
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            headers={"User-Agent": USER_AGENT},
            transport=transport,
            verify=_tls(),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        allow: Collection[int] = (),
        auth: bool = True,
        paced: bool | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send one request with the policy in the module docstring.

        path: appended to base_url, or an absolute http(s) URL (e.g. a presigned upload URL;
        pass auth=False so that no credential goes to another host). content: raw body bytes
        (e.g. a file PUT to a presigned URL). idempotent: override the
        method's safety. paced: override whether this counts as a write for pacing.
        timeout: seconds for this request instead of the client's.
        """
        method = method.upper()
        safe = method in SAFE_METHODS if idempotent is None else idempotent
        write = method not in READ_METHODS if paced is None else paced
        absolute = path.startswith(("http://", "https://"))
        url = path if absolute else self.base_url + path
        shown = httpx.URL(url).path if absolute else path

        def build() -> httpx.Request:
            return self._client.build_request(
                method,
                url,
                params=params,
                json=json,
                data=data,
                files=files,
                content=content,
                headers={**(self._auth_headers() if auth else {}), **(headers or {})},
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
            )

        renewed = False
        reached = False  # whether any attempt may have reached the server and been acted on
        attempt = 0
        while True:
            attempt += 1
            answer = self._send(build, method, shown, write)
            if isinstance(answer, httpx.Response):
                status = answer.status_code
                if 200 <= status < 300 or status in allow:
                    return answer
                if status == 401 and not renewed and self._on_unauthorized is not None:
                    renewed = True
                    if self._on_unauthorized():
                        attempt -= 1
                        continue
            fault = self._classify(answer, method, shown, safe)
            reached = reached or fault.reached
            delay = self._decide(fault, attempt)
            if delay is None:
                raise settled(fault.error, method, reached)
            self._sleep(delay, method, shown, fault.why)

    # The steps of request(): send, classify, decide.

    def _send(
        self, build: Callable[[], httpx.Request], method: str, path: str, write: bool
    ) -> httpx.Response | httpx.HTTPError:
        """One attempt, paced when it is a write: the response, or the error that replaced it."""
        if write:
            self._pace(method, path)
        request = build()
        started = time.monotonic()
        try:
            response = self._client.send(request)
        except httpx.HTTPError as exc:
            if write:
                self._pacer.sent()
            return exc
        if write:
            self._pacer.sent()
        self._log_response(method, path, response, time.monotonic() - started)
        return response

    def _classify(
        self, answer: httpx.Response | httpx.HTTPError, method: str, path: str, safe: bool
    ) -> Fault:
        if isinstance(answer, httpx.HTTPError):
            return transport_fault(answer, self.name, method, path, safe)
        failure = read_failure(answer, method, path, self._error_detail, self._request_id(answer))
        return status_fault(failure, self.name, safe, self._explain)

    def _decide(self, fault: Fault, attempt: int) -> float | None:
        """Seconds to wait before trying again, or None when the fault's error is to be raised:
        only rate limits and transient failures are retried, while tries remain and the wait
        is one to honour in-process."""
        if not isinstance(fault.error, RateLimited | TransientError):
            return None
        if attempt >= self.retry.attempts:
            return None
        delay = fault.retry_after if fault.retry_after is not None else self.retry.delay(attempt)
        return delay if delay <= self.retry.max_wait else None

    def _auth_headers(self) -> dict[str, str]:
        if self._auth is None:
            return {}
        headers = dict(self._auth())
        for value in headers.values():
            if value in self._masked:
                continue  # registered when it was first sent: the same token on every request
            scheme, _, credential = value.partition(" ")
            redact.register(value, credential if scheme.lower() in ("bearer", "basic") else None)
            self._masked.add(value)
        return headers

    def _pace(self, method: str, path: str) -> None:
        wait = self._pacer.window_wait()
        if wait > self.retry.max_wait:
            paces = ", ".join(str(pace) for pace in self._pacer.windows)
            raise RateLimited(
                f"{self.name}: {method} {path} held back: writes are paced at {paces}",
                retry_after=wait,
                hint=f"the next write is allowed in {wait:.0f}s; run again later",
            )
        wait = max(wait, self._pacer.spacing_wait())
        if wait > 0:
            log.debug("pacing writes to %s: waiting %.2fs", self.name, wait)
            time.sleep(wait)

    def _sleep(self, delay: float, method: str, path: str, why: str) -> None:
        log.info(redact.redact(f"retrying {method} {path} in {delay:.2f}s after: {why}"))
        time.sleep(delay)

    def _request_id(self, response: httpx.Response) -> str | None:
        if self._request_id_header is None:
            return None
        rid: str | None = response.headers.get(self._request_id_header)
        return rid

    def _log_response(
        self, method: str, path: str, response: httpx.Response, elapsed: float
    ) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        rid = self._request_id(response)
        label = f" {self._request_id_header}={rid}" if rid else ""
        log.debug(
            redact.redact(
                f"{self.name} {method} {path} -> {response.status_code} in {elapsed:.3f}s{label}"
            )
        )


def json_body(response: httpx.Response) -> Any:
    """The parsed JSON body of a successful response; a clear error when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        raise ProviderError(
            f"unexpected answer to {response.request.method} {response.request.url.path}: not JSON",
            hint="check the account's base_url in pinops.yaml",
        ) from None
