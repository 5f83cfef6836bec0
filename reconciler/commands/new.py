"""pinops new: a pin manifest started from an image or video file of the repository."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler import newpin
from reconciler.newpin import Scaffold
from reconciler.workspace import Workspace


@dataclass(frozen=True)
class Request:
    """What `pinops new` is asked (its options of the same names)."""

    directory: Path  # where the command runs: the paths below are relative to it
    media: Path
    pin_id: str | None = None
    board: str | None = None
    out: Path | None = None


def run(workspace: Workspace, request: Request) -> Scaffold:
    """Write the manifest (never over an existing file) and return what was written."""
    out = request.directory / request.out if request.out else None
    made = newpin.scaffold(
        workspace.config,
        request.directory / request.media,
        workspace.capabilities,
        pin_id=request.pin_id,
        board=request.board,
        out=out,
    )
    newpin.write(made)
    return made


def text(made: Scaffold) -> str:
    return f"Wrote {made.name}:\n{made.text}"
