"""Apply results, validation problems, errors and how a plan differs from the reviewed one, as
Markdown for pull-request comments and job summaries (the plan itself is markdown.py's), each
closed by the commit and the run it is about."""

from __future__ import annotations

from reconciler.errors import PinopsError, Problem
from reconciler.ghactions import Run
from reconciler.markdown import (
    COMMENT_LIMIT,
    MARKER,
    NOTE_RESERVE,
    SUMMARY_LIMIT,
    code,
    escape,
    fitting,
    size,
    symbol,
)
from reconciler.outcome import Outcome
from reconciler.review import Difference


def problems(
    found: list[Problem],
    *,
    limit: int = COMMENT_LIMIT,
    title: str = "pinops plan",
    footer: str = "",
) -> str:
    """Validation problems: where and what, with the fix, so that nothing can be planned yet."""
    errors = sum(1 for p in found if p.severity == "error")
    head = "\n".join(
        [
            MARKER,
            f"## {title}",
            "",
            f"**Validation failed: {errors:,} problem{'' if errors == 1 else 's'}.** "
            "Nothing is planned until they are fixed.",
            "",
            "| where | problem |",
            "| --- | --- |",
            "",
        ]
    )
    rows = [
        f"| {code(str(p.location))} | {escape(p.severity)}: {escape(p.message)}"
        + (f" ({escape(p.hint)})" if p.hint else "")
        + " |\n"
        for p in found
    ]
    shown = fitting(rows, limit - size(head) - size(footer) - NOTE_RESERVE)
    tail = ""
    if shown < len(rows):
        left = len(rows) - shown
        tail = f"\n> [!NOTE]\n> {left:,} more problems left out; `pinops validate` lists all.\n"
    return head + "".join(rows[:shown]) + tail + footer


def failure(error: PinopsError, command: str) -> str:
    """An error that stopped a command: where, what and how to fix it; for `plan`, the sticky
    comment's body in place of the plan, so that an older plan never stands as the current one."""
    where = f"{code(str(error.location))}: " if error.location else ""
    lines = [MARKER] if command == "plan" else []
    lines += [f"## pinops {command}", "", f"**Failed:** {where}{escape(error.message)}", ""]
    if error.hint:
        lines += [f"To fix: {escape(error.hint)}", ""]
    if command == "plan":
        lines += ["Nothing is planned until this is fixed.", ""]
    return "\n".join(lines)


def provenance(run: Run | None, verb: str = "Planned") -> str:
    """Which commit a comment is about and the run that wrote it, so that it is never taken for
    a newer one; nothing outside GitHub Actions."""
    if run is None:
        return ""
    parts = [f"{verb} at commit {run.commit}" if run.commit else verb]
    if run.url:
        parts.append(f"[workflow run]({run.url})")
    return f"\n<sub>{' · '.join(parts)}</sub>\n"


def differences(found: list[Difference], policy: str) -> str:
    """How the plan about to be applied differs from the plan reviewed on the pull request."""
    if not found:
        return "This is the plan reviewed on the pull request.\n\n"
    stops = policy == "stop" and any(d.blocking for d in found)
    lines = [
        "> [!CAUTION]" if stops else "> [!NOTE]",
        "> **The plan differs from the plan reviewed on the pull request** "
        f"(`on_plan_drift: {policy}`): "
        + ("nothing was applied." if stops else "it is applied as planned now."),
        "",
    ]
    for difference in found:
        mark = "**not reviewed:**" if difference.blocking else "no longer planned:"
        what = escape(difference.what)
        lines.append(f"- {code(difference.key)} {mark} {what}")
    return "\n".join(lines) + "\n\n"


def apply(
    outcomes: list[Outcome],
    result: str,
    notes: list[str],
    *,
    title: str = "pinops apply",
    limit: int = SUMMARY_LIMIT,
    footer: str = "",
) -> str:
    """Apply results for the job summary: the result line, notes, and one row per change."""
    head = "\n".join([f"## {title}", "", f"**{escape(result)}**", "", *notes, ""]) + "\n"
    if not outcomes:
        return head + footer
    head += "| | pin | result |\n| --- | --- | --- |\n"
    rows = []
    for outcome in outcomes:
        change = outcome.change
        if outcome.skipped:
            done = f"skipped: {escape(outcome.error or '')}"
        elif outcome.error:
            done = f"**failed:** {escape(outcome.error)}"
        else:
            done = change.action + (f" (pin {escape(outcome.pin_id)})" if outcome.pin_id else "")
        rows.append(f"| {symbol(change)} | {code(change.key)} | {done} |\n")
    shown = fitting(rows, limit - size(head) - size(footer) - NOTE_RESERVE)
    tail = f"\n… and {len(rows) - shown:,} more.\n" if shown < len(rows) else ""
    return head + "".join(rows[:shown]) + tail + footer
