"""Advice: what makes a pin work less well without stopping it from being published.

Each is a warning, never an error, from a named rule that `advice:` in pinops.yaml can switch off:
a pin without alt text (people using screen readers learn nothing about the image); a title that
does not lead with words from the description (Pinterest search weighs a title's first words, and
a reader expects the pin to be about them); a link through a URL shortener (Pinterest treats
shortened links as a spam signal and may block them).

A catalog makes the same warning for every pin, so output shows the first few of each rule and
counts the rest.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from reconciler import urls
from reconciler.config import CONFIG_FILE
from reconciler.errors import Location, Problem
from reconciler.manifest import Pin

# Each rule by the name pinops.yaml uses, with what its warnings are about.
RULES = {
    "alt-text": "pins without alt_text",
    "title-lead": "titles that do not lead with words from the description",
    "link-shortener": "links through a URL shortener",
}
SHOWN = 3  # warnings of one rule shown before the rest are counted

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
# Any of the shorteners' names: a link without one cannot go through them (most links).
_ANY_SHORTENER = re.compile("|".join(re.escape(host) for host in sorted(SHORTENERS)))


def warnings(pin: Pin, off: frozenset[str] = frozenset()) -> list[Problem]:
    """What the rules that are not switched off advise about `pin`."""
    found: list[Problem] = []
    fields, origins = pin.fields, pin.origins
    if (
        "alt-text" not in off
        and ("image" in fields or "video" in fields)
        and not str(fields.get("alt_text", "")).strip()
    ):
        found.append(
            Problem(
                pin.location,
                f"pin '{pin.id}' has no alt_text",
                "add alt_text: describing the image, for people using screen readers",
                "warning",
                "alt-text",
            )
        )
    title, description = fields.get("title"), fields.get("description")
    if "title-lead" not in off and isinstance(title, str) and isinstance(description, str):
        leading = set(itertools.islice(_words(title), LEADING_WORDS))
        if leading and _leads_nowhere(leading, description):
            found.append(
                Problem(
                    origins["title"],
                    f"the title does not lead with words from the description: {title!r}",
                    "start the title with what the description is about; Pinterest search "
                    "weighs a title's first words",
                    "warning",
                    "title-lead",
                )
            )
    link = fields.get("link")
    host = shortener(link) if isinstance(link, str) and "link-shortener" not in off else None
    if host:
        found.append(
            Problem(
                origins["link"],
                f"the link goes through the URL shortener {host}",
                "link to the destination page itself; Pinterest may block shortened links",
                "warning",
                "link-shortener",
            )
        )
    return found


def summarised(found: list[Problem]) -> list[Problem]:
    """Problems as output shows them: those of no rule as they are, then each rule's first few,
    and one more warning that counts the rest and says how to switch the rule off."""
    by_rule: dict[str, list[Problem]] = {}
    plain = []
    for problem in found:
        if problem.rule:
            by_rule.setdefault(problem.rule, []).append(problem)
        else:
            plain.append(problem)
    for rule, problems in by_rule.items():
        plain += problems[:SHOWN]
        if len(problems) > SHOWN:
            plain.append(
                Problem(
                    Location(CONFIG_FILE),
                    f"{len(problems) - SHOWN:,} more {RULES[rule]} ({len(problems):,} in all; "
                    "pinops validate --json lists every one)",
                    f"to switch the rule off, write in {CONFIG_FILE}: advice: {{{rule}: off}}",
                    "warning",
                    rule,
                )
            )
    return plain


def shortener(link: str) -> str | None:
    """The URL shortener `link` goes through, if it is a known one."""
    host = urls.plain_host(link)
    if host is None:
        if not _ANY_SHORTENER.search(link.lower()):
            return None  # its host, lower-cased, would hold one
        try:
            host = (urlsplit(link).hostname or "").rstrip(".").lower()
        except ValueError:
            return None
    if host.startswith("www."):
        host = host[4:]
    return host if host in SHORTENERS else None


def _leads_nowhere(leading: set[str], description: str) -> bool:
    """Whether a description with words that carry meaning shares none with the title's lead.
    A word of the description is a run of letters and digits of it, lower-cased, so only a
    leading word, or one with an 's' after it, can match: each is looked for as such a run.
    Descriptions are long: they are not split into words for this."""
    lowered = description.lower()
    for word in leading | {word + "s" for word in leading}:
        if _meaningful(word) and _singular(word) in leading and _holds_word(lowered, word):
            return False
    return any(_meaningful(found.group()) for found in _WORD.finditer(lowered))


def _holds_word(text: str, word: str) -> bool:
    """Whether `word` (letters and digits) is a whole word of `text`, as _WORD splits it."""
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        if (start == 0 or not text[start - 1].isalnum()) and (
            end == len(text) or not text[end].isalnum()
        ):
            return True
        start = text.find(word, start + 1)
    return False


def _meaningful(word: str) -> bool:
    return len(word) > 1 and word not in _MINOR_WORDS and not word.isdigit()


def _words(text: str) -> Iterator[str]:
    """The words that carry meaning, lower-cased, with a plural 's' dropped: "Pastas" ~ "pasta"."""
    for word in _WORD.findall(text.lower()):
        if _meaningful(word):
            yield _singular(word)


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word[-1] == "s" and word[-2] != "s" else word
