"""The shared base of the API emulators: a real HTTP server with routing, a log and faults.

An emulator subclasses `EmulatorServer` and declares its endpoints with `@route`:

    class Example(EmulatorServer):
        base_path = "/v1"

        @route("GET", "/v1/things/{thing_id}")
        def get_thing(self, request: Request) -> Response:
            return Response(200, json={"id": request.params["thing_id"]})

    with Example() as api:
        httpx.get(f"{api.base_url}/things/7")
        api.faults.add(Fault(kind="status", status=429, retry_after=2.0, path="/v1/things"))

The server listens on 127.0.0.1 on a free port and speaks HTTP/1.1 with keep-alive. Handlers
run one at a time under `EmulatorServer.lock`, so emulator state needs no other locking; tests
that read state while requests are in flight take the same lock. A handler refuses a request by
raising `Abort(response)`. Every request is logged on arrival, before any fault acts on it.
An exception escaping a handler is answered with a 500 and raised again by `close()`, so an
emulator bug cannot pass for an injected fault.
"""

from __future__ import annotations

import contextlib
import http
import json
import random
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Literal, Self
from urllib.parse import parse_qs, unquote, urlsplit

FaultKind = Literal["status", "delay", "reset", "lost_response", "rewrite"]
Handler = Callable[[Any, "Request"], "Response"]

_ROUTE_ATTRIBUTE = "_emulator_route"
_NO_BODY_STATUSES = (204, 304)


@dataclass(frozen=True)
class Fault:
    """One fault-injection rule; add it with `EmulatorServer.faults.add(...)`.

    kind:
        status         answer `status` with `body` (JSON; None means the emulator's own error
                       body for that status) and a Retry-After header when `retry_after` is
                       set, without calling the handler.
        delay          wait `seconds`, then handle the request normally; with a shorter client
                       timeout the client gives up while the server still acts afterwards.
        reset          read the request, then reset the connection (TCP RST) without acting.
        lost_response  handle the request, state changes included, then reset the connection
                       instead of answering: a response lost after the server acted.
        rewrite        handle the request, state changes included, then answer with
                       `rewrite(body)` instead of its JSON body: an answer off the provider's
                       document (an id of the wrong shape, a status the request cannot have).
    method, path: the requests the rule applies to: `method` None means any method, and `path`
        is a prefix of the URL path ("" means any path), e.g. method="POST", path="/v5/pins".
    times: how many requests the rule fires on before it is used up; None means no limit.
    probability: the chance that the rule fires on a matching request, drawn from the server's
        seeded random.Random (0.2 for "20% of creates"). When it does not fire, later rules are
        tried. Retry-After may be fractional (e.g. 0.1) so that tests of retries stay fast.
    """

    kind: FaultKind
    method: str | None = None
    path: str = ""
    times: int | None = 1
    probability: float = 1.0
    status: int = 500
    body: object = None
    retry_after: float | None = None
    seconds: float = 0.0
    rewrite: Callable[[Any], Any] | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("status", "delay", "reset", "lost_response", "rewrite"):
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1, or None for no limit")
        if not 0.0 < self.probability <= 1.0:
            raise ValueError("probability must be in (0, 1]")
        if self.kind == "delay" and self.seconds <= 0:
            raise ValueError("a delay fault needs seconds > 0")
        if (self.kind == "rewrite") != (self.rewrite is not None):
            raise ValueError("a rewrite fault, and only it, needs rewrite")

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.path)


@dataclass
class _Rule:
    fault: Fault
    remaining: int | None


