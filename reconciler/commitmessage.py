"""What a state commit says: each change published, and the commit it was published from."""

from __future__ import annotations

import json
import unicodedata


def commit_message(published: list[tuple[str, str, str | None]], source: str | None) -> str:
    """What the state commit says: each change made (symbol, key, pin id) and the source commit."""
    count = len(published)
    origin = f" from {source[:12]}" if source else ""
    noun = "change" if count == 1 else "changes"
    lines = [f"pinops: state after {count} published {noun}{origin}" if count else "pinops: state"]
    shown = published[:200]
    if shown:
        lines.append("")
    lines += [
        f"{symbol} {_one_line(key)}" + (f" (pin {_one_line(pin)})" if pin else "")
        for symbol, key, pin in shown
    ]
    if count > len(shown):
        lines.append(f"… and {count - len(shown)} more")
    if source:
        lines += ["", f"Source-Commit: {source}"]
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    """Text for one line of a commit message: a board name's newline (or any control character)
    is written escaped, so that it cannot add lines or trailers of its own."""
    return "".join(
        json.dumps(char)[1:-1] if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char
        for char in text
    )
