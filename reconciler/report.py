"""Renderers: plans, apply results and problems as text for people and JSON for machines."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import yaml

from reconciler import advice, planjson, worddiff
from reconciler.changes import SYMBOLS, Change, Plan
from reconciler.errors import Problem
from reconciler.logline import escape, escape_lines
from reconciler.manifest import Pin
from reconciler.outcome import Outcome
from reconciler.pinfields import FIELD_ORDER

_VERBS = {
    "adopt": "adopted",
    "create": "created",
    "update": "updated",
    "replace": "replaced",
    "delete": "deleted",
}
# A string as json.dumps(text, ensure_ascii=False) writes it, without making an encoder a call.
_QUOTED = json.encoder.encode_basestring
_SHOWN_WIDTH = 72  # a value longer than this is cut when shown whole, and diffed word by word
_CONTEXT_WORDS = 4  # unchanged words kept on each side of a change in a word diff
# How a terminal colours each part of a plan; without colour only the text is written.
STYLES = {
    "create": "green",
    "adopt": "green",
    "update": "yellow",
    "replace": "magenta",
    "delete": "red",
    "wait": "cyan",
    "kept": "dim",
    "unresolved": "bold yellow",
    "removed": "red",
    "added": "green",
    "note": "dim",
    "warning": "bold yellow",
}

# A piece of a line of the text plan and its style (a key of STYLES, or "" for none).
Segment = tuple[str, str]
Line = list[Segment]


def value(raw: Any) -> str:
    """A field value as plans show it: strings quoted, media by file or URL."""
    if isinstance(raw, dict):
        return escape(str(raw.get("file") or raw.get("url")))
    if isinstance(raw, str):
        text = escape(_QUOTED(raw))
        return text if len(text) <= _SHOWN_WIDTH else text[: _SHOWN_WIDTH - 2] + '…"'
    return json.dumps(raw)


def _same_media(before: Any, after: Any) -> bool:
    return (
        isinstance(before, dict)
        and isinstance(after, dict)
        and before.get("sha256") == after.get("sha256")
    )


def word_diff(old: str, new: str) -> Line:
    """What changed between two long strings, word by word: removed words as [-…-], added as
    {+…+} (as git's --word-diff writes them), with a few unchanged words around each change."""
    before, after = (json.dumps(text, ensure_ascii=False)[1:-1] for text in (old, new))
    found = worddiff.runs(before, after)
    line: Line = [('"', "")]
    for number, (kind, text) in enumerate(found):
        if kind == worddiff.SAME:
            first, last = number == 0, number == len(found) - 1
            same = _context(worddiff.words(text), keep_head=not first, keep_tail=not last)
            line.append((escape(same), ""))
        elif kind == worddiff.DELETED:
            line.append(("[-" + escape(text) + "-]", "removed"))
        else:
            line.append(("{+" + escape(text) + "+}", "added"))
    return [*line, ('"', "")]


def _context(tokens: list[str], *, keep_head: bool, keep_tail: bool) -> str:
    """Unchanged words: those next to a change are kept, a long run between is shown as …"""
    keep = 2 * _CONTEXT_WORDS  # tokens: words and the spaces between them
    if len(tokens) <= keep * (keep_head + keep_tail) + 1:
        return "".join(tokens)
    head = "".join(tokens[:keep]).rstrip() if keep_head else ""
    tail = "".join(tokens[-keep:]).lstrip() if keep_tail else ""
    return " ".join(part for part in (head, "…", tail) if part)


def _long(old: Any, new: Any) -> bool:
    """Two strings of which one is too long to show whole: they are shown word by word."""
    return (
        isinstance(old, str)
        and isinstance(new, str)
        and max(len(json.dumps(old, ensure_ascii=False)), len(json.dumps(new, ensure_ascii=False)))
        > _SHOWN_WIDTH
    )


def _changed_line(name: str, old: Any, new: Any) -> Line:
    label = (f"{name + ':':<16}", "")
    if old is None:
        return [label, (f"+ {value(new)}", "added")]
    if new is None:
        return [label, (f"- {value(old)}", "removed")]
    if isinstance(new, dict) and value(old) == value(new) and not _same_media(old, new):
        return [label, (f"{value(new)} (content changed)", "update")]
    if _long(old, new):
        return [label, *word_diff(old, new)]
    return [label, (value(old), "removed"), (" → ", ""), (value(new), "added")]


def _field_lines(change: Change) -> list[Line]:
    before = change.record.fields if change.record else {}
    after = change.target.fields.to_json() if change.target else {}
    if change.action in ("update", "replace"):
        # A replace shows the whole new pin: a field the state records as unchanged is shown
        # too, so that a hand-edited state cannot hide what the new pin publishes.
        names = change.changed
        if change.action == "replace":
            names = tuple(n for n in FIELD_ORDER if n in change.changed or n in after)
        return [
            _changed_line(name, before.get(name), after.get(name))
            if name in change.changed
            else [(f"{name + ':':<16}{value(after.get(name))} (unchanged)", "")]
            for name in names
            if name in change.changed or name != "account"
        ]
    # Everything else shows what the pin holds: what is published, deleted or waits.
    shown = after if change.target else before
    lines = [
        [(f"{name + ':':<16}{value(raw)}", "")] for name, raw in shown.items() if name != "account"
    ]
    record = change.record
    if change.target is None and record is not None and (record.pin_id or record.url):
        lines.append([(f"{'pin:':<16}{record.url or record.pin_id}", "")])
    return lines


def _heading(change: Change, several_accounts: bool = False) -> Line:
    file, line = change.location
    where = f"  ({escape(file)}:{line})" if file else ""
    account = f" [account {escape(change.account)}]" if several_accounts and change.account else ""
    return [
        ("  ", ""),
        (f"{SYMBOLS[change.action]} {change.action}", change.action),
        (f" {escape(change.key)}{account}{where}", ""),
    ]


def remote(change: Change) -> str:
    """The published pin a change acts on, by id and address; empty when it acts on none."""
    if not change.remote_id:
        return ""
    url = change.remote_url
    return escape(f"pin {change.remote_id}" + (f" {url}" if url else ""))


def review_lines(plan: Plan) -> list[str]:
    """What the pull request changes beyond pins: notices, then each changed setting."""
    out = [escape(f"! {notice}") for notice in plan.notices]
    if plan.settings:
        out.append("pinops.yaml changes what apply may do or where it connects:")
        for setting in plan.settings:
            before = setting.before if setting.before is not None else "(unset)"
            after = setting.after if setting.after is not None else "(unset)"
            out.append(escape(f"  ~ {setting.name}: {before} → {after}"))
            if setting.relaxes:
                out.append(escape(f"      ! relaxes a safeguard: {setting.relaxes}"))
    return [*out, ""] if out else []


def plan_lines(plan: Plan) -> list[Line]:
    """The plan for people, line by line, each part with the style a terminal colours it in."""
    shown = [c for c in plan.changes if c.action != "noop"]
    review = [
        [(text, "warning" if text.lstrip().startswith("!") else "")] for text in review_lines(plan)
    ]
    out = review + _drift_lines(plan)
    if not plan.has_changes and not shown:
        return [*out, [("No changes. The published pins match the manifests.", "")]]
    head = "pinops will perform these actions:" if plan.has_changes else "No changes to make now."
    out += [[(head, "")], []]
    for change in shown:
        out.append(_heading(change, plan.several_accounts))
        if change.reason:
            out.append([(f"      # {escape(change.reason)}", "note")])
        if acted_on := remote(change):
            out.append([(f"      on {acted_on}", "")])
        out += [[(f"      ! {escape(warning)}", "warning")] for warning in change.warnings]
        out += [[("      ", ""), *line] for line in _field_lines(change)]
    out += [[], [(summary(plan), "")]]
    return out


def text(lines: list[Line]) -> str:
    return "".join("".join(part for part, _style in line) + "\n" for line in lines)


def _drift_lines(plan: Plan) -> list[Line]:
    if not plan.drift:
        return []
    out: list[Line] = [[("Changed outside pinops since the last apply:", "")], []]
    for drift in plan.drift:
        key = escape(drift.key)
        if drift.deleted:
            out.append([(f"  - {key}: deleted on the provider", "delete")])
        for name, recorded, found in drift.edited:
            head = f"  ~ {key}: {name}"
            if _long(recorded, found):
                out.append([(f"{head} since published: ", ""), *word_diff(recorded, found)])
            else:
                out.append([(f"{head} is {value(found)}, published as {value(recorded)}", "")])
    return [*out, []]


def summary(plan: Plan) -> str:
    counts = plan.counts
    text = (
        f"Plan: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['replace']} to replace, {counts['delete']} to delete."
    )
    if counts["adopt"]:
        text = text[:-1] + f", {counts['adopt']} to adopt."
    extra = [
        f"{counts[action]} {label}"
        for action, label in (("wait", "waiting"), ("unresolved", "unresolved"), ("kept", "kept"))
        if counts[action]
    ]
    if plan.settings:
        extra.append(
            f"{len(plan.settings)} setting{'' if len(plan.settings) == 1 else 's'} changed"
        )
    return text + (f" ({', '.join(extra)})" if extra else "")


def json_text(document: Any, *, sort_keys: bool = False, ensure_ascii: bool = False) -> str:
    """A JSON document as printed: indented, each line escaped (see logline.escape_lines)."""
    text = json.dumps(document, indent=2, sort_keys=sort_keys, ensure_ascii=ensure_ascii)
    return escape_lines(text) + "\n"


def plan_json(plan: Plan) -> str:
    return json_text(planjson.plan(plan), sort_keys=True)


def outcome_line(outcome: Outcome, number: int, total: int) -> str:
    change = outcome.change
    head = f"[{number}/{total}] {SYMBOLS[change.action]} {escape(change.key)}"
    if outcome.skipped:
        return f"{head}: skipped ({escape(outcome.error or '')})"
    if outcome.error:
        return f"{head}: failed: {escape(outcome.error)}"
    pin = f" (pin {escape(outcome.pin_id)})" if outcome.pin_id else ""
    return f"{head}: {_VERBS[change.action]}{pin}"


def apply_summary(outcomes: list[Outcome]) -> str:
    done = Counter(o.change.action for o in outcomes if o.ok)
    failed = [o for o in outcomes if not o.ok]
    text = (
        f"Apply complete: {done['create']} created, {done['update']} updated, "
        f"{done['replace']} replaced, {done['delete']} deleted."
    )
    if done["adopt"]:
        text = text[:-1] + f", {done['adopt']} adopted."
    lines = [text, *_per_account(outcomes)]
    if failed:
        lines.append(f"{len(failed)} failed (run pinops apply again to retry them):")
        lines += [f"  {escape(o.change.key)}: {escape(o.error or '')}" for o in failed]
    return "\n".join(lines) + "\n"


def _per_account(outcomes: list[Outcome]) -> list[str]:
    return [f"  {escape(account)}: {counts}" for account, counts in per_account(outcomes)]


def per_account(outcomes: list[Outcome]) -> list[tuple[str, str]]:
    """Each account with what became of its changes (created, …, failed, left), when the run
    applied several: each went at its own pace, and one may have stopped alone."""
    by_account: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_account.setdefault(outcome.change.account, []).append(outcome)
    if len(by_account) < 2:
        return []
    lines = []
    for account, mine in sorted(by_account.items()):
        done = Counter(_VERBS[o.change.action] for o in mine if o.ok)
        done["failed"] = sum(o.error is not None and not o.skipped for o in mine)
        done["left"] = sum(o.skipped for o in mine)
        counts = [f"{count} {what}" for what, count in done.items() if count]
        lines.append((account, ", ".join(counts) or "nothing done"))
    return lines


def problems_text(problems: list[Problem]) -> str:
    """One line per problem; of an advice rule's many warnings, the first few and a count."""
    return "".join(f"{problem}\n" for problem in advice.summarised(problems))


def problems_json(problems: list[Problem]) -> list[dict[str, Any]]:
    return [
        {
            "file": p.location.file,
            "line": p.location.line,
            "column": p.location.column,
            "severity": p.severity,
            "message": p.message,
            "hint": p.hint,
            "rule": p.rule or None,
        }
        for p in problems
    ]


def pins_yaml(pins: list[Pin]) -> str:
    """Expanded pins as YAML, each field followed by the place its value (or template) was
    written: what `pinops render` prints for people."""
    lines: list[str] = []
    for pin in pins:
        where = f"{pin.location}, {escape(pin.source)}" if pin.source else str(pin.location)
        lines.append(f"- id: {_yaml_value(pin.id)}  # {where}")
        lines += [
            f"  {name}: {_yaml_value(raw)}  # {pin.origins[name]}"
            for name, raw in _in_order(pin.fields).items()
        ]
    return "".join(f"{line}\n" for line in lines)


def pins_json(pins: list[Pin]) -> str:
    """Expanded pins as JSON, with the file and line of each pin and of each field's value."""
    document = [
        {
            "id": pin.id,
            "file": pin.location.file,
            "line": pin.location.line,
            "source": pin.source or None,
            "fields": _in_order(pin.fields),
            "origins": {
                name: {"file": origin.file, "line": origin.line}
                for name, origin in pin.origins.items()
            },
        }
        for pin in pins
    ]
    return json_text(document)


def _in_order(fields: dict[str, Any]) -> dict[str, Any]:
    """Fields in the order plans show them, whichever layer of defaults set them."""
    rank = {name: index for index, name in enumerate(FIELD_ORDER)}
    return {name: fields[name] for name in sorted(fields, key=lambda n: rank.get(n, len(rank)))}


def _yaml_value(raw: Any) -> str:
    """One line of YAML for a value: plain when it reads back the same, else JSON (which YAML
    reads too)."""
    if (
        isinstance(raw, str)
        and raw
        and raw[0] not in "-?:,[]{}#&*!|>'\"%@` "
        and not raw.endswith((" ", ":"))
        and not any(ch in raw for ch in "#\n\t")
        and ": " not in raw
        and yaml.safe_load(raw) == raw
        and escape(raw) == raw
    ):
        return raw
    return escape(json.dumps(raw, ensure_ascii=False))
