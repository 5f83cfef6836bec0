"""Text from the repository, the state or a provider, made safe to print on one log line.

This is the one place that does it. The GitHub Actions runner takes a line that starts (after
blanks) with `::`, or holds `##[` anywhere, for a workflow command; a terminal takes control
characters as moves of the cursor. Errors, plans and apply lines go through `escape`.
"""

from __future__ import annotations

import re

# Characters that would end the line, move the cursor or hide text: C0 and C1 controls, DEL and
# Unicode's own line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(found: re.Match[str]) -> str:
    char = found.group()
    return _NAMED.get(char) or f"\\u{ord(char):04x}"


def escape(text: str) -> str:
    """`text` as one log line may show it: control characters (a newline above all) written as
    escapes, and nothing the runner would read as a workflow command, wherever on the line the
    text lands: `::` at its start becomes `\\::`, and `##[` becomes `#\\u0023[`. The escapes are
    JSON's, so a JSON string stays a JSON string of the same value."""
    text = _CONTROL.sub(_escaped, text)
    if "##[" in text:
        text = text.replace("##[", "#\\u0023[")
    stripped = text.lstrip()
    if stripped.startswith("::"):
        text = text[: len(text) - len(stripped)] + "\\" + stripped
    return text


def escape_lines(text: str) -> str:
    """`text` with its own line breaks kept and each line escaped: for JSON (whose escapes these
    are, so that it stays the same JSON) and other text laid out over several lines."""
    return "\n".join(escape(line) for line in text.split("\n"))
