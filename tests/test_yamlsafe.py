from __future__ import annotations

import pytest

from reconciler import yamlsafe
from reconciler.errors import InputError


def error_of(text: str) -> InputError:
    with pytest.raises(InputError) as caught:
        yamlsafe.load(text, "pins/x.yaml")
    return caught.value


def test_values_and_keys_have_positions() -> None:
    doc = yamlsafe.load("pins:\n  - id: a\n    title: Hello\n", "pins/x.yaml")
    assert doc.data == {"pins": [{"id": "a", "title": "Hello"}]}
    assert str(doc.location(("pins", 0, "title"))) == "pins/x.yaml:3:12"
    assert str(doc.location(("pins", 0, "title"), key=True)) == "pins/x.yaml:3:5"
    # A path that does not exist points at its nearest parent.
    assert str(doc.location(("pins", 0, "nope"))) == "pins/x.yaml:2:5"


def test_timestamps_stay_text_quoted_or_not() -> None:
    doc = yamlsafe.load("a: 2026-12-01T14:00:00Z\nb: '2026-12-01T14:00:00Z'\n", "f.yaml")
    assert doc.data == {"a": "2026-12-01T14:00:00Z", "b": "2026-12-01T14:00:00Z"}


def test_aliases_are_refused() -> None:
    error = error_of("a: &x [1, 2]\nb: *x\n")
    assert str(error.location) == "pins/x.yaml:1:4"
    assert "anchors and aliases are not allowed" in error.message


def test_billion_laughs_is_refused_before_expanding() -> None:
    bomb = (
        'a: &a ["lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\n'
    )
    assert "anchors and aliases" in error_of(bomb).message


def test_duplicate_keys_are_reported_at_the_second() -> None:
    error = error_of("id: a\ntitle: One\ntitle: Two\n")
    assert str(error) == (
        "pins/x.yaml:3:1: duplicate key 'title' (first set on line 2) (keep only one of them)"
    )


def test_non_string_keys_are_refused() -> None:
    assert "mapping keys must be strings, not 'yes'" in error_of("yes: 1\n").message
    assert "not '1'" in error_of("1: a\n").message


def test_odd_tags_are_refused() -> None:
    error = error_of("a: !!python/object:os.system {}\n")
    assert (
        "the YAML tag 'tag:yaml.org,2002:python/object:os.system' is not allowed" in error.message
    )
    assert "is not allowed" in error_of("a: !custom x\n").message
    assert "is not allowed" in error_of("a: !!binary aGk=\n").message


def test_deep_nesting_is_refused() -> None:
    error = error_of("a: " + "[" * 100 + "]" * 100 + "\n")
    assert "nested more than 32 levels" in error.message


def test_large_files_are_refused() -> None:
    error = error_of("a: " + "x" * (yamlsafe.MAX_BYTES + 1))
    assert "the limit is 8,388,608" in error.message


def test_invalid_yaml_has_a_location() -> None:
    error = error_of("id: a\ntitle: [unclosed\n")
    assert error.location is not None and error.location.line == 3
    assert error.message.startswith("invalid YAML:")


def test_several_documents_are_refused() -> None:
    assert "more than one YAML document" in error_of("a: 1\n---\nb: 2\n").message


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(InputError, match="not valid UTF-8"):
        yamlsafe.load(b"a: \xff\n", "f.yaml")