class Faults:
    """A thread-safe, ordered list of fault rules; the first rule that fires wins."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._rules: list[_Rule] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._rules.append(_Rule(fault, fault.times))
        return fault

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pending(self) -> list[Fault]:
        """The rules not used up yet, in order."""
        with self._lock:
            return [rule.fault for rule in self._rules]

    def take(self, method: str, path: str) -> Fault | None:
        """The fault to inject into this request, if any, counting it against its rule."""
        with self._lock:
            for rule in self._rules:
                if not rule.fault.matches(method, path):
                    continue
                if rule.fault.probability < 1.0 and self._random.random() >= rule.fault.probability:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                return rule.fault
        return None


@dataclass(frozen=True)
class Request:
    """A request as a handler sees it and as the log records it.

    `headers` has lower-cased names. `params` holds the `{name}` parts of the matched route.
    `arrived` is time.monotonic() and `arrived_wall` time.time() when the request arrived.
    `fault` is the fault injected into this request, if any.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    arrived: float = 0.0
    arrived_wall: float = 0.0
    fault: Fault | None = None

    @property
    def content_type(self) -> str:
        """The media type of the body, lower-cased, without parameters."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.body)

    @property
    def form(self) -> dict[str, list[str]]:
        """The body parsed as application/x-www-form-urlencoded."""
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)


@dataclass(frozen=True)
class Response:
    """A handler's answer: a JSON body when `json` is not None, else the raw `body` bytes."""

    status: int = 200
    json: object = None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


class Abort(Exception):
    """Raised by a handler (or by `EmulatorServer.admit`) to answer with `response`."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Declare an emulator method as the handler of `method` on paths like `pattern`.

    `pattern` is a full URL path whose `{name}` segments match any one non-empty segment.
    """

    def declare(handler: Handler) -> Handler:
        setattr(handler, _ROUTE_ATTRIBUTE, (method, pattern))
        return handler

    return declare


def _match(pattern: str, path: str) -> dict[str, str] | None:
    wanted, given = pattern.split("/"), path.split("/")
    if len(wanted) != len(given):
        return None
    params: dict[str, str] = {}
    for want, got in zip(wanted, given, strict=True):
        if want.startswith("{") and want.endswith("}") and got:
            params[want[1:-1]] = unquote(got)
        elif want != got:
            return None
    return params


# What a request comes to: (status, headers, body) to send, or None to reset the connection.
_Outcome = tuple[int, dict[str, str], bytes] | None


