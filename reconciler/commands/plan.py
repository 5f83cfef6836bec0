"""pinops plan: the plan of the manifests now (or the part of it whose manifests changed), the
context reviewers see it in, the saved plan apply reads back, and the plan's exit code."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from reconciler import exitcodes, ghactions, markdown, report
from reconciler.changes import Plan
from reconciler.errors import PinopsError
from reconciler.markdown import Context
from reconciler.providers.base import TextLimits
from reconciler.workspace import Planned, Workspace, raise_blocked


@dataclass(frozen=True)
class Shown:
    """A plan as `pinops plan` shows it."""

    planned: Planned  # the whole plan, as made
    plan: Plan  # what is shown: the whole plan, or (--changed) the part whose manifests changed
    note: str  # what the part shown is, when it is a part
    context: Context  # for its Markdown

    @property
    def whole(self) -> Plan:
        return self.planned.plan

    def markdown(self, limit: int = markdown.COMMENT_LIMIT) -> str:
        """The part shown for reviewers, closed by the commit and run it is about."""
        from reconciler import markdown_results

        footer = markdown_results.provenance(ghactions.current_run())
        return markdown.plan(self.plan, self.context, limit=limit, note=self.note, footer=footer)


@dataclass(frozen=True)
class Request:
    """What `pinops plan` is asked (its options of the same names)."""

    allow_destroy: bool = False
    refresh: bool = False
    base: str | None = None
    head: str | None = None
    changed: bool = False
    accounts: list[str] | None = None
    out: Path | None = None
    preview_artifact: str | None = None


def show(workspace: Workspace, request: Request) -> Shown:
    """The plan now, for the accounts asked (all of them by default)."""
    if request.changed and request.out:
        raise PinopsError(
            "--changed shows part of the plan, and a part cannot be saved for apply",
            hint="save the whole plan: drop --changed",
        )
    planned = workspace.plan(
        allow_destroy=request.allow_destroy,
        refresh=request.refresh,
        base=request.base,
        accounts=workspace.config.select(request.accounts),
    )
    full = planned.plan
    if request.changed:
        made, note = only_changed(workspace, full, request.base, request.head)
    else:
        made, note = full, ""
    return Shown(planned, made, note, context(workspace, request.preview_artifact))


def only_changed(
    workspace: Workspace, full: Plan, base: str | None, head: str | None
) -> tuple[Plan, str]:
    """The part of the plan whose manifests changed; it has no checksum, so it cannot be applied."""
    from reconciler import changedfiles

    changed = changedfiles.changed_files(workspace.config.root, base, head)
    listed = [c for c in full.changes if c.action != "noop"]
    shown = tuple(c for c in listed if changed.touches(c))
    note = (
        f"Only pins whose manifests changed since {changed.base[:12]}: "
        f"{len(shown)} of {len(listed)} shown."
    )
    return replace(full, changes=shown, checksum=""), note


def context(workspace: Workspace, preview_artifact: str | None = None) -> Context:
    """What the plan's Markdown needs beside the plan: each account's text limits, where media
    are served, and (in GitHub Actions) the pull request's own media and the preview's run."""

    def limits(account: str) -> TextLimits:
        if account not in workspace.config.accounts:
            return TextLimits()
        return workspace.capabilities(workspace.provider_name(account)).text_limits

    root = workspace.config.root
    pinned = ghactions.pinned_media_base(root) if ghactions.active() else None
    run = ghactions.run_url() if ghactions.active() else None
    preview = (preview_artifact, run) if preview_artifact and run else None
    return Context(limits, pinned_media_url=pinned, preview=preview)


def save(path: Path, shown: Plan) -> str:
    """Write the plan for `pinops apply FILE`; what to tell whoever saved it."""
    try:
        path.write_text(report.plan_json(shown), encoding="utf-8")
    except OSError as exc:
        raise PinopsError(f"cannot write the plan to {path}: {exc.strerror}") from None
    return f"Saved the plan to {path}; apply exactly it with: pinops apply {path}"


def read_checksum(path: Path) -> str:
    """The checksum of a plan saved by `pinops plan --out`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        checksum = data["checksum"]
    except (OSError, ValueError, KeyError, TypeError):
        raise PinopsError(
            f"{path} is not a plan saved by pinops", hint="save one with: pinops plan --out FILE"
        ) from None
    if not isinstance(checksum, str):
        raise PinopsError(f"{path} is not a plan saved by pinops")
    return checksum


def exit_code(shown: Shown, *, detailed: bool) -> int:
    """Once the plan is shown: a blocked plan is an error (exit 3); with --detailed-exitcode,
    changes to make now exit 2."""
    if shown.whole.blocked:
        raise_blocked(shown.whole)
    return exitcodes.CHANGES if detailed and shown.whole.has_changes else exitcodes.OK
