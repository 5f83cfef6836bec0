from __future__ import annotations

import pytest

from reconciler import yamlsafe
from reconciler.errors import InputError
from tests.conftest import PROJECT


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
        "pins/x.yaml:3:1: duplicate key 'title', first set on line 2 (keep only one of them)"
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


# libyaml's C parser and PyYAML's pure one feed the same builder: same data, same positions.

SAME_EITHER_WAY = [
    "pins:\n  - id: a\n    title: Hello\n",
    "a: 0o17\nb: 0x1F\nc: 1_000\nd: .inf\ne: ~\nf: 1e3\ng: 0017\nh: yes\ni: 2026-12-01\n",
    "a: 'x\u2028y'\nb: c\r\nd: é\u0085e: 1\n",
    "\ufeffa: 1\n",
    "a: |\n  x\n   y\nb: >\n  p\n\n  q\nc: >-\n  folded\n  text\n",
    "a: {b: [c, {d: e}]}\nf: [ 'g' , \"h\" ]\n",
    'key: "\\u00e9\\x41\\t"\n"quoted key": 1\n',
    "# only a comment\n",
    "",
    "---\n",
    "- 東京 ラーメン\n- Москва: борщ\n-   - nested\n    - list\n",
    "a: !!str 12\nb: !!int '7'\nc: ! 3\n",
]


@pytest.mark.skipif(not yamlsafe.LIBYAML, reason="PyYAML was built without libyaml")
@pytest.mark.parametrize("text", SAME_EITHER_WAY)
def test_c_and_pure_parsers_give_the_same_data_and_positions(text: str) -> None:
    fast = yamlsafe.load(text, "f.yaml", libyaml=True)
    pure = yamlsafe.load(text, "f.yaml", libyaml=False)
    assert (fast.data, fast.values, fast.keys) == (pure.data, pure.values, pure.keys)


@pytest.mark.skipif(not yamlsafe.LIBYAML, reason="PyYAML was built without libyaml")
def test_c_and_pure_parsers_agree_on_the_example_manifests() -> None:
    for path in sorted((PROJECT / "pins").rglob("*.yaml")):
        raw = path.read_bytes()
        fast = yamlsafe.load(raw, path.name, libyaml=True)
        pure = yamlsafe.load(raw, path.name, libyaml=False)
        assert (fast.data, fast.values, fast.keys) == (pure.data, pure.values, pure.keys)


@pytest.mark.skipif(not yamlsafe.LIBYAML, reason="PyYAML was built without libyaml")
@pytest.mark.parametrize(
    "text",
    [
        "id: a\ntitle: [unclosed\n",
        "a: b: c\n",
        "- a\nb: c\n",
        "a:\n  - b\n - c\n",
        "a: 1\n---\nb: 2\n",
        "a: &x [1, 2]\nb: *x\n",
        "a: *nowhere\n",
        "yes: 1\n",
        "? [a]\n: b\n",
        "{a: 1, a: 2}",
        "a: !!int x\n",
        "a: !custom x\n",
        "a: " + "[" * 40 + "]" * 40,
    ],
)
def test_c_and_pure_parsers_refuse_the_same_input_at_the_same_place(text: str) -> None:
    fast, pure = error_of_parser(text, libyaml=True), error_of_parser(text, libyaml=False)
    assert fast.location == pure.location
    if not fast.message.startswith("invalid YAML:"):  # syntax errors are worded by each parser
        assert fast.message == pure.message


def error_of_parser(text: str, *, libyaml: bool) -> InputError:
    with pytest.raises(InputError) as caught:
        yamlsafe.load(text, "pins/x.yaml", libyaml=libyaml)
    return caught.value


@pytest.mark.parametrize("libyaml", [True, False])
def test_nesting_far_deeper_than_the_limit_is_refused_without_crashing(libyaml: bool) -> None:
    # PyYAML's C composer would recurse a million levels on the C stack and crash.
    text = "a: " + "[" * 1_000_000 + "]" * 1_000_000
    error = error_of_parser(text, libyaml=libyaml and yamlsafe.LIBYAML)
    assert "nested more than 32 levels" in error.message


@pytest.mark.parametrize("libyaml", [True, False])
def test_unprintable_characters_are_an_input_error(libyaml: bool) -> None:
    error = error_of_parser("a: \x01\n", libyaml=libyaml and yamlsafe.LIBYAML)
    assert error.message.startswith("invalid YAML:")
