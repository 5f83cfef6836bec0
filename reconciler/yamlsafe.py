"""Hardened YAML loading that remembers where every value came from.

Manifests come from strangers' pull requests, so the loader refuses what YAML can be abused for:
anchors and aliases (billion laughs), deep nesting, huge files, duplicate keys (PyYAML would keep
the last one silently), non-string keys and any tag beyond plain data. Positions are recorded while
the single parse builds the data, as 1-based line and column per path of keys and indexes.

The data is built straight from the parser's events, with libyaml's C parser where PyYAML has it
and PyYAML's pure-Python parser otherwise; both feed the same code, so data and positions are the
same either way. Events rather than PyYAML's composer: its C composer recurses on the C stack and
crashes on deeply nested input before any depth check could run, and its nodes would cost a second
walk over the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from reconciler.errors import InputError, Location

MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 32
_TOO_DEEP = f"the document is nested more than {MAX_DEPTH} levels deep"
# Control characters no pin text holds (tab, newline and carriage return are text). The YAML
# reader refuses them raw; a double-quoted escape such as "\0" would still make one.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# libyaml's C parser, when PyYAML was built with it.
LIBYAML: bool = getattr(yaml, "__with_libyaml__", False)

JsonPath = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_PLAIN_TAGS = {
    "tag:yaml.org,2002:" + name
    for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
}
# PyYAML's own table of implicit tags for plain scalars (null, bool, int, float, timestamp...).
_IMPLICIT = Resolver.yaml_implicit_resolvers
_WILDCARD = tuple(_IMPLICIT.get(None, ()))
_CONSTRUCTOR = SafeConstructor()


def _may_resolve(plain: str) -> bool:
    """Whether a plain scalar may be something other than a string (most are plainly text)."""
    return bool(_WILDCARD) or plain[:1] in _IMPLICIT


_NO_KEY = object()


@dataclass
class Document:
    """A parsed YAML file: plain data plus the position of every value and mapping key."""

    file: str
    data: Any
    values: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)

    def location(self, path: JsonPath, *, key: bool = False) -> Location:
        """The position of the value at `path` (or of its key), else of its nearest parent."""
        if not key and path in self.values:  # the common case, asked for every field of every pin
            line, column = self.values[path]
            return Location(self.file, line, column)
        table = self.keys if key and path in self.keys else self.values
        while path and path not in table:
            path = path[:-1]
            table = self.values
        line, column = table.get(path, (1, 1))
        return Location(self.file, line, column)


def _location(file: str, mark: Any) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


def undecodable(error: UnicodeDecodeError, file: str) -> Location:
    """Where the bytes that are not UTF-8 stop being it: the line, and the column in characters."""
    before = error.object[: error.start]
    column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8")) + 1
    return Location(file, before.count(b"\n") + 1, column)


def load(text: str | bytes, file: str, *, libyaml: bool = LIBYAML) -> Document:
    """Parse one YAML document; raise InputError with a location for anything unsafe or broken.

    `libyaml=False` uses PyYAML's pure-Python parser even where the C one is available.
    """
    size = len(text)
    if size > MAX_BYTES:
        raise InputError(
            f"the file is {size:,} bytes; the limit is {MAX_BYTES:,}",
            location=Location(file),
            hint="split it into several files",
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                "the file is not valid UTF-8",
                location=undecodable(exc, file),
                hint="save it as UTF-8",
            ) from None
    try:
        # The pure parser's reader already refuses unprintable characters here.
        parser = yaml.CSafeLoader(text) if libyaml else yaml.SafeLoader(text)
        try:
            return _Builder(file, parser.get_event).document()
        finally:
            parser.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if "maximum nesting depth" in (exc.problem or ""):
            # libyaml (PyYAML ≥ 6.0.4) has a depth limit of its own, met before ours when its
            # scanner reads far ahead of the events; it is the same refusal.
            raise InputError(
                _TOO_DEEP, location=_location(file, mark), hint="flatten the structure"
            ) from None
        raise InputError(
            f"invalid YAML: {exc.problem or 'invalid YAML'}",
            location=_location(file, mark) if mark else Location(file),
            hint="check the indentation and quoting around this place",
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", location=Location(file)) from None


CONTROL_HINT = "remove it; only tabs and line breaks may appear in text"


def control_message(text: str) -> str:
    """What to say about the first control character in `text`."""
    found = CONTROL.search(text)
    code = ord(found.group()) if found else 0
    return f"the value holds the control character U+{code:04X}"


class _Collection:
    """A mapping or list being filled, with its path and, in a mapping, the key just read."""

    __slots__ = ("data", "key", "path")

    def __init__(self, data: dict[str, Any] | list[Any], path: JsonPath) -> None:
        self.data: Any = data
        self.path = path
        self.key: Any = _NO_KEY


class _Builder:
    """Builds plain data and positions from parser events, in one pass, without recursion."""

    def __init__(self, file: str, next_event: Any) -> None:
        self.file = file
        self.next_event = next_event
        self.doc = Document(file, None)

    def refuse(self, message: str, mark: Any, hint: str) -> InputError:
        return InputError(message, location=_location(self.file, mark), hint=hint)

    def document(self) -> Document:
        next_event = self.next_event
        next_event()  # the stream's start
        event = next_event()
        if type(event) is StreamEndEvent:
            return self.doc
        assert type(event) is DocumentStartEvent
        self.doc.data = self._content()
        next_event()  # the document's end
        event = next_event()
        if type(event) is not StreamEndEvent:
            raise InputError(
                "invalid YAML: the file holds more than one YAML document",
                location=_location(self.file, event.start_mark),
                hint="check the indentation and quoting around this place",
            )
        return self.doc

    def _content(self) -> Any:
        """Everything up to the end of the document's root node, which is returned."""
        next_event = self.next_event
        values = self.doc.values
        stack: list[_Collection] = []
        root: Any = None
        while True:
            event = next_event()
            kind = type(event)
            if kind is MappingEndEvent or kind is SequenceEndEvent:
                stack.pop()
                if not stack:
                    return root
                continue
            if kind is AliasEvent or event.anchor is not None:
                raise self.refuse(
                    "YAML anchors and aliases are not allowed",
                    event.start_mark,
                    "write the value out in full, or use `defaults:` to share fields",
                )
            mark = event.start_mark
            parent = stack[-1] if stack else None
            if parent is not None and parent.key is _NO_KEY and type(parent.data) is dict:
                parent.key = self._key(event, parent)
                continue
            if parent is None:
                path: JsonPath = ()
            elif parent.key is _NO_KEY:
                path = (*parent.path, len(parent.data))
            else:
                path = (*parent.path, parent.key)
            values[path] = (mark.line + 1, mark.column + 1)
            if kind is ScalarEvent:
                value = event.value
                if event.style == '"' and CONTROL.search(value):
                    raise self.refuse(control_message(value), mark, CONTROL_HINT)
                if event.tag is not None or (event.implicit[0] and _may_resolve(value)):
                    value = self._scalar(event)
            else:
                if len(stack) >= MAX_DEPTH:
                    raise self.refuse(
                        _TOO_DEEP,
                        mark,
                        "flatten the structure",
                    )
                self._check_tag(event.tag, _MAP if kind is MappingStartEvent else _SEQ, mark)
                value = {} if kind is MappingStartEvent else []
            if parent is None:
                root = value
            elif parent.key is _NO_KEY:
                parent.data.append(value)
            else:
                parent.data[parent.key] = value
                parent.key = _NO_KEY
            if kind is ScalarEvent:
                if parent is None:
                    return root
            else:
                stack.append(_Collection(value, path))

    def _check_tag(self, tag: str | None, default: str, mark: Any) -> str:
        if tag is None or tag == "!":
            return default
        if tag not in _PLAIN_TAGS:
            raise self.refuse(
                f"the YAML tag {tag!r} is not allowed",
                mark,
                "remove the tag; manifests hold plain strings, numbers, lists and mappings",
            )
        return tag

    def _scalar_tag(self, event: ScalarEvent) -> str:
        tag = event.tag
        if (tag is None or tag == "!") and event.implicit[0]:
            value = event.value
            for resolved, pattern in (*_IMPLICIT.get(value[:1], ()), *_WILDCARD):
                if pattern.match(value):
                    return self._check_tag(resolved, _STR, event.start_mark)
        return self._check_tag(tag, _STR, event.start_mark)

    def _scalar(self, event: ScalarEvent) -> Any:
        tag = self._scalar_tag(event)
        if tag in (_STR, _TIMESTAMP):
            # Timestamps stay text: quoted or not, `publish_at` then reads the same.
            return event.value
        if tag in (_MAP, _SEQ):
            raise self.refuse(
                f"the YAML tag {tag!r} is not allowed on a plain value",
                event.start_mark,
                "remove the tag",
            )
        try:
            return _CONSTRUCTOR.construct_object(ScalarNode(tag, event.value), deep=False)
        except (ValueError, KeyError, yaml.YAMLError):
            # Only an explicit tag gets here with text the tag cannot read, e.g. `!!int x`.
            raise self.refuse(
                f"{event.value!r} is not a valid {tag.rsplit(':', 1)[-1]}",
                event.start_mark,
                "remove the tag, or quote the value to make it a string",
            ) from None

    def _key(self, event: Any, parent: _Collection) -> str:
        mark = event.start_mark
        if type(event) is not ScalarEvent:
            raise self.refuse("mapping keys must be strings, not 'a collection'", mark, "")
        key: str = event.value
        tag = _STR
        if event.tag is not None or (event.implicit[0] and _may_resolve(key)):
            try:
                tag = self._scalar_tag(event)
            except InputError:
                tag = ""
        if tag != _STR:
            raise self.refuse(
                f"mapping keys must be strings, not {key!r}", mark, f'quote the key: "{key}"'
            )
        path = (*parent.path, key)
        if key in parent.data:
            first_line, _ = self.doc.keys[path]
            raise self.refuse(
                f"duplicate key {key!r}, first set on line {first_line}",
                mark,
                "keep only one of them",
            )
        self.doc.keys[path] = (mark.line + 1, mark.column + 1)
        return key
