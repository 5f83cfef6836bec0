"""The preview: a plan (or every declared pin) as a static page of pin cards, with a view of each
board and a timeline of what goes out later.

The page opens from disk with no network and no JavaScript: every manifest value goes through
Jinja2's autoescaping, and the page's Content-Security-Policy forbids scripts, allows its own
stylesheet by hash, and no request but its own thumbnails.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from reconciler import planjson, timestamps
from reconciler.cache import Cache
from reconciler.errors import Location, PinopsError, Problem, ValidationFailed
from reconciler.pincards import MEDIA_FOLDER, Card, cards
from reconciler.thumbnails import FEED_WIDTH, Maker

if TYPE_CHECKING:
    from reconciler.targets import Desired
    from reconciler.workspace import Workspace


@dataclass(frozen=True)
class Written:
    index: Path
    cards: int
    thumbnails: int


def write(
    changes: list[dict[str, Any]],
    root: Path,
    out: Path,
    *,
    warnings: list[Problem],
    declared: list[Location],
    title: str,
    made_at: datetime,
) -> Written:
    """Write the preview of `changes` (in saved-plan form) into the folder `out`."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PinopsError(f"cannot write the preview to {out}: {exc.strerror}") from None
    maker = Maker(out / MEDIA_FOLDER, Cache.default("thumbnail"))
    index = out / "index.html"
    try:
        made = cards(changes, root, maker, warnings=warnings, declared=declared)
        index.write_text(render(made, title=title, made_at=made_at), encoding="utf-8")
        _drop_stale(out / MEDIA_FOLDER, {t.name for t in maker.made.values() if t.name})
    except OSError as exc:
        raise PinopsError(f"cannot write the preview to {out}: {exc.strerror}") from None
    return Written(index, len(made), len(maker.made))


def _drop_stale(folder: Path, kept: set[str]) -> None:
    """Remove thumbnails an earlier preview into the same folder left (only names it makes)."""
    if folder.is_dir():
        for old in folder.iterdir():
            if _THUMBNAIL.fullmatch(old.name) and old.name not in kept:
                old.unlink(missing_ok=True)


_THUMBNAIL = re.compile(r"[0-9a-f]{32}\.jpg")
_ORDER = ("delete", "replace", "unresolved", "update", "adopt", "create", "wait", "kept", "noop")


def render(cards: list[Card], *, title: str, made_at: datetime) -> str:
    """The page: the cards by action, each board's pins as a grid, and the timeline."""
    package = resources.files("reconciler") / "preview_page"
    css = (package / "preview.css").read_text(encoding="utf-8")
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda _name: (package / "preview.html").read_text("utf-8")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["shown"] = timestamps.shown
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    policy = (
        "default-src 'none'; img-src 'self' data:; "
        f"style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )
    groups = [(a, [c for c in cards if c.action == a]) for a in _ORDER]
    boards: dict[tuple[str, str], dict[str, list[Card]]] = defaultdict(lambda: defaultdict(list))
    for card in cards:
        if card.after is not None:
            boards[card.account, card.after.board][card.after.section].append(card)
    timeline = sorted((c for c in cards if c.when is not None), key=lambda c: (c.when, c.key))
    counts = {a: len(group) for a, group in groups if group}
    return env.get_template("preview.html").render(
        title=title,
        made_at=timestamps.shown(made_at),
        policy=policy,
        css=css,
        groups=[(a, g) for a, g in groups if g],
        counts=counts,
        boards=sorted(boards.items()),
        timeline=timeline,
        feed_width=FEED_WIDTH,
    )


def of_workspace(
    workspace: Workspace, out: Path, *, planfile: Path | None, everything: bool
) -> Written:
    """Preview a saved plan, the plan of the manifests now, or (`everything`) every declared pin."""
    from reconciler import review

    if planfile is not None and everything:
        raise PinopsError(
            "--all previews every declared pin as the manifests are now; it takes no PLANFILE",
            hint="drop --all to preview the saved plan, or the PLANFILE to preview every pin",
        )
    if planfile is not None:
        saved = review.load(planfile)
        if saved is None:
            raise PinopsError(
                f"no plan at {planfile}", hint="save one with: pinops plan --out FILE"
            )
        try:
            wanted: Desired | None = workspace.load_desired()
        except ValidationFailed:
            wanted = None
        changes = [c for c in saved["changes"] if isinstance(c, dict)]
        title = "pinops plan preview"
    else:
        planned = workspace.plan()
        wanted = planned.desired
        changes = [
            planjson.change(c) for c in planned.plan.changes if everything or c.action != "noop"
        ]
        title = "pinops: every declared pin" if everything else "pinops plan preview"
    return write(
        changes,
        workspace.config.root,
        out,
        warnings=wanted.warnings if wanted else [],
        declared=[t.location for t in wanted.targets.values()] if wanted else [],
        title=title,
        made_at=datetime.now(UTC),
    )
