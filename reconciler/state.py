"""The recorded state: a record per published target and the boards' ids, in their JSON form.

`statefile` keeps it on disk: under a lock, through a journal, written atomically and durably.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

from reconciler.errors import StateError

VERSION = 1


@dataclass(slots=True)
class Record:
    """One published target (a pin on a board) as the provider knows it (slots: a state holds
    one per pin)."""

    provider: str
    account: str
    content_hash: str
    pin_id: str | None = None
    post_id: str | None = None
    url: str | None = None
    board: str | None = None
    board_id: str | None = None
    section_id: str | None = None
    media_hash: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    status: str = "published"
    published_at: str | None = None
    scheduled_at: str | None = None
    commit: str | None = None
    protect: bool = False
    replaced: str | None = None
    # Pins this one replaced that the provider refused to delete: they remain on Pinterest.
    left: list[str] | None = None
    intent: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        # Shallow: `fields` and `intent` hold plain JSON already (asdict deep-copies, slowly).
        return {
            name: value
            for name in _RECORD_FIELDS
            if (value := getattr(self, name)) is not None and value != {}
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        return cls(**{k: v for k, v in data.items() if k in _RECORD_FIELDS})


# Read once: a state holds a record per pin, and fields() is slow to ask each time.
_RECORD_FIELDS = frozenset(f.name for f in fields(Record))
# The members of records (and of their fields and media) whose values recur, from record to record
# or in the manifests: a state read holds one string of each value (statefile.read).
RECURRING = frozenset(
    {
        *("provider", "account", "board", "board_id", "section_id", "status", "commit"),
        *("content_hash", "media_hash", "file", "sha256"),
        *("section", "title", "description", "link", "alt_text", "dominant_color"),
    }
)


@dataclass
class State:
    """The recorded state. A state never written has no lineage yet: it gets one on first write."""

    lineage: str = ""
    serial: int = 0
    boards: dict[str, dict[str, str]] = field(default_factory=dict)
    pins: dict[str, Record] = field(default_factory=dict)
    version: int = VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "lineage": self.lineage,
            "serial": self.serial,
            "boards": self.boards,
            "pins": {key: record.to_json() for key, record in self.pins.items()},
        }

    def apply_entry(self, entry: dict[str, Any]) -> None:
        """Replay one journal entry."""
        match entry["op"]:
            case "record":
                self.pins[entry["key"]] = Record.from_json(entry["record"])
            case "forget":
                self.pins.pop(entry["key"], None)
            case "boards":
                self.boards[entry["account"]] = entry["boards"]
            case "serial":
                # A checkpoint pushed this serial; a later fold must write a newer one.
                self.serial = max(self.serial, entry["serial"])
            case other:
                raise StateError(f"unknown journal entry {other!r}")


def dumps(data: Any) -> str:
    """JSON with sorted keys and a trailing newline, so that git diffs of state read well.

    The text is `json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False)`'s: json's own
    indenting encoder is pure Python and generic, and took most of the time of writing a state of
    ten thousand pins, so the plain data a state holds is written here, strings by json's encoder;
    anything else falls back to json.dumps."""
    out: list[str] = []
    try:
        _indented(data, "\n", out)
    except _Unusual:
        return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    out.append("\n")
    return "".join(out)


class _Unusual(Exception):
    """A value _indented leaves to json.dumps."""


_STRING = json.encoder.encode_basestring  # json's own, in C where Python has it


def _indented(value: Any, newline: str, out: list[str]) -> None:
    """Append `value` as json.dumps writes it at the depth whose line breaks are `newline`."""
    kind = type(value)
    if kind is dict:
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key in sorted(value):
            if type(key) is not str:
                raise _Unusual
            item = value[key]
            if type(item) is str:  # most values: one piece, no call
                out.append(f"{separator}{_STRING(key)}: {_STRING(item)}")
            else:
                out.append(f"{separator}{_STRING(key)}: ")
                _indented(item, inner, out)
            separator = "," + inner
        out.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            out.append(separator)
            _indented(item, inner, out)
            separator = "," + inner
        out.append(newline + "]")
    else:
        out.append(_scalar(value))


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _STRING(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float and value == value and value not in (float("inf"), float("-inf")):
        return float.__repr__(value)
    raise _Unusual
