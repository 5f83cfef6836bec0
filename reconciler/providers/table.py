"""Each posting service's capabilities as a table: what pinops checks and sends, beside the
sentence of the service's Pinterest page or API document it comes from.

The tables of docs/providers/limits.md are `markdown()`, word for word (a test holds them
to it); print it with `python -m reconciler.providers.table`.
"""

from __future__ import annotations

from collections.abc import Callable

from reconciler.media import duration_text, ratio_text, size_text, type_names
from reconciler.providers import capabilities
from reconciler.providers.base import LOST_FIELDS, Capabilities

SERVICES = ("crosspostify", "postpeer", "postproxy", "zernio", "relayapi")


def _text(name: str) -> Callable[[Capabilities], str]:
    def value(caps: Capabilities) -> str:
        if name in LOST_FIELDS and name not in caps.fields:
            return _lost(name)
        return f"at most {getattr(caps.text_limits, name)} characters"

    return value


def _lost(name: str) -> str:
    severity = LOST_FIELDS[name][0]
    return f"no field: {'an error' if severity == 'error' else 'a warning'} when given"


def _field(name: str, taken: str) -> Callable[[Capabilities], str]:
    return lambda caps: taken if name in caps.fields else _lost(name)


def _dimensions(caps: Capabilities) -> str:
    limits = caps.media_limits
    side = f"at least {limits.min_image_side}×{limits.min_image_side}"
    wide = limits.min_image_width
    return f"{side}, {wide} px wide" if wide > limits.min_image_side else side


def _aspects(caps: Capabilities) -> str:
    limits = caps.media_limits
    quiet = ratio_text(sorted(limits.quiet_aspects))
    return f"{quiet} without a warning; at most 1:{limits.max_aspect:g}"


def _schedule(caps: Capabilities) -> str:
    if not caps.schedules:
        return "waits in pinops for a run after `publish_at`"
    said = f"sent to {caps.name}, which publishes it then"
    if caps.schedule_lead:
        said += f", if at least {duration_text(caps.schedule_lead)} ahead"
    if caps.schedule_horizon is not None:
        said += f", if at most {round(caps.schedule_horizon / 86400)} days ahead"
    return said + "; a past one publishes at once"


def _upload(caps: Capabilities) -> str:
    cap = caps.max_upload_bytes
    return f"at most {size_text(cap)} (not for URLs)" if cap else "no other limit"


# (key of Capabilities.sources, what the row is about, its value)
ROWS: tuple[tuple[str, str, Callable[[Capabilities], str]], ...] = (
    ("title", "title", _text("title")),
    ("description", "description", _text("description")),
    ("alt_text", "alt text", _text("alt_text")),
    ("link", "link", _text("link")),
    (
        "shorteners",
        "shortened links",
        lambda c: "an error" if c.refuses_shorteners else "a warning",
    ),
    ("image types", "image formats", lambda c: type_names(c.media_limits.image_types)),
    ("image size", "image size", lambda c: f"at most {size_text(c.media_limits.max_image_bytes)}"),
    ("image dimensions", "image dimensions", _dimensions),
    ("aspect ratios", "aspect ratios", _aspects),
    ("video types", "video formats", lambda c: type_names(c.media_limits.video_types)),
    ("video size", "video size", lambda c: f"at most {size_text(c.media_limits.max_video_bytes)}"),
    (
        "video length",
        "video length",
        lambda c: (
            f"{duration_text(c.media_limits.min_video_seconds)} to "
            f"{duration_text(c.media_limits.max_video_seconds)}"
        ),
    ),
    ("upload size", "uploaded files", _upload),
    ("cover", "video cover image", _field("cover", "optional")),
    ("cover_frame", "video cover frame", _field("cover_frame", "optional, whole seconds")),
    ("dominant_color", "dominant colour", _field("dominant_color", "sent")),
    ("section", "board section", _field("section", "sent")),
    (
        "board ids",
        "a board written as its id",
        lambda c: "matches `" + c.board_ids.replace("|", "` or `") + "`",
    ),
    ("scheduling", "a future `publish_at`", _schedule),
    (
        "boards",
        "a pin on several boards",
        lambda c: "one call for all" if c.boards_in_one_call else "one call per board",
    ),
    (
        "delete",
        "a replaced or removed pin",
        lambda c: "deleted through it" if c.can_delete else "stays: it cannot delete pins",
    ),
)


def rows(caps: Capabilities) -> list[tuple[str, str, str]]:
    """(what, pinops' rule, where it comes from) for each row."""
    return [(what, value(caps), caps.sources.get(key, "")) for key, what, value in ROWS]


def markdown() -> str:
    """One table per posting service, as docs/providers/limits.md shows them."""
    parts = []
    for name in SERVICES:
        caps = capabilities(name)
        lines = [f"## {caps.name}", "", "| | pinops | from |", "| --- | --- | --- |"]
        lines += [
            f"| {what} | {value} | {source.replace('|', '/')} |"
            for what, value, source in rows(caps)
        ]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
