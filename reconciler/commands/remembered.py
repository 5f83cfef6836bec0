"""pinops plan's whole answer remembered across runs while its inputs stay the same (plananswers.py
keeps it). Looking it up imports neither the workspace nor the planner: that is what it saves."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import ghactions

if TYPE_CHECKING:
    from reconciler.plananswers import Remembered
    from reconciler.workspace import Planned, Workspace


def lookup(directory: Path, command: str, options: dict[str, Any]) -> Remembered | None:
    """The plan's answer as a run with the same `options` on the same files gave it; None for
    every other command, and for the plans that read more than the files: a state branch, git
    changes or a base branch, a refresh, GitHub's outputs, a file written."""
    from reconciler import config, plananswers

    if command != "plan":
        return None
    if any(options[name] for name in ("state_branch", "changed", "base", "refresh", "out")):
        return None
    if ghactions.active():
        return None
    if options["format"] == "markdown":
        return None  # its thumbnails follow the commit
    # Whether and how the output is coloured depends on the streams and on these variables.
    shown = [os.environ.get(name) for name in ("NO_COLOR", "FORCE_COLOR", "TERM", "CI")]
    question = repr((sorted(options.items()), sys.stdout.isatty(), sys.stderr.isatty(), shown))
    return plananswers.Remembered.open(config.find_root(directory), question)


def recorded(
    remembered: Remembered, workspace: Workspace, answer: Callable[[], tuple[int, Planned]]
) -> int:
    """Give the answer, and remember what it printed for as long as it stays true."""
    from reconciler import plananswers

    since = time.time()
    with plananswers.recording() as printed:
        code, planned = answer()
    until = plananswers.lifetime(planned, workspace.config, workspace.capabilities, since)
    remembered.put(printed(code), until)
    return code
