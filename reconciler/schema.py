"""JSON Schema validation against the files in schemas/, errors mapped back to file positions.

Two validators: jsonschema-rs, compiled and about a hundred times faster, answers whether a
document is valid, which it nearly always is; only an invalid one goes through the `jsonschema`
package, whose detailed errors say which keyword failed and where, for the located messages below.
`jsonschema` is imported only then.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from reconciler.errors import Location, Problem
from reconciler.yamlsafe import Document, JsonPath

if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError

PIN_FILE = "pin-file.schema.json"
CONFIG = "config.schema.json"
STATE = "state.schema.json"


def _folder() -> Path:
    """schemas/ ships inside the package in a wheel; a source checkout keeps it at the top."""
    packaged = Path(__file__).parent / "schemas"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "schemas"


def schema_text(name: str) -> str:
    return (_folder() / name).read_text(encoding="utf-8")


@cache
def _schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text(name))
    return loaded


def property_pattern(name: str, prop: str) -> str:
    """The pattern a top-level property of schema `name` must match (one rule, one place: the
    CLI's overrides are checked against the schema's own)."""
    pattern: str = _schema(name)["properties"][prop]["pattern"]
    return pattern


def _target(name: str, definition: str | None) -> dict[str, Any]:
    root = _schema(name)
    return {"$ref": f"{root['$id']}#/$defs/{definition}"} if definition else root


@cache
def _fast_validator(name: str, definition: str | None) -> jsonschema_rs.Draft202012Validator:
    root = _schema(name)
    registry = jsonschema_rs.Registry([(root["$id"], root)])
    # Formats are annotations in draft 2020-12, as the `jsonschema` validator below treats them.
    return jsonschema_rs.Draft202012Validator(
        _target(name, definition), registry=registry, validate_formats=False
    )


@cache
def _validator(name: str, definition: str | None) -> jsonschema.Draft202012Validator:
    import jsonschema
    from referencing import Registry, Resource

    root = _schema(name)
    registry: Registry[Any] = Registry().with_resource(root["$id"], Resource.from_contents(root))
    return jsonschema.Draft202012Validator(_target(name, definition), registry=registry)


def is_valid(data: Any, name: str, definition: str | None = None) -> bool:
    """Whether `data` is valid, by the compiled validator."""
    try:
        return bool(_fast_validator(name, definition).is_valid(data))
    except ValueError:
        return False  # not JSON-like (a non-string key): let the detailed path say what is wrong


def check(
    data: Any, name: str, definition: str | None = None, document: Document | None = None
) -> list[Problem]:
    """Validate `data` against a schema (or one of its $defs); one located problem per error.

    In a long list of pins, only the pins the compiled validator refuses go through the slow
    one: their errors are the same as in the whole document's, at a fraction of the cost."""
    if is_valid(data, name, definition):
        return []
    doc = document or Document(name, data)
    listed = _LISTS.get((name, definition))
    if listed is None or not isinstance(data, dict) or not isinstance(data.get(listed[0]), list):
        return sorted(_located(data, name, definition, doc, ()), key=lambda p: p.location)
    key, item = listed
    rest = {**data, key: []}
    problems = [] if is_valid(rest, name, definition) else _located(rest, name, definition, doc, ())
    for index, element in enumerate(data[key]):
        if not is_valid(element, name, item):
            problems += _located(element, name, item, doc, (key, index))
    return sorted(problems, key=lambda p: p.location)


# Definitions holding a list of items of another definition: (schema, definition) → (key, item).
_LISTS: dict[tuple[str, str | None], tuple[str, str]] = {(PIN_FILE, "pinList"): ("pins", "pin")}


def _located(
    data: Any, name: str, definition: str | None, doc: Document, prefix: JsonPath
) -> list[Problem]:
    """The detailed validator's errors, for `data` found at `prefix` in `doc`."""
    errors = _validator(name, definition).iter_errors(data)
    return [_problem(error, doc, prefix) for error in errors]


