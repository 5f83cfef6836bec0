"""Advice: what makes a pin work less well without stopping it from being published.

Each is a warning, never an error: a pin without alt text (people using screen readers learn
nothing about the image); a title that does not lead with words from the description (Pinterest
search weighs a title's first words, and a reader expects the pin to be about them); a link
through a URL shortener (Pinterest treats shortened links as a spam signal and may block them).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from reconciler.errors import Problem
from reconciler.manifest import Pin

# Hosts whose only business is redirecting elsewhere.
SHORTENERS = frozenset(
    {
        "adf.ly",
        "amzn.to",
        "bit.do",
        "bit.ly",
        "bitly.com",
        "bl.ink",
        "buff.ly",
        "cutt.ly",
        "dlvr.it",
        "goo.gl",
        "ift.tt",
        "is.gd",
        "lnkd.in",
        "ow.ly",
        "rb.gy",
        "rebrand.ly",
        "s.id",
        "shorte.st",
        "shorturl.at",
        "t.co",
        "t.ly",
        "tiny.cc",
        "tinyurl.com",
        "tr.im",
        "trib.al",
        "v.gd",
    }
)

# How many of a title's first words are compared with the description.
LEADING_WORDS = 3
_MINOR_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "how",
        "in",
        "into",
        "is",
        "it",
        "its",
        "my",
        "of",
        "on",
        "or",
        "our",
        "the",
        "this",
        "to",
        "what",
        "when",
        "why",
        "with",
        "you",
        "your",
    ]
)


_WORD = re.compile(r"[^\W_]+")


def warnings(pin: Pin) -> list[Problem]:
    found: list[Problem] = []
    fields, origins = pin.fields, pin.origins
    if ("image" in fields or "video" in fields) and not str(fields.get("alt_text", "")).strip():
        found.append(
            Problem(
                pin.location,
                f"pin '{pin.id}' has no alt_text",
                "add alt_text: describing the image, for people using screen readers",
                "warning",
            )
        )
    title, description = fields.get("title"), fields.get("description")
    if isinstance(title, str) and isinstance(description, str):
        leading = set(itertools.islice(_words(title), LEADING_WORDS))
        if leading and _leads_nowhere(leading, description):
            found.append(
                Problem(
                    origins["title"],
                    f"the title does not lead with words from the description: {title!r}",
                    "start the title with what the description is about; Pinterest search "
                    "weighs a title's first words",
                    "warning",
                )
            )
    link = fields.get("link")
    host = shortener(link) if isinstance(link, str) else None
    if host:
        found.append(
            Problem(
                origins["link"],
                f"the link goes through the URL shortener {host}",
                "link to the destination page itself; Pinterest may block shortened links",
                "warning",
            )
        )
    return found


def shortener(link: str) -> str | None:
    """The URL shortener `link` goes through, if it is a known one."""
    try:
        host = (urlsplit(link).hostname or "").rstrip(".").lower()
    except ValueError:
        return None
    if host.startswith("www."):
        host = host[4:]
    return host if host in SHORTENERS else None


def _leads_nowhere(leading: set[str], description: str) -> bool:
    """Whether a description with words that carry meaning shares none with the title's lead.
    Descriptions are long and usually match early, so the scan stops at the first match. A word
    of the description is a piece of it, lower-cased: when no leading word is even a substring of
    it, none can match, and all that is left to know is whether it has a word at all."""
    lowered = description.lower()
    if not any(word in lowered for word in leading):
        return next(_words(description), None) is not None
    seen = False
    for word in _words(description):
        if word in leading:
            return False
        seen = True
    return seen


def _words(text: str) -> Iterator[str]:
    """The words that carry meaning, lower-cased, with a plural 's' dropped: "Pastas" ~ "pasta"."""
    for match in _WORD.finditer(text.lower()):
        word = match.group()
        if len(word) > 1 and word not in _MINOR_WORDS and not word.isdigit():
            yield word[:-1] if len(word) > 3 and word[-1] == "s" and word[-2] != "s" else word
