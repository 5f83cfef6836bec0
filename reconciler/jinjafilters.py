"""The filters a pin template may use: Jinja's own that cannot amplify their input, and ours
(truncate, slug, join, replace), each charged to the run's budget."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from jinja2 import pass_context
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.runtime import Context

from reconciler.jinjabounds import LIMITS, charged, too_large

# `truncate` without a length fits the field it is used in, which templates see under FIELD_VAR.
FIELD_LENGTHS = {"title": 100, "description": 800, "alt_text": 500}
_DEFAULT_TRUNCATE = 255
FIELD_VAR = "__field__"

# Jinja's own filters that cannot amplify their input.
_JINJA_FILTERS = (
    "abs",
    "attr",
    "batch",
    "capitalize",
    "count",
    "d",
    "default",
    "dictsort",
    "first",
    "float",
    "groupby",
    "int",
    "items",
    "last",
    "length",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "reject",
    "rejectattr",
    "reverse",
    "round",
    "select",
    "selectattr",
    "slice",
    "sort",
    "string",
    "striptags",
    "sum",
    "title",
    "trim",
    "unique",
    "upper",
    "urlencode",
    "wordcount",
    "wordwrap",
)

FILTERS_HINT = "filters: " + ", ".join(
    sorted([*_JINJA_FILTERS, "join", "replace", "slug", "truncate"])
)


@pass_context
def _truncate(context: Context, value: Any, length: int | None = None, end: str = "…") -> str:
    """Shorten to at most `length` characters, the ending included, at a word boundary when there
    is one; without a length, to the limit of the field the template is in."""
    text = str(value)
    limit = length
    if limit is None:
        limit = FIELD_LENGTHS.get(context.get(FIELD_VAR), _DEFAULT_TRUNCATE)
    if len(text) <= limit:
        return text
    room = max(limit - len(end), 0)
    cut = text[:room]
    if room < len(text) and not text[room].isspace() and " " in cut.strip():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–—") + end


def slug(value: Any) -> str:
    """Lower-case ASCII letters and digits joined by hyphens: "Crème Brûlée!" → "creme-brulee"."""
    ascii_text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _join(value: Iterable[Any], separator: str = "") -> str:
    texts: list[str] = []
    total = 0
    for item in value:
        texts.append(str(item))
        total += len(texts[-1]) + len(separator)
        if total > LIMITS.size:
            raise too_large()
    return separator.join(texts)


def _replace(value: Any, old: str, new: str, count: int | None = None) -> str:
    text, old, new = str(value), str(old), str(new)
    found = text.count(old) if count is None or count < 0 else min(count, text.count(old))
    if len(text) + found * (len(new) - len(old)) > LIMITS.size:
        raise too_large()
    return text.replace(old, new, -1 if count is None else count)


def filters() -> dict[str, Callable[..., Any]]:
    """Every filter a template may use, by name, each charged the text it reads and writes."""
    chosen: dict[str, Callable[..., Any]] = {name: JINJA_FILTERS[name] for name in _JINJA_FILTERS}
    chosen.update(truncate=_truncate, slug=slug, join=_join, replace=_replace)
    return {name: charged(function) for name, function in chosen.items()}