def check_expanded(name: str, value: Any, location: Location) -> list[Problem]:
    """Check the value a template in manifest field `name` expanded to, as if it had been written
    out: the schema lets templates themselves through. Problems are placed at the template."""
    data = {name: value}
    wrapper = _expanded_schema(name)
    if wrapper is None:
        return []
    try:
        if _fast_expanded_validator(name).is_valid(data):
            return []
    except ValueError:
        pass  # not JSON-like: the detailed validator says what is wrong
    validator = _expanded_validator(name)
    doc = Document(location.file, data, values={(): (location.line, location.column)})
    return [_problem(error, doc) for error in validator.iter_errors(data)]


@cache
def _expanded_schema(name: str) -> dict[str, Any] | None:
    """The schema of a value field `name` holds once its template is expanded."""
    definitions = _schema(PIN_FILE)["$defs"]
    field = definitions["pin"]["properties"].get(name) or definitions["fields"]["properties"].get(
        name
    )
    if field is None:
        return None
    return {"type": "object", "properties": {name: _written_out(field)}}


@cache
def _fast_expanded_validator(name: str) -> jsonschema_rs.Draft202012Validator:
    # Every templated field of every generated pin is checked: the compiled validator says
    # whether it is valid, the detailed one below what is wrong where it is not.
    wrapper = _expanded_schema(name)
    assert wrapper is not None
    return jsonschema_rs.Draft202012Validator(wrapper, validate_formats=False)


@cache
def _expanded_validator(name: str) -> jsonschema.Draft202012Validator:
    import jsonschema

    wrapper = _expanded_schema(name)
    assert wrapper is not None
    return jsonschema.Draft202012Validator(wrapper)


def _written_out(field: dict[str, Any]) -> dict[str, Any]:
    """A field's schema as it applies to a value that is not a template: its `else` branch."""
    result = {k: v for k, v in field.items() if k not in ("if", "then", "else")}
    result.update(field.get("else", {}))
    if isinstance(result.get("items"), dict):
        result["items"] = _written_out(result["items"])
    return result


def _field(path: JsonPath) -> str:
    names = [str(part) for part in path if isinstance(part, str)]
    return names[-1] if names else "the document"


def _known_properties(schema: dict[str, Any], root: dict[str, Any]) -> set[str]:
    known = set(schema.get("properties", {}))
    ref = schema.get("$ref", "")
    if "#/$defs/" in ref:
        known |= _known_properties(root["$defs"][ref.rsplit("/", 1)[1]], root)
    return known


def _problem(error: ValidationError, doc: Document, prefix: JsonPath = ()) -> Problem:
    path: JsonPath = (*prefix, *error.absolute_path)
    field = _field(path)
    explain = _EXPLAINED.get(str(error.validator), _as_said)
    return explain(error, doc, path, field) or _as_said(error, doc, path, field)


# Each explains one failed keyword; None when the keyword's case is not one it knows.
_Explain = Callable[["ValidationError", Document, JsonPath, str], Problem | None]


def _as_said(error: ValidationError, doc: Document, path: JsonPath, field: str) -> Problem:
    return Problem(doc.location(path), f"{field}: {error.message}", "")


def _too_long(error: ValidationError, doc: Document, path: JsonPath, field: str) -> Problem:
    instance: Any = error.instance
    limit: Any = error.validator_value
    length = len(instance)
    return Problem(
        doc.location(path),
        f"{field} is {length} characters; the limit is {limit}",
        f"shorten it by {length - limit}",
    )


def _empty(error: ValidationError, doc: Document, path: JsonPath, field: str) -> Problem:  # noqa: ARG001
    return Problem(doc.location(path), f"{field} is empty", "give it a value or remove the key")


def _unknown_field(error: ValidationError, doc: Document, path: JsonPath, field: str) -> Problem:  # noqa: ARG001
    sub_schema: Any = error.schema
    instance: Any = error.instance
    known = _known_properties(sub_schema, _schema(PIN_FILE))
    unknown = sorted(k for k in instance if k not in known)
    name = unknown[0] if unknown else "?"
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(sorted(known))}"
    return Problem(doc.location((*path, name), key=True), f"unknown field '{name}'", hint)


def _missing(error: ValidationError, doc: Document, path: JsonPath, field: str) -> Problem:  # noqa: ARG001
    value: Any = error.validator_value
    instance: Any = error.instance
    missing = [k for k in value if k not in instance]
    return Problem(doc.location(path), f"'{missing[0]}' is required here", f"add {missing[0]}:")


