"""Two texts compared word by word, for the renderers that show a change inside a long text (the
terminal plan in report.py, the pin cards of the preview in pincards.py): each formats the runs."""

from __future__ import annotations

import difflib
import re

# Words and the blanks between them, so that the runs put together give the texts back.
_WORDS = re.compile(r"\s+|\S+")

SAME, DELETED, INSERTED = "same", "del", "ins"


def words(text: str) -> list[str]:
    """`text` as its words and the blanks between them."""
    return _WORDS.findall(text)


def runs(old: str, new: str) -> list[tuple[str, str]]:
    """The runs of words, in order: SAME (in both), and where the texts differ, DELETED (only in
    `old`) then INSERTED (only in `new`). The SAME and DELETED runs give `old` back; SAME and
    INSERTED give `new`."""
    before, after = words(old), words(new)
    found: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            found.append((SAME, "".join(before[i1:i2])))
            continue
        if i2 > i1:
            found.append((DELETED, "".join(before[i1:i2])))
        if j2 > j1:
            found.append((INSERTED, "".join(after[j1:j2])))
    return found
