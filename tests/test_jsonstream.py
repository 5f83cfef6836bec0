"""A JSON object read a piece at a time (jsonstream.py): the values json.loads gives, wherever the
pieces are cut, and a refusal wherever json.loads refuses."""

from __future__ import annotations

import io
import json
import random
from typing import Any

import pytest

from reconciler import jsonstream

CUTS = [1, 2, 3, 7, 64, jsonstream.CHUNK]

TEXTS = [
    "{}",
    ' { "a" : 1 , "b":{"c":[1,2,{"d":"é"}],"e":12345678901234567890}, "f": {} , "g":-1.5e10 } \n',
    '{"a":{"b":1,"b":2},"a":{"x":"y"}}',
    '{"n": 123456789}',
    '{"a":-0.5E-3,"b":{"c":1e5,"d":NaN,"e":-Infinity}}',
    '{"s":"' + "x" * 100 + '\\"}"}',
    '{"a":true,"b":{"c":null,"d":false}}',
    # Refused, as by json.loads:
    '{"a":1}{',
    '{"a":}',
    '{"a" 1}',
    '{"a":1,}',
    '{"a":1',
    '{"a":{"b":[1,2',
    '{"a":tru}',
    '{"a":1 2}',
    '{"a":1} x',
    "\ufeff{}",
    "",
    "  ",
]


def loads(text: str) -> tuple[str, Any]:
    try:
        return "value", json.loads(text)
    except ValueError:
        return "refused", None


def streamed(data: bytes, chunk: int) -> tuple[str, Any]:
    try:
        return "value", jsonstream.load_object(io.BytesIO(data), chunk)
    except ValueError:
        return "refused", None


@pytest.mark.parametrize("chunk", CUTS)
@pytest.mark.parametrize("text", TEXTS)
def test_the_same_as_json_loads(text: str, chunk: int) -> None:
    assert streamed(text.encode(), chunk) == loads(text)


def test_what_is_not_an_object_is_left_to_json_loads() -> None:
    for text in ("[1]", '"a"', "1"):
        assert streamed(text.encode(), 4)[0] == "refused"


def test_bytes_that_are_not_utf8_are_refused() -> None:
    with pytest.raises(UnicodeDecodeError):
        jsonstream.load_object(io.BytesIO(b'{"a": "\xff"}'))


def test_a_large_state_like_object_read_in_small_pieces() -> None:
    chooser = random.Random(7)
    words = ["Zürich", "東京", "борщ", "pasta", 'a "quote"', "back\\slash", "tab\t", "😀"]

    def value(depth: int) -> Any:
        kind = chooser.randrange(7 if depth < 3 else 4)
        if kind == 0:
            return chooser.choice([chooser.randrange(-(10**12), 10**12), chooser.random() * 1e6])
        if kind == 1:
            return " ".join(chooser.choices(words, k=chooser.randrange(0, 30)))
        if kind == 2:
            return chooser.choice([True, False, None])
        if kind == 3:
            return chooser.randrange(10)
        if kind == 4:
            return [value(depth + 1) for _ in range(chooser.randrange(4))]
        return {f"k{n}": value(depth + 1) for n in range(chooser.randrange(5))}

    data: dict[str, Any] = {
        "boards": {"main": {"Recipes": "123"}},
        "pins": {f"pin-{n}": {"fields": value(1), "n": n} for n in range(2000)},
        "serial": 12,
        "version": 1,
    }
    for indent in (None, 2):
        text = json.dumps(data, indent=indent, ensure_ascii=False)
        for chunk in (5, 333, 4096):
            found = jsonstream.load_object(io.BytesIO(text.encode()), chunk)
            assert found == data and list(found["pins"]) == list(data["pins"])


def test_each_member_of_a_named_object_is_converted_as_it_is_read() -> None:
    data = {"pins": {"a": {"n": 1}, "b": {"n": 2}}, "other": {"c": {"n": 3}}, "pinsx": 1}
    seen: list[Any] = []

    def convert(value: Any) -> Any:
        seen.append(value)
        return ("made", value["n"])

    for chunk in (3, jsonstream.CHUNK):
        seen.clear()
        found = jsonstream.load_object(
            io.BytesIO(json.dumps(data).encode()), chunk, each={"pins": convert}
        )
        assert found == {**data, "pins": {"a": ("made", 1), "b": ("made", 2)}}
        assert seen == [{"n": 1}, {"n": 2}]


def test_a_member_that_cannot_be_converted_is_refused() -> None:
    def convert(value: Any) -> Any:
        raise ValueError(f"not one: {value}")

    with pytest.raises(ValueError, match="not one"):
        jsonstream.load_object(io.BytesIO(b'{"pins": {"a": 1}}'), each={"pins": convert})
