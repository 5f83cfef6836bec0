"""What a reviewer must be told about a change beyond its fields: text that shows as something
other than what it is, and a safeguard taken off.

A bidirectional control character reorders how the text around it is displayed (a title can read
one way in the comment and publish another); a host whose letters mix scripts (`exаmple.com` with
a Cyrillic а) looks like a host it is not; `protect` turned off lets a later change delete the pin.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

# Embeddings, overrides, isolates and the invisible direction marks.
_BIDI = re.compile("[\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c]")
# What urlsplit takes for the host and port (and user) of a URL with a scheme.
_NETLOC = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)")
_TEXT_FIELDS = ("board", "section", "title", "description", "link", "alt_text")
_URL_FIELDS = ("link",)
_MEDIA_FIELDS = ("image", "video", "cover")


def bidi_controls(text: str) -> list[str]:
    """The bidirectional control characters in `text`, as U+XXXX."""
    return sorted({f"U+{ord(char):04X}" for char in _BIDI.findall(text)})


def _script(char: str) -> str | None:
    if not char.isalpha():
        return None
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def host_scripts(url: str) -> list[str]:
    """The scripts the letters of a URL's host are written in, when there are several
    (punycode labels decoded first); an empty list for a host in one script."""
    netloc = _NETLOC.match(url)
    part = netloc.group(1) if netloc else url
    if part.isascii() and "xn--" not in part.lower():
        return []  # ASCII letters are all Latin: the common case, decided without parsing
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return []
    labels = []
    for label in host.split("."):
        if label.startswith("xn--"):
            with contextlib.suppress(UnicodeError):
                label = label.encode("ascii").decode("idna")
        labels.append(label)
    scripts = {script for label in labels for char in label if (script := _script(char))}
    return sorted(scripts) if len(scripts) > 1 else []


def warnings(after: dict[str, Any] | None, before: dict[str, Any] | None) -> tuple[str, ...]:
    """What a reviewer must notice in a change from `before` (published) to `after` (planned)."""
    found: list[str] = []
    new, old = after or {}, before or {}
    if old.get("protect") and after is not None and not new.get("protect"):
        found.append(
            "protection removed (protect: true → false): later changes may delete or replace "
            "this pin without --allow-destroy"
        )
    for name in _TEXT_FIELDS:
        value = new.get(name)
        if isinstance(value, str) and (controls := bidi_controls(value)):
            found.append(
                f"{name} holds bidirectional control characters ({', '.join(controls)}): "
                "it may display differently from what is published"
            )
    urls = [(name, new.get(name)) for name in _URL_FIELDS]
    for name in _MEDIA_FIELDS:
        medium = new.get(name)
        if isinstance(medium, dict):
            urls.append((name, medium.get("url")))
    for name, url in urls:
        if isinstance(url, str) and (scripts := host_scripts(url)):
            host = urlsplit(url).hostname
            found.append(
                f"{name} host {host} mixes scripts ({', '.join(s.title() for s in scripts)}): "
                "it may imitate another host"
            )
    return tuple(found)
