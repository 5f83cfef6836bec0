"""Whether a pin fits the service its account publishes through: the fields the service has a
place for, its text limits, and the links it refuses. A problem names the service and, for a
limit, where the service states it (Capabilities.sources)."""

from __future__ import annotations

from reconciler import advice
from reconciler.errors import Problem
from reconciler.manifest import Pin
from reconciler.providers.base import LOST_FIELDS, OPTIONAL_FIELDS, Capabilities


def problems(pin: Pin, caps: Capabilities, account: str) -> list[Problem]:
    return [*_lost_fields(pin, caps, account), *_text_limits(pin, caps), *_shortened(pin, caps)]


def _lost_fields(pin: Pin, caps: Capabilities, account: str) -> list[Problem]:
    """Fields the service has no place for: never dropped without a word."""
    found = []
    for name in OPTIONAL_FIELDS:
        if name not in pin.fields or name in caps.fields:
            continue
        if name.startswith("cover") and "video" not in pin.fields:
            continue  # refused as "only for video pins" already
        if name == "cover_frame" and pin.fields[name] == 0:
            continue  # the first frame: what Pinterest takes when no cover is sent
        severity, outcome, hint = LOST_FIELDS.get(
            name, ("error", "the pin would be published without it", f"remove {name}:")
        )
        message = f"{caps.name} (account '{account}') has no field for {name}: {outcome}"
        found.append(Problem(pin.origins[name], message, hint, severity))
    return found


def _text_limits(pin: Pin, caps: Capabilities) -> list[Problem]:
    limits = caps.text_limits
    found = []
    for name, limit in (
        ("title", limits.title),
        ("description", limits.description),
        ("alt_text", limits.alt_text),
        ("link", limits.link),
    ):
        value = pin.fields.get(name)
        if isinstance(value, str) and len(value) > limit:
            message = (
                f"{name} is {len(value)} characters; {caps.name} takes at most "
                f"{limit}{caps.source(name)}"
            )
            found.append(Problem(pin.origins[name], message, f"shorten it by {len(value) - limit}"))
    return found


def _shortened(pin: Pin, caps: Capabilities) -> list[Problem]:
    """A link through a URL shortener the service refuses (advice only warns of others)."""
    link = pin.fields.get("link")
    host = advice.shortener(link) if isinstance(link, str) else None
    if not host or not caps.refuses_shorteners:
        return []
    message = (
        f"the link goes through the URL shortener {host}, which {caps.name} refuses"
        f"{caps.source('shorteners')}"
    )
    return [Problem(pin.origins["link"], message, "link to the destination page itself")]
