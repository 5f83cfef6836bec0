"""Plans and apply results as GitHub-flavoured Markdown, for pull-request comments and summaries.

GitHub caps a comment at 65,535 characters and a step summary at 1 MiB. When a plan does not fit,
whole pins are left out by priority: deletes and replaces are kept first, then everything that
needs a person, then updates, creates and the rest; what was left out is counted at the end.
Sizes are measured in UTF-8 bytes, which is never less than the count of characters.

Every value from a manifest is escaped once: it cannot close a table cell, open HTML, format text,
mention (notify) anyone or link an issue, and it reads as written once rendered.
"""

from __future__ import annotations

import html
import itertools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from reconciler.changes import SYMBOLS, Change, Plan
from reconciler.pinfields import FIELD_ORDER
from reconciler.providers.base import Media, TextLimits, url_under
from reconciler.report import remote, summary
from reconciler.timestamps import parse, shown

COMMENT_LIMIT = 65_535  # characters in an issue or pull-request comment
SUMMARY_LIMIT = 1024 * 1024  # bytes in one step's job summary
MARKER = "<!-- pinops-plan -->"  # finds the sticky comment to update
REPLACE_WARNING = "the existing pin and its saves are deleted"
THUMBNAIL_HEIGHT = 48  # pixels: a pin's thumbnail on its summary line

# Order of sections, which is also the priority when a plan must be cut.
ORDER = ("delete", "replace", "unresolved", "update", "adopt", "create", "wait", "kept")
HEADINGS = {
    "delete": "Deletes",
    "replace": "Replaces",
    "unresolved": "Unresolved: need a person",
    "update": "Updates",
    "adopt": "Adoptions of pins an interrupted run published",
    "create": "Creates",
    "wait": "Waiting",
    "kept": "No longer declared, kept",
}
_LABELS = {"alt_text": "alt text", "dominant_color": "dominant color", "cover_frame": "cover frame"}
_COUNTED = ("title", "description", "alt_text", "link")
NOTE_RESERVE = 600  # room for the note saying what was left out
# Characters that would format text, end a table cell or open HTML, written as entities. One pass:
# an entity's own '&' and '#' are never escaped again.
_ENTITIES = {c: f"&#{ord(c)};" for c in "\\`*_[]|~\u200b"} | {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
}
# A web address is left as written (GitHub links it as written, entities and all), up to a
# character that could format text, end a cell or open HTML.
_URL = re.compile(r"(?:https?://|www\.)[^\s<>|\\`*\[\]\"]+", re.IGNORECASE)
# GitHub links "@name" (and notifies that person) and "#12" (and cross-references that issue);
# a zero-width space after the sign stops both and reads the same.
_LINKED = re.compile(r"@|#(?=\d)")


@dataclass(frozen=True)
class Context:
    """What rendering needs beyond the plan: each account's text limits, where media is shown."""

    limits: Callable[[str], TextLimits]
    # The pull request's own files at its head commit (ghactions.pinned_media_base).
    pinned_media_url: str | None = None
    # The preview page: the name of this run's artifact that holds it, and the run's page.
    preview: tuple[str, str] | None = None
    several_accounts: bool = False  # then every change names its account


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def _inert(text: str, *, unlinked: bool = False) -> str:
    """Text that reads as written and formats nothing, on one line; web addresses as written."""
    out: list[str] = []
    start = 0
    for url in _URL.finditer(text):
        out.append(_plain(text[start : url.start()], unlinked))
        out.append(url.group())
        start = url.end()
    out.append(_plain(text[start:], unlinked))
    escaped = "".join(out).replace("\r", "").replace("\n", "<br>")
    # '#' opens a heading only at the start of a line.
    return "&#35;" + escaped[1:] if escaped.startswith("#") else escaped


def _plain(text: str, unlinked: bool) -> str:
    if unlinked:
        text = _LINKED.sub(lambda m: m.group() + "\u200b", text)
    return "".join(_ENTITIES.get(c, c) for c in text)