def _wrong_type(error: ValidationError, doc: Document, path: JsonPath, field: str) -> Problem:
    value: Any = error.validator_value
    expected = value if isinstance(value, str) else " or ".join(value)
    return Problem(
        doc.location(path),
        f"{field} must be {_article(expected)}, not {_json_type(error.instance)}",
        "quote it to make it a string" if expected == "string" else "",
    )


def _invalid(error: ValidationError, doc: Document, path: JsonPath, field: str) -> Problem:
    instance: Any = error.instance
    if "propertyNames" in error.schema_path:
        return Problem(
            doc.location((*path, instance), key=True),
            f"{field}: the name {instance!r} is not valid",
            _pattern_hint(field),
        )
    return Problem(doc.location(path), f"{field} {instance!r} is not valid", _pattern_hint(field))


def _taken(error: ValidationError, doc: Document, path: JsonPath, field: str) -> Problem | None:
    instance: Any = error.instance
    if "propertyNames" not in error.schema_path:
        return None
    return Problem(
        doc.location((*path, instance), key=True),
        f"{field}: the name {instance!r} is taken",
        "choose another name",
    )


def _not_allowed(error: ValidationError, doc: Document, path: JsonPath, field: str) -> Problem:
    value: Any = error.validator_value
    return Problem(
        doc.location(path),
        f"{field} {error.instance!r} is not one of the allowed values",
        f"use one of: {', '.join(map(str, value))}",
    )


def _no_match(error: ValidationError, doc: Document, path: JsonPath, field: str) -> Problem:
    """A value none of a field's alternatives takes (anyOf, oneOf): said in words, with what the
    field takes. At the top of a manifest: neither one pin nor a list of them."""
    if not path:
        return Problem(
            doc.location(path),
            "a manifest holds one pin (a mapping with `id`) or a `pins:` list",
            "add `id:` to describe one pin, or put pins under `pins:`",
        )
    alternatives: Any = error.validator_value
    kinds = [_article(str(s["type"])) for s in alternatives if isinstance(s.get("type"), str)]
    hint = _pattern_hint(field) or (f"use {' or '.join(kinds)}" if kinds else "")
    return Problem(doc.location(path), f"{field} {error.instance!r} is not valid", hint)


def _out_of_range(error: ValidationError, doc: Document, path: JsonPath, field: str) -> Problem:
    value: Any = error.validator_value
    return Problem(doc.location(path), f"{field} must be {error.validator} {value}", "")


_EXPLAINED: dict[str, _Explain] = {
    "maxLength": _too_long,
    "minLength": _empty,
    "additionalProperties": _unknown_field,
    "unevaluatedProperties": _unknown_field,
    "required": _missing,
    "type": _wrong_type,
    "pattern": _invalid,
    "not": _taken,
    "enum": _not_allowed,
    "oneOf": _no_match,
    "anyOf": _no_match,
    "minimum": _out_of_range,
    "maximum": _out_of_range,
}


def _article(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _json_type(value: Any) -> str:
    for kind, name in (
        (bool, "a boolean"),
        (int, "a number"),
        (float, "a number"),
        (str, "a string"),
        (list, "a list"),
        (dict, "a mapping"),
    ):
        if isinstance(value, kind):
            return name
    return "empty" if value is None else type(value).__name__


_PATTERN_HINTS = {
    "id": "use letters, digits, '.', '_' and '-', starting with a letter or digit",
    "link": "use a full https URL, e.g. https://example.com/page",
    "dominant_color": "write it as #RRGGBB, e.g. #6E7874",
    "vars": "use letters, digits and '_', starting with a letter",
    "link_params": "a query parameter name, without spaces, '&', '=' or '#'",
    "pace": "write it as COUNT/PERIOD, e.g. 30/hour",
    "media_base_url": "use an https URL",
    "state_branch": "use a git branch name, e.g. pinops-state",
    "base_url": "use an http(s) URL",
    "max_deletes": "a count, or a percentage such as 25%",
    "max_replaces": "a count, or a percentage such as 25%",
}


def _pattern_hint(field: str) -> str:
    return _PATTERN_HINTS.get(field, "")
