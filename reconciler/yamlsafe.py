"""Hardened YAML loading that remembers where every value came from.

Manifests come from strangers' pull requests, so the loader refuses what YAML can be abused for:
anchors and aliases (billion laughs), deep nesting, huge files, duplicate keys (PyYAML would keep
the last one silently), non-string keys and any tag beyond plain data. Positions are recorded while
the single parse builds the data, as 1-based line and column per path of keys and indexes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.errors import InputError, Location

MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 32

JsonPath = tuple[str | int, ...]

_PLAIN_TAGS = {
    "tag:yaml.org,2002:" + name
    for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
}


@dataclass
class Document:
    """A parsed YAML file: plain data plus the position of every value and mapping key."""

    file: str
    data: Any
    values: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)

    def location(self, path: JsonPath, *, key: bool = False) -> Location:
        """The position of the value at `path` (or of its key), else of its nearest parent."""
        table = self.keys if key and path in self.keys else self.values
        while path and path not in table:
            path = path[:-1]
            table = self.values
        line, column = table.get(path, (1, 1))
        return Location(self.file, line, column)


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and anchors and bounds nesting while composing."""

    def __init__(self, stream: str, file: str) -> None:
        super().__init__(stream)
        self._file = file
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, AliasEvent) or (
            isinstance(event, ScalarEvent | CollectionStartEvent) and event.anchor
        ):
            raise InputError(
                "YAML anchors and aliases are not allowed",
                location=_location(self._file, event.start_mark),
                hint="write the value out in full, or use `defaults:` to share fields",
            )
        if isinstance(event, CollectionStartEvent):
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise InputError(
                    f"the document is nested more than {MAX_DEPTH} levels deep",
                    location=_location(self._file, event.start_mark),
                    hint="flatten the structure",
                )
        node = super().compose_node(parent, index)
        if isinstance(event, CollectionStartEvent):
            self._depth -= 1
        return node


def _location(file: str, mark: Any) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


def load(text: str | bytes, file: str) -> Document:
    """Parse one YAML document; raise InputError with a location for anything unsafe or broken."""
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
                f"the file is not valid UTF-8 (byte {exc.start})",
                location=Location(file),
                hint="save it as UTF-8",
            ) from None
    loader = _Loader(text, file)
    try:
        node = loader.get_single_node()
        document = Document(file, None)
        if node is not None:
            document.data = _build(loader, node, (), document)
        return document
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if exc.context and "expected a single document" in exc.context:
            problem = "the file holds more than one YAML document"
        raise InputError(
            f"invalid YAML: {problem}",
            location=_location(file, mark) if mark else Location(file),
            hint="check the indentation and quoting around this place",
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", location=Location(file)) from None
    finally:
        loader.dispose()


def _build(loader: _Loader, node: Node, path: JsonPath, document: Document) -> Any:
    file = document.file
    document.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if node.tag not in _PLAIN_TAGS:
        raise InputError(
            f"the YAML tag {node.tag!r} is not allowed",
            location=_location(file, node.start_mark),
            hint="remove the tag; manifests hold plain strings, numbers, lists and mappings",
        )
    if isinstance(node, ScalarNode):
        if node.tag in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp"):
            # Timestamps stay text: quoted or not, `publish_at` then reads the same.
            return node.value
        return loader.construct_object(node, deep=False)
    if isinstance(node, SequenceNode):
        return [_build(loader, item, (*path, i), document) for i, item in enumerate(node.value)]
    assert isinstance(node, MappingNode)
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if not (isinstance(key_node, ScalarNode) and key_node.tag == "tag:yaml.org,2002:str"):
            shown = key_node.value if isinstance(key_node, ScalarNode) else "a collection"
            raise InputError(
                f"mapping keys must be strings, not {shown!r}",
                location=_location(file, key_node.start_mark),
                hint=f'quote the key: "{shown}"' if isinstance(key_node, ScalarNode) else "",
            )
        key = key_node.value
        if key in result:
            first_line, _ = document.keys[(*path, key)]
            raise InputError(
                f"duplicate key {key!r} (first set on line {first_line})",
                location=_location(file, key_node.start_mark),
                hint="keep only one of them",
            )
        document.keys[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        result[key] = _build(loader, value_node, (*path, key), document)
    return result
