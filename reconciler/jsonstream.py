"""A JSON object read from a file a piece at a time, so that its text is never held whole.

A state file of 100,000 pins is 190 MB of text: read as one string, 360 MB held beside what it
decodes to. Here the file is read in chunks and the members of the top object, and those of
each object within it, are decoded one by one with the standard decoder, dropping text as it goes:
the same values as json.loads, in the same order. Anything the pieces do not make out (not an
object at the top, text that is not JSON) raises ValueError, and the caller reads the file whole
to say what is wrong where.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

Hook = Callable[[dict[str, Any]], dict[str, Any]]
Convert = Callable[[Any], Any]


def keyed(members: dict[str, Any]) -> dict[str, Any]:
    """An object with its keys interned. Every record repeats the same keys: json.loads makes one
    string of each within a call, and here each member is decoded by a call of its own."""
    return {sys.intern(key): value for key, value in members.items()}


_SPACE = " \t\n\r"
_NUMBER = "0123456789.eE+-"
CHUNK = 1 << 20


class _Text:
    """A file's text from `at` on, read further as decoding needs it."""

    def __init__(self, file: BinaryIO, chunk: int, hook: Hook) -> None:
        self.decoder = json.JSONDecoder(object_hook=hook)
        self.file = io.TextIOWrapper(file, encoding="utf-8", newline="")
        self.text = ""
        self.at = 0
        self.ended = False
        self.chunk = chunk
        self.wanted = chunk

    def more(self) -> bool:
        """Read on; False at the end of the file. Each read after one that did not suffice reads
        twice as much, so a long value is decoded a few times at most."""
        chunk = self.file.read(self.wanted)
        if not chunk:
            self.ended = True
            return False
        self.text = self.text[self.at :] + chunk
        self.at = 0
        return True

    def next_char(self) -> str:
        """The next character that is not white space, consumed; "" at the end."""
        while True:
            text, at = self.text, self.at
            while at < len(text) and text[at] in _SPACE:
                at += 1
            self.at = at
            if at < len(text):
                self.at = at + 1
                return text[at]
            if not self.more():
                return ""

    def value(self) -> Any:
        """The JSON value that starts next (white space skipped)."""
        skipped = self.next_char()  # past white space, reading on if need be
        self.at -= len(skipped)
        while True:
            try:
                found, end = self.decoder.raw_decode(self.text, self.at)
                # A number that reaches the end of what was read may go on in what was not.
                if self.ended or (end < len(self.text) and self.text[end] not in _NUMBER):
                    self.at = end
                    self.wanted = self.chunk
                    return found
            except json.JSONDecodeError:
                if self.ended:
                    raise
            if self.more():
                self.wanted *= 2


def load_object(
    file: BinaryIO,
    chunk: int = CHUNK,
    hook: Hook = keyed,
    each: Mapping[str, Convert] | None = None,
) -> dict[str, Any]:
    """The JSON object that `file` holds, as json.loads gives it, reading `chunk` characters at a
    time; ValueError if there is none (a UnicodeDecodeError for bytes that are not UTF-8). `hook`
    makes each object the decoder builds (json's object_hook): all but the outer object and its
    members that are objects, which are read a member at a time. By default, `keyed`.

    `each`: for members of the outer object named here whose value is an object, a function that
    each member of that object is passed through as soon as it is decoded (it may raise
    ValueError), so that what it is made into is never held beside all the others at once."""
    text = _Text(file, chunk, hook)
    try:
        found = _members(text, 0, each or {})
        if text.next_char():
            raise ValueError("more after the object")
        return found
    finally:
        text.file.detach()  # the file is the caller's to close


def _members(
    text: _Text, depth: int, each: Mapping[str, Convert], convert: Convert | None = None
) -> dict[str, Any]:
    if text.next_char() != "{":
        raise ValueError("not an object")
    found: dict[str, Any] = {}
    if text.next_char() == "}":
        return found
    text.at -= 1
    while True:
        key = text.value()
        if type(key) is not str or text.next_char() != ":":
            raise ValueError("not a member")
        if depth == 0 and text.next_char() == "{":
            text.at -= 1
            found[key] = _members(text, 1, each, each.get(key))
        else:
            if depth == 0:
                text.at -= 1
            found[key] = text.value() if convert is None else convert(text.value())
        after = text.next_char()
        if after == "}":
            return found
        if after != ",":
            raise ValueError("not a member")
