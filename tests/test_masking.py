"""Only the exact values of configured secrets are masked: manifest text that merely looks like a
credential is shown exactly as it is published, in every output."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote

import pytest

from reconciler import redact
from tests.conftest import Run

TOKEN = "tok_exactMaskingValue/0123+456789"
LOOKALIKES = {
    "title": "Basic tips for beginners",
    "description": (
        "Bearer of good news. secret: https://evil.example/steal and password=hunter2 "
        "or access_token=abc123def, api_key: 42; pina_ABCDEFGHIJKLMNOPQRSTUV"
    ),
    "alt_text": "Authorization: Basic dXNlcjpwYXNz",
}


@pytest.fixture
def lookalike(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("POSTPEER_API_KEY", TOKEN)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
    document = {
        "id": "lookalike",
        "board": "Recipes",
        "link": "https://example.com/x",
        "image": "media/pasta.jpg",
        **LOOKALIKES,
    }
    (repo / "pins/lookalike.yaml").write_text(json.dumps(document))
    return repo


@pytest.mark.usefixtures("lookalike")
def test_manifest_text_shaped_like_credentials_is_shown_verbatim(pinops: Run) -> None:
    text = pinops("plan")
    assert text.code == 0, text
    markdown = pinops("plan", "--format", "markdown")
    plan = json.loads(pinops("plan", "--json").out)
    (change,) = [c for c in plan["changes"] if c["key"] == "lookalike"]
    for name, value in LOOKALIKES.items():
        assert change["after"][name] == value
        assert json.dumps(value)[:60] in text.out or value[:40] in text.out
    assert "Basic tips for beginners" in markdown.out
    assert "secret: https://evil.example/steal and password=hunter2" in markdown.out
    for output in (text.out, markdown.out, json.dumps(plan)):
        assert redact.MASK not in output


def test_the_exact_secret_and_its_encodings_are_masked_everywhere(
    lookalike: Path, pinops: Run
) -> None:
    encoded = [
        quote(TOKEN, safe=""),
        base64.b64encode(TOKEN.encode()).decode(),
        json.dumps(TOKEN)[1:-1],
    ]
    text = f"{TOKEN} | {encoded[0]} | {encoded[1]}"
    (lookalike / "pins/leak.yaml").write_text(
        json.dumps(
            {
                "id": "leak",
                "board": "Recipes",
                "title": TOKEN,
                "description": text,
                "link": "https://example.com/x",
                "image": "media/pasta.jpg",
            }
        )
    )
    results = [pinops("plan"), pinops("plan", "--json"), pinops("plan", "--format", "markdown")]
    for result in results:
        rest = result.err.replace(f"::add-mask::{TOKEN}\n", "", 1)
        for form in (TOKEN, *encoded):
            assert form not in result.out + rest
    (leak,) = [c for c in json.loads(results[1].out)["changes"] if c["key"] == "leak"]
    assert leak["after"]["description"] == f"{redact.MASK} | {redact.MASK} | {redact.MASK}"


@pytest.mark.usefixtures("lookalike")
def test_add_mask_goes_to_standard_error_and_json_stays_valid(pinops: Run) -> None:
    result = pinops("plan", "--json")
    assert result.code == 0
    assert "::add-mask::" not in result.out
    assert json.loads(result.out)["format_version"] >= 1
    assert result.err.startswith(f"::add-mask::{TOKEN}\n")


@pytest.mark.usefixtures("lookalike")
@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ("pins/bad.yaml", "1 problem found"),  # a manifest that does not validate
        ("pinops.yaml", "pinops.yaml"),  # a configuration that cannot be read
    ],
)
def test_plan_json_is_a_json_document_even_when_it_fails(
    pinops: Run, repo: Path, broken: str, expected: str
) -> None:
    (repo / broken).write_text("id: [unclosed\n")
    result = pinops("plan", "--json")
    assert result.code == 1
    document = json.loads(result.out)
    assert expected in document["error"] + str(document["location"])
    assert "error:" in result.err
