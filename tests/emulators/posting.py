"""What the posting-service emulators share: Pinterest-like pin ids, timestamps, multipart bodies,
a presigned-upload stand-in, and the publishing state of one post on one Pinterest account."""

from __future__ import annotations

import email.policy
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser
from pathlib import Path

from .server import Request

IMAGE_MAGIC = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"GIF8": "image/gif",
    b"RIFF": "image/webp",
}


def pin_ids() -> Iterator[str]:
    """Pin ids as Pinterest gives them: long digit strings."""
    return (str(number) for number in itertools.count(1_126_100_000_000_000_001))


def pin_url(pin_id: str) -> str:
    return f"https://www.pinterest.com/pin/{pin_id}/"


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, as these services write timestamps."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 date-time with an offset (RFC 3339); None when it is not one."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str
    data: bytes


def form_parts(request: Request) -> list[Part] | None:
    """The parts of a multipart/form-data body in order, or None if the body is not one."""
    if request.content_type != "multipart/form-data":
        return None
    head = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    if not message.is_multipart():
        return None
    parts = []
    for part in message.get_payload():
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        parts.append(
            Part(
                name if isinstance(name, str) else "",
                filename,
                part.get_content_type() if filename else "text/plain",
                payload if isinstance(payload, bytes) else b"",
            )
        )
    return parts


def sniff(data: bytes) -> str | None:
    """The image type of `data` by its first bytes (MP4/MOV by their ftyp box), else None."""
    for magic, content_type in IMAGE_MAGIC.items():
        if data.startswith(magic):
            return content_type
    if data[4:8] == b"ftyp":
        return "video/quicktime" if data[8:12] == b"qt  " else "video/mp4"
    return None


@dataclass
class Publishing:
    """One post's way to Pinterest: `polls` status reads still see it in progress, then it is
    published as `pin_id`, or fails with `failure` (the reason the service reports)."""

    polls: int
    failure: str | None = None
    pin_id: str | None = None
    published_at: str | None = None

    @property
    def done(self) -> bool:
        return self.polls <= 0


def point_repo_at(
    repo: Path,
    provider: str,
    base_url: str,
    account_id: str,
    *,
    media_base_url: str | None = None,
    pace: str | None = None,
    policy: str = "",
) -> None:
    """Rewrite the example repository's pinops.yaml to publish through `provider` at `base_url`."""
    lines = [
        "pins: pins/",
        "state: pinops.state.json",
        "accounts:",
        "  main:",
        f"    provider: {provider}",
        f'    account_id: "{account_id}"',
        f"    base_url: {base_url}",
    ]
    if pace:
        lines.append(f"    pace: {pace}")
    if media_base_url:
        lines.append(f"media_base_url: {media_base_url}")
    if policy:
        lines += ["policy:", *(f"  {line}" for line in policy.splitlines() if line)]
    (repo / "pinops.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
