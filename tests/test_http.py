"""The shared HTTP layer over real HTTP: error mapping, retries, Retry-After, pacing, redaction."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler import redact
from reconciler.config import Pace
from reconciler.errors import (
    AuthError,
    OutcomeUnknown,
    ProviderError,
    ProviderRejected,
    RateLimited,
    SpamBlocked,
    TransientError,
)
from reconciler.providers.http import Failure, HttpClient, Retry, retry_after
from tests.emulators.server import Abort, EmulatorServer, Fault, Request, Response, route, wait_for

TOKEN = "tok_RECOGNISABLE_http_secret_1234"


class Things(EmulatorServer):
    """A small API: things are created by POST, read, deleted; Bearer auth; request ids."""

    base_path = "/v1"

    def __init__(self) -> None:
        super().__init__()
        self.token = TOKEN
        self.things: dict[str, dict[str, object]] = {}
        self.uploads: list[Request] = []

    def admit(self, request: Request) -> None:
        if request.path == "/v1/upload":
            return
        if request.headers.get("authorization") != f"Bearer {self.token}":
            raise Abort(Response(401, json={"code": 2, "message": "Authentication failed."}))

    def response_headers(self, request: Request) -> dict[str, str]:  # noqa: ARG002
        return {"x-request-id": f"rid-{len(self.requests())}"}

    @route("POST", "/v1/things")
    def create(self, request: Request) -> Response:
        thing_id = str(len(self.things) + 1)
        self.things[thing_id] = request.json
        return Response(201, json={"id": thing_id})

    @route("GET", "/v1/things/{thing_id}")
    def read(self, request: Request) -> Response:
        thing = self.things.get(request.params["thing_id"])
        if thing is None:
            return Response(404, json={"code": 50, "message": "Thing not found."})
        return Response(200, json=thing)

    @route("DELETE", "/v1/things/{thing_id}")
    def delete(self, request: Request) -> Response:
        if self.things.pop(request.params["thing_id"], None) is None:
            return Response(404, json={"code": 50, "message": "Thing not found."})
        return Response(204)

    @route("POST", "/v1/echo")
    def echo(self, request: Request) -> Response:
        """Refuses, echoing the request headers back the way careless APIs do."""
        return Response(400, json={"code": 1, "message": f"bad request: {request.headers}"})

    @route("POST", "/v1/upload")
    def upload(self, request: Request) -> Response:
        if "content-length" not in request.headers:
            return Response(411, body=b"<Error><Code>MissingContentLength</Code></Error>")
        self.uploads.append(request)
        return Response(204)


@pytest.fixture
def api() -> Iterator[Things]:
    with Things() as server:
        yield server


def client(api: Things, **options: object) -> HttpClient:
    settings: dict[str, object] = {
        "name": "Things",
        "auth": lambda: {"Authorization": f"Bearer {TOKEN}"},
        "request_id_header": "x-request-id",
        "retry": Retry(attempts=3, backoff=0.01, max_delay=0.05, max_wait=5.0),
        "timeout": 0.5,
        "connect_timeout": 0.5,
    }
    settings.update(options)
    return HttpClient(api.base_url, **settings)  # type: ignore[arg-type]


def test_a_get_is_retried_after_a_server_error(api: Things) -> None:
    api.things["1"] = {"name": "a"}
    api.faults.add(Fault(kind="status", status=503, method="GET"))
    with client(api) as http:
        assert http.request("GET", "/things/1").json() == {"name": "a"}
    assert [r.fault is not None for r in api.requests("GET")] == [True, False]


def test_retries_wait_as_long_as_retry_after_asks(api: Things) -> None:
    api.things["1"] = {"name": "a"}
    api.faults.add(Fault(kind="status", status=429, retry_after=0.3, method="GET"))
    with client(api) as http:
        http.request("GET", "/things/1")
    limited, retried = api.requests("GET")
    assert limited.fault is not None and retried.fault is None
    assert retried.arrived - limited.arrived >= 0.3


def test_a_create_refused_with_429_is_sent_again_after_retry_after(api: Things) -> None:
    api.faults.add(Fault(kind="status", status=429, retry_after=0.2, method="POST"))
    with client(api) as http:
        assert http.request("POST", "/things", json={"name": "a"}).json() == {"id": "1"}
    limited, created = api.requests("POST")
    assert created.arrived - limited.arrived >= 0.2
    assert len(api.things) == 1


def test_retry_after_longer_than_the_patience_raises_rate_limited_at_once(api: Things) -> None:
    api.faults.add(Fault(kind="status", status=429, retry_after=600, method="GET"))
    with client(api) as http, pytest.raises(RateLimited) as caught:
        http.request("GET", "/things/1")
    assert caught.value.retry_after == 600
    assert len(api.requests()) == 1


def test_rate_limited_once_retries_are_spent(api: Things) -> None:
    api.faults.add(Fault(kind="status", status=429, retry_after=0.01, times=None))
    with client(api) as http, pytest.raises(RateLimited) as caught:
        http.request("DELETE", "/things/1")
    assert caught.value.retry_after == pytest.approx(0.01)
    assert len(api.requests()) == 3


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after("Thu, 01 Jan 2026 12:00:07 GMT", now) == 7
    assert retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0
    assert retry_after("2.5") == 2.5
    assert retry_after("soon") is None
    assert retry_after(None) is None


@pytest.mark.parametrize("kind", ["lost_response", "reset"])
def test_a_create_that_may_have_arrived_is_not_sent_again(api: Things, kind: str) -> None:
    api.faults.add(Fault(kind=kind, method="POST"))  # type: ignore[arg-type]
    with client(api) as http, pytest.raises(OutcomeUnknown):
        http.request("POST", "/things", json={"name": "a"})
    assert len(api.requests("POST")) == 1
    assert len(api.things) == (1 if kind == "lost_response" else 0)


def test_a_create_that_timed_out_is_not_sent_again(api: Things) -> None:
    api.faults.add(Fault(kind="delay", seconds=0.8, method="POST"))
    with client(api, timeout=0.2) as http, pytest.raises(OutcomeUnknown) as caught:
        http.request("POST", "/things", json={"name": "a"})
    assert "timed out" in str(caught.value)
    assert len(api.requests("POST")) == 1


def test_a_server_error_on_a_create_is_an_unknown_outcome(api: Things) -> None:
    api.faults.add(Fault(kind="status", status=500, method="POST"))
    with client(api) as http, pytest.raises(OutcomeUnknown):
        http.request("POST", "/things", json={"name": "a"})
    assert len(api.requests("POST")) == 1


def test_an_idempotent_create_is_retried_after_a_server_error(api: Things) -> None:
    api.faults.add(Fault(kind="status", status=500, method="POST"))
    with client(api) as http:
        http.request("POST", "/things", json={"name": "a"}, idempotent=True)
    assert len(api.requests("POST")) == 2
    assert len(api.things) == 1


def test_a_lost_response_to_a_safe_request_is_retried(api: Things) -> None:
    api.things["1"] = {"name": "a"}
    api.faults.add(Fault(kind="lost_response", method="DELETE"))
    with client(api) as http:
        response = http.request("DELETE", "/things/1", allow=(404,))
    assert response.status_code == 404  # the first try did delete it
    assert api.things == {}


def test_a_read_that_keeps_timing_out_is_transient(api: Things) -> None:
    api.faults.add(Fault(kind="delay", seconds=0.5, method="GET", times=None))
    with client(api, timeout=0.1) as http, pytest.raises(TransientError):
        http.request("GET", "/things/1")
    # Each attempt was sent whole; under load the server may log the last one after the timeout.
    wait_for(lambda: len(api.requests("GET")) == 3)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_create_that_never_connected_is_retried_then_transient() -> None:
    http = HttpClient(
        f"http://127.0.0.1:{free_port()}/v1",
        name="Things",
        retry=Retry(attempts=2, backoff=0.01),
        connect_timeout=0.5,
    )
    with http, pytest.raises(TransientError) as caught:
        http.request("POST", "/things", json={"name": "a"})
    assert "could not reach Things" in str(caught.value)


def test_client_errors_are_rejections_with_the_services_message(api: Things) -> None:
    with client(api) as http, pytest.raises(ProviderRejected) as caught:
        http.request("GET", "/things/404")
    assert str(caught.value).startswith("Things answered 404 to GET /things/404: Thing not found.")
    assert "(code 50)" in str(caught.value)
    assert len(api.requests()) == 1


def test_unauthorized_is_an_auth_error(api: Things) -> None:
    with (
        client(api, auth=lambda: {"Authorization": "Bearer wrong-token-value"}) as http,
        pytest.raises(AuthError) as caught,
    ):
        http.request("GET", "/things/1")
    assert "Authentication failed." in str(caught.value)
    assert "wrong-token-value" not in str(caught.value)


def test_a_401_gets_one_chance_to_renew_the_credentials(api: Things) -> None:
    api.things["1"] = {"name": "a"}
    api.token = "renewed-token-value"
    current = {"token": TOKEN}
    renewals: list[int] = []

    def renew() -> bool:
        renewals.append(1)
        current["token"] = "renewed-token-value"
        return True

    auth = lambda: {"Authorization": f"Bearer {current['token']}"}  # noqa: E731
    with client(api, auth=auth, on_unauthorized=renew) as http:
        assert http.request("GET", "/things/1").json() == {"name": "a"}
        api.token = "revoked"
        with pytest.raises(AuthError):
            http.request("GET", "/things/1")
    assert len(renewals) == 2  # once per request, never in a loop
    assert len(api.requests()) == 4


def test_explain_turns_a_known_failure_into_an_error_raised_at_once(api: Things) -> None:
    spam = {"code": 8, "message": "Too many.", "message_detail": "spam block"}
    api.faults.add(Fault(kind="status", status=429, body=spam, retry_after=0.01))

    def explain(failure: Failure) -> ProviderError | None:
        if failure.status == 429 and "spam" in str(failure.body.get("message_detail")):
            return SpamBlocked(f"blocked: {failure.message}")
        return None

    with client(api, explain=explain) as http, pytest.raises(SpamBlocked):
        http.request("POST", "/things", json={"name": "a"})
    assert len(api.requests()) == 1


def test_writes_are_paced_per_client(api: Things) -> None:
    with client(api, pace=(Pace(2, "second"),)) as http:
        for name in "abc":
            http.request("POST", "/things", json={"name": name})
        http.request("GET", "/things/1")  # reads are not paced
    first, _, third = api.requests("POST")
    assert third.arrived - first.arrived >= 1.0


def test_writes_keep_their_spacing(api: Things) -> None:
    with client(api, spacing=0.3) as http:
        http.request("POST", "/things", json={"name": "a"})
        http.request("GET", "/things/1")
        http.request("DELETE", "/things/1")
    create, delete = api.writes()
    assert delete.arrived - create.arrived >= 0.3


def test_a_pace_that_would_wait_too_long_refuses_without_sending(api: Things) -> None:
    with client(api, pace=(Pace(1, "hour"),)) as http:
        http.request("POST", "/things", json={"name": "a"})
        with pytest.raises(RateLimited) as caught:
            http.request("POST", "/things", json={"name": "b"})
    assert "paced at 1/hour" in str(caught.value)
    assert caught.value.retry_after is not None and caught.value.retry_after > 3500
    assert len(api.requests("POST")) == 1


def test_multipart_upload_sends_content_length_and_no_credentials(
    api: Things, tmp_path: Path
) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00" * 5000)
    with client(api) as http, video.open("rb") as stream:
        http.request(
            "POST",
            f"{api.origin}/v1/upload",
            data={"key": "uploads/1", "policy": "p"},
            files={"file": ("clip.mp4", stream, "video/mp4")},
            auth=False,
            idempotent=True,
        )
    (upload,) = api.uploads
    assert "authorization" not in upload.headers
    assert "transfer-encoding" not in upload.headers
    assert int(upload.headers["content-length"]) == len(upload.body)
    assert upload.body.index(b'name="key"') < upload.body.index(b'name="file"')


def test_credentials_never_reach_errors_or_logs(
    api: Things, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with client(api) as http, pytest.raises(ProviderRejected) as caught:
        http.request("POST", "/echo", json={})
    assert TOKEN in api.requests()[0].headers["authorization"]  # the server did get it
    assert TOKEN not in str(caught.value)
    assert "[redacted]" in str(caught.value)
    assert TOKEN not in caplog.text
    assert "x-request-id=rid-1" in caplog.text


def test_redact_masks_registered_values_and_their_encodings_only() -> None:
    redact.register("s3cr3t/value+x")
    text = redact.redact(
        "a s3cr3t/value+x b s3cr3t%2Fvalue%2Bx c czNjcjN0L3ZhbHVlK3g= "
        "Authorization: Bearer abc.def refresh_token=pinr_abcdefghijkl&x=1"
    )
    assert "s3cr3t" not in text and "czNjcjN0L3ZhbHVlK3g" not in text
    # Only registered values: text that merely looks like a credential stays as it is.
    assert "Bearer abc.def refresh_token=pinr_abcdefghijkl&x=1" in text
    assert redact.redact("the token expired") == "the token expired"