class EmulatorServer:
    """Base of every API emulator. Use it as a context manager, or call start() and close().

    Subclasses set `base_path` (e.g. "/v5"), declare handlers with `@route`, and may override
    the hooks `admit` (checks before every handler: auth, rate limits), `error_response` (the
    provider's error body) and `response_headers` (headers on every response).
    """

    base_path: ClassVar[str] = ""
    _routes: ClassVar[list[tuple[str, str, Handler]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._routes = [
            (*spec, value)
            for klass in reversed(cls.__mro__)
            for value in vars(klass).values()
            if (spec := getattr(value, _ROUTE_ATTRIBUTE, None)) is not None
        ]

    def __init__(self, *, seed: int = 0) -> None:
        self.lock = threading.RLock()
        self.faults = Faults(seed)
        self.errors: list[BaseException] = []
        self._log: list[Request] = []
        self._log_lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> Self:
        if self._httpd is not None:
            raise RuntimeError("already started")
        self._closing.clear()
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"{type(self).__name__}-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, cut open connections, join every thread; re-raise handler errors."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._httpd = self._thread = None
        self._closing.set()
        httpd.shutdown()
        httpd.drop_connections()
        httpd.server_close()
        thread.join()
        if self.errors:
            first = self.errors[0]
            raise RuntimeError(f"{type(self).__name__} handler failed: {first!r}") from first

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def origin(self) -> str:
        """http://127.0.0.1:PORT, without `base_path`."""
        if self._httpd is None:
            raise RuntimeError("the emulator is not running")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.origin + self.base_path

    # The request log

    def requests(self, method: str | None = None, path_prefix: str | None = None) -> list[Request]:
        """Logged requests in arrival order, optionally only one method or under one path."""
        with self._log_lock:
            return [
                request
                for request in self._log
                if (method is None or request.method == method)
                and (path_prefix is None or request.path.startswith(path_prefix))
            ]

    def writes(self, path_prefix: str | None = None) -> list[Request]:
        """Logged requests other than GET, HEAD and OPTIONS."""
        return [
            request
            for request in self.requests(path_prefix=path_prefix)
            if request.method not in ("GET", "HEAD", "OPTIONS")
        ]

    # Hooks

    def admit(self, request: Request) -> None:
        """Called under the lock before every routed handler; raise Abort to refuse."""

    def error_response(self, status: int, message: str | None = None) -> Response:
        """The provider's error answer for `status`, used for unknown routes and faults."""
        return Response(status, json={"error": message or http.HTTPStatus(status).phrase})

    def response_headers(self, request: Request) -> dict[str, str]:  # noqa: ARG002
        """Headers added to every response to `request`."""
        return {}

    # Serving (called from the connection threads)

    def _serve(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        arrived: tuple[float, float],
    ) -> _Outcome:
        url = urlsplit(target)
        handler, params = self._find(method, url.path)
        fault = self.faults.take(method, url.path)
        request = Request(
            method=method,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers=headers,
            body=body,
            params=params,
            arrived=arrived[0],
            arrived_wall=arrived[1],
            fault=fault,
        )
        with self._log_lock:
            self._log.append(request)
        if fault is not None:
            if fault.kind == "reset":
                return None
            if fault.kind == "status":
                return self._encode(request, self._fault_response(fault))
            if fault.kind == "delay" and self._closing.wait(fault.seconds):
                return None
        with self.lock:
            response = self._respond(request, handler)
            if fault is not None and fault.rewrite is not None and response.json is not None:
                response = Response(
                    response.status, fault.rewrite(response.json), response.body, response.headers
                )
            outcome = self._encode(request, response)
        return None if fault is not None and fault.kind == "lost_response" else outcome

    def _find(self, method: str, path: str) -> tuple[Handler | None, dict[str, str]]:
        for want, pattern, handler in self._routes:
            params = _match(pattern, path)
            if params is not None and want == method:
                return handler, params
        return None, {}

    def _respond(self, request: Request, handler: Handler | None) -> Response:
        if handler is None:
            path = request.path
            known = any(_match(pattern, path) is not None for _, pattern, _ in self._routes)
            return self.error_response(
                405 if known else 404, f"No route for {request.method} {path}"
            )
        try:
            self.admit(request)
            return handler(self, request)
        except Abort as abort:
            return abort.response
        except Exception as exc:
            self.errors.append(exc)
            return self.error_response(500)

    def _fault_response(self, fault: Fault) -> Response:
        response = (
            self.error_response(fault.status)
            if fault.body is None
            else Response(fault.status, json=fault.body)
        )
        if fault.retry_after is None:
            return response
        headers = {**response.headers, "Retry-After": f"{fault.retry_after:g}"}
        return Response(response.status, response.json, response.body, headers)

    def _encode(self, request: Request, response: Response) -> _Outcome:
        headers = {**self.response_headers(request), **response.headers}
        body = response.body
        if response.json is not None:
            body = json.dumps(response.json).encode()
            headers.setdefault("Content-Type", "application/json")
        return response.status, headers, body


class _HTTPServer(ThreadingHTTPServer):
    """Tracks connections so that close() can cut them and join every connection thread."""

    daemon_threads = False
    request_queue_size = 64

    def __init__(self, emulator: EmulatorServer) -> None:
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._resets: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _ConnectionHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def reset(self, connection: socket.socket) -> None:
        """Close `connection` with a TCP RST once its handler returns."""
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with self._connections_lock:
            self._resets.add(connection)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
            reset = request in self._resets
            self._resets.discard(request)
        if reset:
            request.close()  # no orderly shutdown first: with SO_LINGER 0 this sends RST
        else:
            super().shutdown_request(request)

    def drop_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ARG002
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, OSError):
            self.emulator.errors.append(error)


class _ConnectionHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes; don't stall on ACKs
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet; the emulator's own log records every request."""

    def _exchange(self) -> None:
        arrived = (time.monotonic(), time.time())
        headers = {name.lower(): value for name, value in self.headers.items()}
        outcome = self.server.emulator._serve(
            self.command, self.path, headers, self._read_body(headers), arrived
        )
        if outcome is None:
            self.server.reset(self.connection)
            self.close_connection = True
            return
        status, response_headers, body = outcome
        try:
            self.send_response(status)
            for name, value in response_headers.items():
                self.send_header(name, value)
            if status not in _NO_BODY_STATUSES:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status not in _NO_BODY_STATUSES:
                self.wfile.write(body)
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _exchange

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailer fields
            return b"".join(chunks)
        return self.rfile.read(int(headers.get("content-length") or 0))


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until `condition()` holds: a server may log a request after its client gave up."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)
