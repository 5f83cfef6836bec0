"""The Pinterest v5 emulator: every endpoint and fault kind over real HTTP, and every body it
takes or gives checked against the component schemas of Pinterest's own OpenAPI document."""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.emulators.openapi import REFERENCE, Spec
from tests.emulators.pinterest import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    SPAM_MESSAGE,
    UPLOAD_FIELDS,
    PinterestEmulator,
)
from tests.emulators.server import Fault, Faults, Request, Response, route, wait_for

PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)
JPEG = b"\xff\xd8\xff\xe0" + bytes(24)
GIF = b"GIF89a" + bytes(24)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(48)
BEARER = {"Authorization": f"Bearer {ACCESS_TOKEN}"}


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec(REFERENCE / "pinterest-v5" / "openapi.json")


@pytest.fixture
def api() -> Iterator[PinterestEmulator]:
    with PinterestEmulator(processing_polls=1) as emulator:
        yield emulator


def local_client(base_url: str = "", **options: Any) -> httpx.Client:
    """A client for the emulators. They serve plain HTTP on 127.0.0.1, so it skips loading a
    CA bundle, which takes longer than a whole test."""
    return httpx.Client(base_url=base_url, verify=False, timeout=5.0, **options)


def authorized(api: PinterestEmulator) -> httpx.Client:
    return local_client(api.base_url, headers=BEARER)


@pytest.fixture
def client(api: PinterestEmulator) -> Iterator[httpx.Client]:
    with authorized(api) as http:
        yield http


@pytest.fixture
def board(api: PinterestEmulator) -> str:
    return api.add_board("Recipes")


def image_pin(board_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "board_id": board_id,
        "title": "Easy 15-Minute Pasta",
        "media_source": {"source_type": "image_url", "url": "https://example.com/pasta.jpg"},
        **fields,
    }


def error_of(response: httpx.Response, spec: Spec) -> tuple[int, int]:
    """(HTTP status, Pinterest code) of an error response, checked against Error."""
    body = response.json()
    spec.check(body, "Error")
    assert "x-pinterest-rid" in response.headers
    return response.status_code, body["code"]


