"""The compiled validator agrees with the detailed one, which still locates every error."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from reconciler import schema, yamlsafe
from reconciler.errors import Location

PIN = {
    "id": "easy-pasta",
    "title": "Easy 15-Minute Pasta — crème fraîche, 東京",
    "description": "Creamy garlic pasta.",
    "link": "https://example.com/pasta?utm_source=pinterest&x=1",
    "alt_text": "A bowl of pasta",
    "image": "media/pasta.jpg",
    "board": "Recipes",
    "dominant_color": "#C8553D",
    "protect": True,
}

VARIANTS: list[tuple[str, Any]] = [
    ("valid", lambda pin: pin.get("id")),
    ("title too long", lambda pin: pin.update(title="x" * 101)),
    ("title at the limit", lambda pin: pin.update(title="é" * 100)),
    ("unknown field", lambda pin: pin.update(titel="x")),
    ("http link", lambda pin: pin.update(link="http://example.com/")),
    ("link without a dot", lambda pin: pin.update(link="https://localhost/x")),
    ("bad colour", lambda pin: pin.update(dominant_color="red")),
    ("number title", lambda pin: pin.update(title=12)),
    ("no id", lambda pin: pin.pop("id")),
    ("bad id", lambda pin: pin.update(id="-x")),
    ("empty board", lambda pin: pin.update(board="")),
    ("boards repeated", lambda pin: pin.update(boards=["A", "A"])),
    ("negative cover frame", lambda pin: pin.update(cover_frame=-1)),
    ("huge cover frame", lambda pin: pin.update(cover_frame=10**30)),
    ("float cover frame", lambda pin: pin.update(cover_frame=2.5)),
    ("protect not boolean", lambda pin: pin.update(protect="yes")),
    ("null title", lambda pin: pin.update(title=None)),
]


@pytest.mark.parametrize("change", [c for _, c in VARIANTS], ids=[n for n, _ in VARIANTS])
@pytest.mark.parametrize("definition", ["pin", "pinList"])
def test_the_fast_verdict_matches_the_detailed_validator(change: Any, definition: str) -> None:
    pin = copy.deepcopy(PIN)
    change(pin)
    data = pin if definition == "pin" else {"defaults": {"board": "Recipes"}, "pins": [pin]}
    expected = not list(schema._validator(schema.PIN_FILE, definition).iter_errors(data))
    assert schema.is_valid(data, schema.PIN_FILE, definition) is expected
    assert (schema.check(data, schema.PIN_FILE, definition) == []) is expected


def test_an_invalid_document_still_gets_every_error_located() -> None:
    text = (
        "pins:\n"
        "  - id: a\n    title: " + "x" * 101 + "\n"
        "  - id: b\n    titel: typo\n"
        "  - id: c\n    link: http://example.com\n"
    )
    document = yamlsafe.load(text, "pins/x.yaml")
    problems = schema.check(document.data, schema.PIN_FILE, "pinList", document)
    assert [str(p.location) for p in problems] == [
        "pins/x.yaml:3:12",
        "pins/x.yaml:5:5",
        "pins/x.yaml:7:11",
    ]


def test_data_that_is_not_json_like_goes_to_the_detailed_path() -> None:
    assert schema.is_valid({1: "x"}, schema.PIN_FILE, "pin") is False


@pytest.mark.parametrize("change", [c for _, c in VARIANTS], ids=[n for n, _ in VARIANTS])
def test_a_list_checked_pin_by_pin_gives_the_whole_documents_errors(change: Any) -> None:
    pin = copy.deepcopy(PIN)
    change(pin)
    others = [dict(PIN, id=f"pin-{n}") for n in range(3)]
    for extra in ({}, {"defaultz": {"board": "x"}}, {"defaults": {"board": ""}}):
        data = {**extra, "pins": [others[0], pin, *others[1:]]}
        document = yamlsafe.load(yaml.safe_dump(data, allow_unicode=True), "pins/x.yaml")
        whole = schema._located(data, schema.PIN_FILE, "pinList", document, ())
        found = schema.check(data, schema.PIN_FILE, "pinList", document)
        assert sorted(map(str, found)) == sorted(map(str, whole))
        assert [p.location for p in found] == sorted(p.location for p in whole)


# What templates expanded to, by field: generated pins check each of these.
EXPANDED: list[tuple[str, Any]] = [
    ("title", "Cast Iron Skillet"),
    ("title", "x" * 101),
    ("title", "é" * 100),
    ("title", ""),
    ("description", "d" * 801),
    ("link", "https://example.com/shop/cast-iron-skillet?utm_source=pinterest"),
    ("link", "http://example.com/"),
    ("link", "https://localhost/x"),
    ("alt_text", "A black cast iron skillet"),
    ("image", "media/sk-10.jpg"),
    ("image", ""),
    ("dominant_color", "#C8553D"),
    ("dominant_color", "red"),
    ("board", ""),
    ("board", "Recipes"),
    ("publish_at", "2027-03-01T09:00:00Z"),
]


@pytest.mark.parametrize(("name", "value"), EXPANDED, ids=[f"{n}={v[:20]!r}" for n, v in EXPANDED])
def test_an_expanded_value_gets_the_detailed_validators_verdict(name: str, value: Any) -> None:
    where = Location("pins/shop/products.yaml", 7, 12)
    detailed = list(schema._expanded_validator(name).iter_errors({name: value}))
    found = schema.check_expanded(name, value, where)
    assert (found == []) is (detailed == [])
    assert all(problem.location == where for problem in found)
