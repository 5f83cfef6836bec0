"""pinops preview: the plan as a page of pin cards (preview.py writes it)."""

from __future__ import annotations

from pathlib import Path

from reconciler import preview
from reconciler.workspace import Workspace


def run(workspace: Workspace, out: Path, *, planfile: Path | None, everything: bool) -> str:
    """Write the page; what to tell whoever asked for it."""
    written = preview.of_workspace(workspace, out, planfile=planfile, everything=everything)
    pins = f"{written.cards} pin{'' if written.cards == 1 else 's'}"
    thumbnails = f"{written.thumbnails} thumbnail{'' if written.thumbnails == 1 else 's'}"
    return f"Wrote the preview of {pins} ({thumbnails}) to {written.index}; open it in a browser.\n"