def multipart(parts: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body with the parts in exactly this order."""
    boundary = uuid.uuid4().hex
    chunks = []
    for name, value in parts:
        disposition = f'form-data; name="{name}"' + ('; filename="clip.mp4"' * (name == "file"))
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode())
        chunks.append(value + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


# The server


def test_serves_on_a_free_local_port_and_stops_cleanly() -> None:
    emulator = PinterestEmulator()
    with pytest.raises(RuntimeError):
        _ = emulator.base_url
    with local_client(headers=BEARER) as http:
        with emulator as api:
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v5", api.base_url)
            base_url = api.base_url
            assert http.get(f"{base_url}/boards").status_code == 200
        with pytest.raises(httpx.ConnectError):
            http.get(f"{base_url}/boards")


def test_unknown_routes_and_methods_get_error_bodies(client: httpx.Client, spec: Spec) -> None:
    assert error_of(client.get("/nothing-here"), spec) == (404, 404)
    assert error_of(client.put("/pins"), spec) == (405, 405)


def test_a_handler_exception_is_a_500_and_is_raised_on_close(spec: Spec) -> None:
    class Broken(PinterestEmulator):
        @route("GET", "/v5/broken")
        def broken(self, request: Request) -> Response:
            raise KeyError(request.path)

    with (
        pytest.raises(RuntimeError, match="handler failed"),
        Broken() as api,
        authorized(api) as http,
    ):
        assert error_of(http.get("/broken"), spec)[0] == 500


def test_the_log_records_every_request(
    api: PinterestEmulator, client: httpx.Client, board: str
) -> None:
    client.get("/boards", params={"page_size": "5"})
    client.post("/pins", json=image_pin(board))
    client.get(f"/boards/{board}/pins")
    requests = api.requests()
    assert [(r.method, r.path) for r in requests] == [
        ("GET", "/v5/boards"),
        ("POST", "/v5/pins"),
        ("GET", f"/v5/boards/{board}/pins"),
    ]
    assert requests[0].query == {"page_size": ["5"]}
    assert requests[0].arrived <= requests[1].arrived <= requests[2].arrived
    assert abs(requests[0].arrived_wall - time.time()) < 5
    assert requests[1].headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert requests[1].json == image_pin(board)
    assert requests[2].params == {"board_id": board}
    assert api.requests("GET", "/v5/boards/") == [requests[2]]
    assert api.writes() == [requests[1]]


# Faults


def test_status_fault_with_retry_after_then_normal_service(
    api: PinterestEmulator, client: httpx.Client, board: str, spec: Spec
) -> None:
    api.faults.add(
        Fault(kind="status", status=429, retry_after=2.0, method="POST", path="/v5/pins")
    )
    assert client.get("/boards").status_code == 200
    refused = client.post("/pins", json=image_pin(board))
    assert error_of(refused, spec) == (429, 8)
    assert refused.headers["retry-after"] == "2"
    assert api.pins == {}
    assert client.post("/pins", json=image_pin(board)).status_code == 201
    assert api.faults.pending() == []
    assert [r.fault is not None for r in api.requests("POST")] == [True, False]


def test_status_fault_default_body_is_a_pinterest_error(
    api: PinterestEmulator, client: httpx.Client, spec: Spec
) -> None:
    api.faults.add(Fault(kind="status", status=503, times=None))
    for _ in range(2):
        response = client.get("/boards")
        assert error_of(response, spec) == (503, 503)
        assert "retry-after" not in response.headers


def test_delay_fault_times_the_client_out_but_the_server_still_acts(
    api: PinterestEmulator, client: httpx.Client, board: str
) -> None:
    api.faults.add(Fault(kind="delay", seconds=0.3, method="POST"))
    with pytest.raises(httpx.ReadTimeout):
        client.post("/pins", json=image_pin(board), timeout=0.05)
    assert api.pins == {}
    wait_for(lambda: len(api.pins) == 1)


def test_reset_fault_drops_the_connection_before_acting(
    api: PinterestEmulator, client: httpx.Client, board: str
) -> None:
    api.faults.add(Fault(kind="reset", method="POST", path="/v5/pins"))
    with pytest.raises(httpx.TransportError):
        client.post("/pins", json=image_pin(board))
    assert api.pins == {}
    assert api.requests("POST")[0].fault == Fault(kind="reset", method="POST", path="/v5/pins")
    assert client.post("/pins", json=image_pin(board)).status_code == 201


def test_lost_response_fault_acts_then_drops_the_connection(
    api: PinterestEmulator, client: httpx.Client, board: str
) -> None:
    api.faults.add(Fault(kind="lost_response", method="POST", path="/v5/pins"))
    with pytest.raises(httpx.TransportError):
        client.post("/pins", json=image_pin(board, title="Lost"))
    assert [pin["title"] for pin in api.pins.values()] == ["Lost"]
    found = client.get(f"/boards/{board}/pins").json()["items"]
    assert [pin["title"] for pin in found] == ["Lost"]


def test_probabilistic_faults_are_seeded_and_match_method_and_path() -> None:
    def draws(seed: int) -> list[bool]:
        faults = Faults(seed)
        faults.add(
            Fault(kind="status", method="POST", path="/v5/pins", times=None, probability=0.2)
        )
        assert faults.take("GET", "/v5/pins") is None
        assert faults.take("POST", "/v5/boards") is None
        return [faults.take("POST", "/v5/pins") is not None for _ in range(1000)]

    fired = draws(seed=7)
    assert 150 < sum(fired) < 250
    assert draws(seed=7) == fired


def test_faults_fire_in_order_and_are_used_up() -> None:
    faults = Faults()
    first = faults.add(Fault(kind="reset", path="/v5/pins", times=2))
    second = faults.add(Fault(kind="delay", seconds=1.0))
    assert [faults.take("POST", "/v5/pins") for _ in range(3)] == [first, first, second]
    assert faults.pending() == []
    for bad in ({"kind": "explode"}, {"kind": "delay"}, {"kind": "reset", "probability": 0.0}):
        with pytest.raises(ValueError):
            Fault(**bad)


# Auth


def test_every_endpoint_but_oauth_needs_a_valid_bearer_token(
    api: PinterestEmulator, spec: Spec
) -> None:
    with local_client(api.base_url) as anonymous:
        assert error_of(anonymous.get("/boards"), spec) == (401, 2)
        wrong = {"Authorization": "Bearer pina_wrong"}
        assert error_of(anonymous.get("/boards", headers=wrong), spec) == (401, 2)
        assert anonymous.get("/boards", headers=BEARER).status_code == 200
        api.expire_token(ACCESS_TOKEN)
        response = anonymous.get("/boards", headers=BEARER)
        assert error_of(response, spec) == (401, 2)
        assert response.json()["message"] == "Authentication failed."


def test_refresh_rotates_the_refresh_token(api: PinterestEmulator, spec: Spec) -> None:
    form = {"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN}
    spec.check(form, "OauthAccessTokenRequestRefresh")
    with (
        local_client(api.base_url, auth=(CLIENT_ID, CLIENT_SECRET)) as oauth,
        local_client(api.base_url) as anonymous,
    ):
        response = oauth.post("/oauth/token", data=form)
        assert response.status_code == 200
        assert api.requests()[0].content_type == "application/x-www-form-urlencoded"
        token = response.json()
        spec.check(token, "OauthAccessTokenResponseRefresh")
        spec.check_fields(token, "OauthAccessTokenResponseRefresh")
        assert token["token_type"] == "bearer"
        assert token["refresh_token"] != REFRESH_TOKEN
        assert token["refresh_token_expires_at"] > time.time()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        assert anonymous.get("/boards", headers=headers).status_code == 200
        assert error_of(oauth.post("/oauth/token", data=form), spec) == (401, 283)
        rotated = {**form, "refresh_token": token["refresh_token"]}
        assert oauth.post("/oauth/token", data=rotated).status_code == 200
        assert error_of(oauth.post("/oauth/token", json=rotated), spec)[0] == 400
    with local_client(api.base_url, auth=(CLIENT_ID, "wrong")) as impostor:
        assert error_of(impostor.post("/oauth/token", data=form), spec) == (401, 2)


def test_refresh_without_rotation_keeps_the_refresh_token(spec: Spec) -> None:
    form = {"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN, "scope": "pins:read"}
    with (
        PinterestEmulator(rotate_refresh_token=False) as api,
        local_client(api.base_url, auth=(CLIENT_ID, CLIENT_SECRET)) as oauth,
    ):
        for _ in range(2):
            token = oauth.post("/oauth/token", data=form).json()
            spec.check(token, "OauthAccessTokenResponse")
            assert "refresh_token" not in token
            assert token["scope"] == "pins:read"
        too_wide = {**form, "scope": "ads:write"}
        assert error_of(oauth.post("/oauth/token", data=too_wide), spec)[0] == 400


# Boards and sections


def test_boards_are_paginated_with_opaque_bookmarks(
    api: PinterestEmulator, client: httpx.Client, spec: Spec
) -> None:
    for number in range(30):
        api.add_board(f"Board {number}", privacy="SECRET" if number == 7 else "PUBLIC")
    first = client.get("/boards").json()
    spec.check_response(first, "/boards", "get", 200)
    assert len(first["items"]) == 25
    spec.check_fields(first["items"][0], "Board")
    spec.check_fields(first["items"][0]["media"], "BoardMedia")
    second = client.get("/boards", params={"bookmark": first["bookmark"]}).json()
    spec.check_response(second, "/boards", "get", 200)
    assert len(second["items"]) == 5
    assert second["bookmark"] is None
    names = [board["name"] for board in first["items"] + second["items"]]
    assert names == [f"Board {number}" for number in range(30)]
    secret = client.get("/boards", params={"privacy": "SECRET", "page_size": 250}).json()
    assert [board["name"] for board in secret["items"]] == ["Board 7"]
    for params in ({"page_size": 0}, {"page_size": 251}, {"page_size": "ten"}, {"bookmark": "x"}):
        assert error_of(client.get("/boards", params=params), spec) == (400, 1)
    other_listing = client.get("/boards", params={"privacy": "PUBLIC", "page_size": 1}).json()
    elsewhere = {"bookmark": other_listing["bookmark"]}
    assert error_of(client.get("/boards", params=elsewhere), spec) == (400, 1)


def test_sections_and_board_pins_are_paginated(
    api: PinterestEmulator, client: httpx.Client, board: str, spec: Spec
) -> None:
    sections = [api.add_section(board, name) for name in ("Salads", "Soups", "Pasta")]
    page = client.get(f"/boards/{board}/sections", params={"page_size": 2}).json()
    spec.check_response(page, "/boards/{board_id}/sections", "get", 200)
    rest = client.get(f"/boards/{board}/sections", params={"bookmark": page["bookmark"]}).json()
    spec.check_response(rest, "/boards/{board_id}/sections", "get", 200)
    assert [s["id"] for s in page["items"] + rest["items"]] == sections
    spec.check_fields(page["items"][0], "BoardSection")

    client.post("/pins", json=image_pin(board, title="Plain"))
    client.post("/pins", json=image_pin(board, title="In a section", board_section_id=sections[0]))
    pins = client.get(f"/boards/{board}/pins", params={"page_size": 1}).json()
    spec.check_response(pins, "/boards/{board_id}/pins", "get", 200)
    more = client.get(f"/boards/{board}/pins", params={"bookmark": pins["bookmark"]}).json()
    assert [p["title"] for p in pins["items"] + more["items"]] == ["In a section", "Plain"]
    assert more["bookmark"] is None

    one = client.get(f"/boards/{board}").json()
    spec.check(one, "Board")
    assert one["pin_count"] == 2
    assert error_of(client.get("/boards/123/pins"), spec) == (404, 40)
    assert error_of(client.get("/boards/123/sections"), spec) == (404, 40)
    assert error_of(client.get("/boards/recipes"), spec) == (400, 1)


# Pins


def test_create_an_image_url_pin(
    api: PinterestEmulator, client: httpx.Client, board: str, spec: Spec
) -> None:
    body = image_pin(
        board,
        description="Creamy garlic pasta from pantry staples.",
        link="https://example.com/pasta",
        alt_text="A bowl of pasta with basil",
        dominant_color="#6E7874",
    )
    spec.check(body, "PinCreate")
    response = client.post("/pins", json=body)
    assert response.status_code == 201
    assert "x-pinterest-rid" in response.headers
    pin = response.json()
    spec.check(pin, "Pin")
    spec.check_fields(pin, "Pin")
    spec.check_fields(pin["media"], "PinMediaWithImage")
    assert re.fullmatch(r"\d{18,}", pin["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", pin["created_at"])
    assert {key: pin[key] for key in body if key != "media_source"} == {
        key: value for key, value in body.items() if key != "media_source"
    }
    assert pin["board_owner"] == {"username": "pinops-test"}
    assert pin["media"]["media_type"] == "image"
    urls = [image["url"] for image in pin["media"]["images"].values()]
    assert urls and all(url.startswith("https://i.pinimg.com/") for url in urls)
    assert api.pins == {pin["id"]: pin}
    fetched = client.get(f"/pins/{pin['id']}")
    assert fetched.json() == pin
    spec.check(fetched.json(), "Pin")
    again = client.post("/pins", json=body).json()
    assert int(again["id"]) == int(pin["id"]) + 1


def test_create_a_base64_pin_checks_the_image_bytes(
    api: PinterestEmulator, client: httpx.Client, board: str, spec: Spec
) -> None:
    for content_type, data in (("image/png", PNG), ("image/jpeg", JPEG)):
        source = {
            "source_type": "image_base64",
            "content_type": content_type,
            "data": base64.b64encode(data).decode(),
        }
        body = image_pin(board, media_source=source)
        spec.check(body, "PinCreate")
        response = client.post("/pins", json=body)
        assert response.status_code == 201
        spec.check(response.json(), "Pin")
    broken = {"source_type": "image_base64", "content_type": "image/png"}
    broken["data"] = base64.b64encode(GIF).decode()
    broken_pin = client.post("/pins", json=image_pin(board, media_source=broken))
    assert error_of(broken_pin, spec) == (403, 235)
    assert len(api.pins) == 2


BAD_BY_THE_SPEC: dict[str, Callable[[dict[str, Any]], None]] = {
    "board id not digits": lambda body: body.update(board_id="recipes"),
    "section id not digits": lambda body: body.update(board_section_id="soups"),
    "title too long": lambda body: body.update(title="t" * 101),
    "description too long": lambda body: body.update(description="d" * 801),
    "link too long": lambda body: body.update(link="https://example.com/" + "l" * 2029),
    "alt text too long": lambda body: body.update(alt_text="a" * 501),
    "title not a string": lambda body: body.update(title=5),
    "unknown source type": lambda body: body["media_source"].update(source_type="image_gif"),
    "url missing": lambda body: body["media_source"].pop("url"),
    "gif content type": lambda body: body.update(
        media_source={"source_type": "image_base64", "content_type": "image/gif", "data": "R0lG"}
    ),
    "data not base64": lambda body: body.update(
        media_source={"source_type": "image_base64", "content_type": "image/png", "data": "a b!"}
    ),
    "media id not digits": lambda body: body.update(
        media_source={"source_type": "video_id", "media_id": "clip", "cover_image_url": "x"}
    ),
    "negative key frame": lambda body: body.update(
        media_source={"source_type": "video_id", "media_id": "1", "cover_image_key_frame_time": -1}
    ),
}

BAD_BY_THE_API: dict[str, Callable[[dict[str, Any]], None]] = {
    "unknown field (note, removed in 5.20)": lambda body: body.update(note="private"),
    "board id missing": lambda body: body.pop("board_id"),
    "media source missing": lambda body: body.pop("media_source"),
    "unknown media source field": lambda body: body["media_source"].update(alt="x"),
}


@pytest.mark.parametrize("mutate", BAD_BY_THE_SPEC.values(), ids=BAD_BY_THE_SPEC.keys())
def test_pin_bodies_the_spec_rejects_are_refused(
    api: PinterestEmulator,
    client: httpx.Client,
    board: str,
    spec: Spec,
    mutate: Callable[[dict[str, Any]], None],
) -> None:
    body = image_pin(board)
    mutate(body)
    assert not spec.valid(body, "PinCreate")
    assert error_of(client.post("/pins", json=body), spec) == (400, 1)
    assert api.pins == {}


@pytest.mark.parametrize("mutate", BAD_BY_THE_API.values(), ids=BAD_BY_THE_API.keys())
def test_pin_bodies_the_real_api_rejects_are_refused(
    api: PinterestEmulator,
    client: httpx.Client,
    board: str,
    spec: Spec,
    mutate: Callable[[dict[str, Any]], None],
) -> None:
    body = image_pin(board)
    mutate(body)
    assert spec.valid(body, "PinCreate")  # the schema is looser than the service
    assert error_of(client.post("/pins", json=body), spec) == (400, 1)
    assert api.pins == {}


def test_board_section_link_and_image_url_must_be_usable(
    api: PinterestEmulator, client: httpx.Client, board: str, spec: Spec
) -> None:
    other = api.add_board("Home Decor")
    elsewhere = api.add_section(other, "Lamps")
    missing_board = client.post("/pins", json=image_pin("1234"))
    assert error_of(missing_board, spec) == (404, 40)
    assert missing_board.json()["message"] == "Board not found."
    wrong_section = client.post("/pins", json=image_pin(board, board_section_id=elsewhere))
    assert error_of(wrong_section, spec) == (404, 2031)
    bad_link = client.post("/pins", json=image_pin(board, link="example.com/pasta"))
    assert error_of(bad_link, spec) == (400, 1)
    assert bad_link.json()["message"].startswith("Whoops!")
    plain_http = {"source_type": "image_url", "url": "http://example.com/pasta.jpg"}
    not_fetched = client.post("/pins", json=image_pin(board, media_source=plain_http))
    assert error_of(not_fetched, spec) == (400, 1)
    assert not_fetched.json()["message"] == "Sorry we could not fetch the image."
    not_json = client.post("/pins", content=b"board_id=1", headers={"Content-Type": "text/plain"})
    assert error_of(not_json, spec) == (400, 1)
    assert api.pins == {}


def test_update_a_pin(api: PinterestEmulator, client: httpx.Client, board: str, spec: Spec) -> None:
    pin = client.post("/pins", json=image_pin(board, alt_text="Pasta")).json()
    section = api.add_section(board, "Dinners")
    change = {"title": "Quick Pasta", "alt_text": None, "board_section_id": section}
    spec.check(change, "PinUpdate")
    response = client.patch(f"/pins/{pin['id']}", json=change)
    assert response.status_code == 200
    updated = response.json()
    spec.check(updated, "Pin")
    assert updated["title"] == "Quick Pasta"
    assert (updated["alt_text"], updated["board_section_id"]) == (None, section)
    assert updated["media"] == pin["media"]
    other = api.add_board("Weeknights")
    moved = client.patch(f"/pins/{pin['id']}", json={"board_id": other}).json()
    assert (moved["board_id"], moved["board_section_id"]) == (other, None)
    assert api.pins[pin["id"]] == moved

    not_updatable = {"media_source": {"source_type": "image_url", "url": "https://e.com/a.jpg"}}
    assert spec.valid(not_updatable, "PinUpdate")  # looser than the service again
    refused: list[dict[str, Any]] = [
        not_updatable,
        {"dominant_color": "#000000"},
        {"carousel_slots": []},
    ]
    for body in refused:
        assert error_of(client.patch(f"/pins/{pin['id']}", json=body), spec) == (400, 1)
    too_long = {"title": "t" * 101}
    assert not spec.valid(too_long, "PinUpdate")
    assert error_of(client.patch(f"/pins/{pin['id']}", json=too_long), spec) == (400, 1)
    wrong_section = {"board_section_id": section}
    assert error_of(client.patch(f"/pins/{pin['id']}", json=wrong_section), spec) == (404, 2031)
    assert error_of(client.patch(f"/pins/{pin['id']}", json={"board_id": "1"}), spec) == (404, 40)
    assert error_of(client.patch("/pins/42", json={"title": "x"}), spec) == (404, 50)


def test_get_and_delete_a_pin(
    api: PinterestEmulator, client: httpx.Client, board: str, spec: Spec
) -> None:
    pin_id = client.post("/pins", json=image_pin(board)).json()["id"]
    deleted = client.delete(f"/pins/{pin_id}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert "x-pinterest-rid" in deleted.headers
    assert api.pins == {}
    not_found = client.get(f"/pins/{pin_id}")
    assert error_of(not_found, spec) == (404, 50)
    assert not_found.json()["message"] == "Pin not found."
    assert error_of(client.delete(f"/pins/{pin_id}"), spec) == (404, 50)
    assert error_of(client.get("/pins/pasta"), spec) == (400, 1)


# Video


def register_video(client: httpx.Client, spec: Spec) -> dict[str, Any]:
    body = {"media_type": "video"}
    spec.check(body, "MediaUploadCreate")
    response = client.post("/media", json=body)
    assert response.status_code == 201
    upload: dict[str, Any] = response.json()
    spec.check(upload, "MediaUpload")
    spec.check_fields(upload, "MediaUpload")
    return upload


def media_status(client: httpx.Client, spec: Spec, media_id: str) -> str:
    media = client.get(f"/media/{media_id}").json()
    spec.check(media, "Media")
    spec.check_fields(media, "Media")
    status: str = media["status"]
    return status


def test_video_pin_register_upload_poll_create(
    api: PinterestEmulator, client: httpx.Client, board: str, spec: Spec
) -> None:
    upload = register_video(client, spec)
    media_id = upload["media_id"]
    assert upload["upload_url"] == f"{api.origin}/upload"
    assert list(upload["upload_parameters"]) == list(UPLOAD_FIELDS)
    assert set(UPLOAD_FIELDS) == spec.properties("MediaUploadParameters")
    assert media_status(client, spec, media_id) == "registered"
    video = {"source_type": "video_id", "media_id": media_id, "cover_image_key_frame_time": 1}
    too_early = client.post("/pins", json=image_pin(board, media_source=video))
    assert error_of(too_early, spec) == (400, 1)

    with local_client() as s3:
        files = {"file": ("clip.mp4", MP4, "video/mp4")}
        stored = s3.post(upload["upload_url"], data=upload["upload_parameters"], files=files)
    assert stored.status_code == 204
    assert stored.content == b""
    assert "x-amz-request-id" in stored.headers
    assert [media_status(client, spec, media_id) for _ in range(2)] == ["processing", "succeeded"]

    no_cover = {"source_type": "video_id", "media_id": media_id}
    refused = client.post("/pins", json=image_pin(board, media_source=no_cover))
    assert error_of(refused, spec) == (400, 1)
    assert "cover_image_url or cover_image_content_type" in refused.json()["message"]
    half_cover = {**no_cover, "cover_image_data": base64.b64encode(PNG).decode()}
    half_refused = client.post("/pins", json=image_pin(board, media_source=half_cover))
    assert error_of(half_refused, spec) == (400, 1)

    body = image_pin(board, media_source=video)
    spec.check(body, "PinCreate")
    created = client.post("/pins", json=body)
    assert created.status_code == 201
    pin = created.json()
    spec.check(pin, "Pin")
    spec.check_fields(pin["media"], "PinMediaWithVideo")
    assert (pin["creative_type"], pin["media"]["media_type"]) == ("VIDEO", "video")
    assert error_of(client.get("/media/999"), spec) == (404, 404)


def test_upload_is_an_s3_presigned_post(
    api: PinterestEmulator, client: httpx.Client, board: str, spec: Spec
) -> None:
    upload = register_video(client, spec)
    url, fields = upload["upload_url"], upload["upload_parameters"]
    in_order = [(name, value.encode()) for name, value in fields.items()]

    def s3_error(response: httpx.Response) -> tuple[int, str]:
        assert response.headers["content-type"] == "application/xml"
        found = re.search(r"<Code>(\w+)</Code>", response.text)
        assert found is not None
        return response.status_code, found.group(1)

    with local_client() as s3:
        body, content_type = multipart([*in_order, ("file", MP4)])
        chunked = s3.post(url, content=iter([body]), headers={"Content-Type": content_type})
        assert "content-length" not in api.requests(path_prefix="/upload")[-1].headers
        assert s3_error(chunked) == (411, "MissingContentLength")

        body, content_type = multipart([*in_order[:-1], ("file", MP4), in_order[-1]])
        late_field = s3.post(url, content=body, headers={"Content-Type": content_type})
        assert s3_error(late_field) == (400, "InvalidArgument")
        assert "x-amz-signature" in late_field.text

        body, content_type = multipart(in_order)
        no_file = s3.post(url, content=body, headers={"Content-Type": content_type})
        assert s3_error(no_file) == (400, "InvalidArgument")

        forged = {**fields, "x-amz-signature": "0" * 64}
        files = {"file": ("clip.mp4", MP4, "video/mp4")}
        assert s3_error(s3.post(url, data=forged, files=files)) == (403, "AccessDenied")

        bearer = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
        with_token = s3.post(url, data=fields, files=files, headers=bearer)
        assert s3_error(with_token) == (400, "InvalidArgument")

        assert s3_error(s3.post(url, data=fields)) == (412, "PreconditionFailed")

        cover_instead = {"file": ("cover.png", PNG, "image/png")}
        assert s3.post(url, data=fields, files=cover_instead).status_code == 204
    statuses = [media_status(client, spec, upload["media_id"]) for _ in range(2)]
    assert statuses == ["processing", "failed"]
    video = {
        "source_type": "video_id",
        "media_id": upload["media_id"],
        "cover_image_url": "https://example.com/cover.jpg",
    }
    failed_video = client.post("/pins", json=image_pin(board, media_source=video))
    assert error_of(failed_video, spec) == (400, 1)
    assert error_of(client.post("/media", json={"media_type": "image"}), spec) == (400, 1)


# Rate limits


def test_write_limit_per_minute(spec: Spec) -> None:
    with PinterestEmulator(write_limit_per_minute=2, minute=0.4) as api, authorized(api) as client:
        board = api.add_board("Recipes")
        for _ in range(2):
            assert client.post("/pins", json=image_pin(board)).status_code == 201
        limited = client.post("/pins", json=image_pin(board))
        assert error_of(limited, spec) == (429, 8)
        wait = float(limited.headers["retry-after"])
        assert 0 < wait <= 0.4
        assert client.get("/boards").status_code == 200
        time.sleep(wait)
        assert client.post("/pins", json=image_pin(board)).status_code == 201


def test_writes_to_one_pin_too_close_together(spec: Spec) -> None:
    with PinterestEmulator(object_write_interval=0.3) as api, authorized(api) as client:
        board = api.add_board("Recipes")
        pin_id = client.post("/pins", json=image_pin(board)).json()["id"]
        too_soon = client.patch(f"/pins/{pin_id}", json={"title": "Again"})
        assert error_of(too_soon, spec) == (429, 8)
        time.sleep(float(too_soon.headers["retry-after"]))
        assert client.patch(f"/pins/{pin_id}", json={"title": "Again"}).status_code == 200
        assert error_of(client.delete(f"/pins/{pin_id}"), spec) == (429, 8)


def test_spam_block(api: PinterestEmulator, client: httpx.Client, board: str, spec: Spec) -> None:
    api.spam_block()
    blocked = client.post("/pins", json=image_pin(board))
    assert error_of(blocked, spec)[0] == 429
    assert blocked.json()["message"] == SPAM_MESSAGE
    assert "spam" in blocked.json()["message_detail"]
    assert api.pins == {}
    assert client.post("/pins", json=image_pin(board)).status_code == 201