def escape(text: str) -> str:
    """Manifest text made inert in Markdown and HTML, on one line; an @ mentions no one and a #12
    links no issue."""
    return _inert(text, unlinked=True)


def code(text: str) -> str:
    """Text in a code span (where GitHub links no mention)."""
    return f"<code>{_inert(text)}</code>"


def when(moment: datetime | str | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = parse(moment)
    return shown(moment)


def public_url(medium: Media | None, pinned: str | None = None) -> str | None:
    """Where a reviewer's browser can fetch a medium: its own https URL, the file at the pull
    request's head commit, or where providers fetch it (under media_base_url)."""
    if medium is None:
        return None
    if medium.url:
        return medium.url if medium.url.startswith("https://") else None
    if pinned and medium.file:
        return url_under(pinned, medium.file)
    return medium.served


def _value(name: str, raw: Any, limits: TextLimits | None) -> str:
    if isinstance(raw, dict):
        shown = raw.get("file") or raw.get("url") or ""
        return code(str(shown))
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    text = escape(str(raw))
    if name in _COUNTED and limits is not None and isinstance(raw, str):
        text += f" <sub>{len(raw)}/{getattr(limits, name)}</sub>"
    return text


def _label(name: str) -> str:
    return _LABELS.get(name, name)


def _fields_table(change: Change, limits: TextLimits) -> list[str]:
    before = change.record.fields if change.record else {}
    after = change.target.fields.to_json() if change.target else {}
    if change.action in ("update", "replace"):
        rows = ["| field | before | after |", "| --- | --- | --- |"]
        names = change.changed
        if change.action == "replace":
            # The whole new pin: a hand-edited state cannot hide a field it publishes.
            names = tuple(
                n for n in FIELD_ORDER if n in change.changed or (n in after and n != "account")
            )
        for name in names:
            old = _value(name, before[name], None) if name in before else "—"
            new = _value(name, after[name], limits) if name in after else "—"
            if name not in change.changed:
                old = "(unchanged)"
            rows.append(f"| {_label(name)} | {old} | {new} |")
        return rows
    shown = after if change.target else before
    rows = ["| field | value |", "| --- | --- |"]
    for name in FIELD_ORDER:
        if name in shown and name != "account":
            rows.append(f"| {_label(name)} | {_value(name, shown[name], limits)} |")
    if change.target and change.target.publish_at:
        rows.append(f"| publish at | {when(change.target.publish_at)} |")
    return rows


def _shown(change: Change) -> tuple[dict[str, Any], str, str]:
    """The fields, account and board a change is about: the target's, else the record's."""
    if change.target is not None:
        return change.target.fields.to_json(), change.target.account, change.target.board
    if change.record is not None:
        return change.record.fields, change.record.account, change.record.board or ""
    return {}, "", ""


def symbol(change: Change) -> str:
    return f"<code>{escape(SYMBOLS[change.action])}</code>"


def _summary(change: Change, several_accounts: bool = False) -> str:
    fields, account, board = _shown(change)
    text = f"{symbol(change)} <b>{change.action}</b> {code(change.key)}"
    if board:
        text += f" on <b>{escape(board)}</b>"
    if several_accounts and account:
        text += f" (account <b>{escape(account)}</b>)"
    title = fields.get("title")
    if isinstance(title, str):
        text += f": {escape(title)}"
    if change.action == "replace":
        text += f" ⚠️ {REPLACE_WARNING}"
    elif change.action == "wait" and change.target and change.target.publish_at:
        text += f" · publishes at {when(change.target.publish_at)}"
    elif change.action in ("wait", "delete", "kept", "unresolved", "adopt") and change.reason:
        text += f" · {escape(change.reason)}"
    for warning in change.warnings:
        text += f" ⚠️ {escape(warning)}"
    return text


def change_block(change: Change, context: Context) -> str:
    """One pin: a summary line, and its fields in a collapsible section."""
    _fields, account, _board = _shown(change)
    limits = context.limits(account) if account else TextLimits()
    thumbnail = _thumbnail(change, context)
    lines = [
        f"<details><summary>{thumbnail}{_summary(change, context.several_accounts)}</summary>",
        "",
    ]
    if change.action == "replace":
        lines += [f"**Replace:** {REPLACE_WARNING}. Why: {escape(change.reason)}.", ""]
    elif change.reason and change.action in ("update", "create"):
        lines += [f"Why: {escape(change.reason)}.", ""]
    if acted_on := remote(change):
        lines += [f"Acts on {code(acted_on)}.", ""]
    lines += _fields_table(change, limits)
    target = change.target
    if target is not None:
        url = public_url(target.fields.cover or target.fields.image, context.pinned_media_url)
        if url:
            source = html.escape(url, quote=True)
            lines += ["", f'<img src="{source}" alt="" height="120">']
        lines += ["", f"Declared in {code(target.location.file)} line {target.location.line}."]
    elif change.record is not None and change.record.url:
        lines += ["", f"Published at {escape(change.record.url)}."]
    return "\n".join([*lines, "", "</details>", ""]) + "\n"


def _thumbnail(change: Change, context: Context) -> str:
    """A small picture, on its summary line, of a changed pin whose medium is in the repository."""
    if change.target is None or not context.pinned_media_url:
        return ""
    fields = change.target.fields
    medium = fields.cover or fields.image
    if medium is None or medium.file is None:
        return ""
    url = html.escape(url_under(context.pinned_media_url, medium.file), quote=True)
    alt = html.escape(" ".join((fields.alt_text or "").split()), quote=True)
    return f'<img src="{url}" alt="{alt}" height="{THUMBNAIL_HEIGHT}"> '


def _preview_line(context: Context) -> str:
    if context.preview is None:
        return ""
    artifact, run = context.preview
    return (
        f"**[Preview the pins as Pinterest shows them]({run})**: the {code(artifact)} artifact of "
        "this run (download it, unzip it, open <code>index.html</code>).\n\n"
    )


def _heading(action: str, shown: int, total: int) -> str:
    count = f"{total:,}" if shown == total else f"showing {shown:,} of {total:,}"
    return f"### {HEADINGS[action]} ({count})\n\n"


def fit(groups: list[tuple[str, list[str]]], budget: int) -> tuple[str, Counter[str]]:
    """Take whole blocks in priority order while they fit; count what is left out by action.

    Once a block does not fit, nothing after it is taken, so what is left out is a clear tail.
    """
    out: list[str] = []
    left_out: Counter[str] = Counter()
    used, full = 0, False
    for action, blocks in groups:
        if not blocks:
            continue
        shown, cost = 0, size(_heading(action, len(blocks) - 1, len(blocks)))
        if not full and used + cost <= budget:
            shown = fitting(blocks, budget - used - cost)
            cost += sum(map(size, blocks[:shown]))
        full = full or shown < len(blocks)
        if shown:
            used += cost
            out.append(_heading(action, shown, len(blocks)) + "".join(blocks[:shown]))
        if shown < len(blocks):
            left_out[action] = len(blocks) - shown
    return "".join(out), left_out


def fitting(rows: list[str], budget: int) -> int:
    """How many of `rows`, from the first, fit in `budget` bytes."""
    used = itertools.accumulate(map(size, rows))
    return next((shown for shown, total in enumerate(used) if total > budget), len(rows))


def left_out_note(left_out: Counter[str], limit: int, where: str) -> str:
    if not left_out:
        return ""
    parts = [
        f"{count:,} {HEADINGS[action].split(':')[0].lower()}"
        for action, count in ((action, left_out[action]) for action in ORDER if left_out[action])
    ]
    return (
        f"> [!NOTE]\n> Left out to stay within GitHub's limit of {limit:,} characters: "
        f"{', '.join(parts)}. {where}\n\n"
    )


def _plan_head(plan: Plan, title: str, note: str) -> str:
    lines = [MARKER, f"## {title}", ""]
    if note:
        lines += [f"_{escape(note)}_", ""]
    shown = [c for c in plan.changes if c.action != "noop"]
    if not shown:
        lines += ["**No changes.** The published pins match the manifests.", ""]
    else:
        lines += [f"**{summary(plan)}**", ""]
    for notice in plan.notices:
        lines += ["> [!CAUTION]", f"> **{escape(notice)}.**", ""]
    lines += _settings(plan)
    if plan.blocked:
        lines += [
            "> [!CAUTION]",
            "> **Blocked by a safety check:** " + escape("; ".join(plan.blocked)) + ".",
            "> `pinops apply` refuses this plan (exit 3) unless run with `--allow-destroy`.",
            "",
        ]
    replaces = plan.counts["replace"]
    if replaces:
        pins = "1 pin is" if replaces == 1 else f"{replaces:,} pins are"
        lines += ["> [!WARNING]", f"> {pins} replaced: {REPLACE_WARNING}.", ""]
    if plan.drift:
        lines += ["**Changed outside pinops since the last apply:**", ""]
        for drift in plan.drift[:20]:
            if drift.deleted:
                lines.append(f"- {code(drift.key)}: deleted on the provider")
            for name, _recorded, found in drift.edited:
                lines.append(f"- {code(drift.key)}: {_label(name)} is now {escape(str(found))}")
        if len(plan.drift) > 20:
            lines.append(f"- … and {len(plan.drift) - 20:,} more")
        lines.append("")
    return "\n".join(lines) + "\n"


def _settings(plan: Plan) -> list[str]:
    """pinops.yaml's changes against the base's, each relaxed safeguard with a warning."""
    if not plan.settings:
        return []
    relaxed = [f"> - {code(s.name)}: {escape(s.relaxes)}" for s in plan.settings if s.relaxes]
    warning = ["> [!WARNING]", "> **This pull request relaxes safeguards:**", *relaxed, ""]
    lines = warning if relaxed else []
    lines += [
        f"### Settings ({len(plan.settings):,})",
        "",
        "| setting | base | this pull request |",
        "| --- | --- | --- |",
    ]
    for setting in plan.settings:
        before = code(setting.before) if setting.before is not None else "—"
        after = code(setting.after) if setting.after is not None else "—"
        lines.append(f"| {code(setting.name)} | {before} | {after} |")
    return [*lines, ""]


def _plan_foot(plan: Plan) -> str:
    if not plan.checksum:
        return "<sub>Part of a plan: it has no checksum and cannot be applied as it is.</sub>\n"
    return (
        f"<sub>Plan checksum <code>{plan.checksum}</code>, against state serial {plan.serial}. "
        "The merge run plans again and compares its plan with this one.</sub>\n"
        f"<!-- pinops-checksum: {plan.checksum} -->\n"
    )


def plan(
    made: Plan,
    context: Context,
    *,
    limit: int = COMMENT_LIMIT,
    title: str = "pinops plan",
    note: str = "",
    footer: str = "",
) -> str:
    """The plan for reviewers: a summary line, warnings, then each pin in collapsible details."""
    head = _plan_head(made, title, note) + _preview_line(context)
    foot = _plan_foot(made) + footer
    context = replace(context, several_accounts=made.several_accounts)
    groups = [
        (action, [change_block(c, context) for c in made.changes if c.action == action])
        for action in ORDER
    ]
    body, left_out = fit(groups, limit - size(head) - size(foot) - NOTE_RESERVE)
    where = "`pinops plan` shows everything; so does this run's job summary."
    return head + body + left_out_note(left_out, limit, where) + foot
