"""The built-in sandbox: a local stand-in for a Pinterest account, kept in one JSON file.

It needs no credentials and no network, and behaves like Pinterest where pinops can tell: ids are
digit strings, the same field limits apply, unknown boards are rejected, and the same fields can
be updated in place. Its boards are the ones pinops.yaml declares for the account.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from reconciler.config import Account, Config
from reconciler.errors import ProviderRejected
from reconciler.providers.base import (
    Board,
    Capabilities,
    PinContent,
    Published,
    RemotePin,
    TextLimits,
)
from reconciler.state import utcnow

FOLDER = ".pinops/sandbox"
FIRST_PIN_ID = 1_000_000_000_000_000_001

CAPABILITIES = Capabilities(
    updatable=frozenset({"title", "description", "link", "alt_text", "board", "section"}),
    can_delete=True,
)


def board_id(name: str) -> str:
    """A stable digit-string id for a board name, as Pinterest would give."""
    return str(int(hashlib.sha256(name.encode()).hexdigest()[:15], 16))


class SandboxProvider:
    capabilities = CAPABILITIES

    def __init__(self, root: Path, account: str, boards: tuple[str, ...]) -> None:
        self.path = root / FOLDER / f"{account}.json"
        self._boards = {board_id(name): name for name in boards}

    def _load(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"next_id": FIRST_PIN_ID, "pins": {}}
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        Path(temp).replace(self.path)

    def boards(self) -> list[Board]:
        return [Board(id=bid, name=name) for bid, name in self._boards.items()]

    def _check(self, content: PinContent) -> None:
        if content.board_id not in self._boards:
            raise ProviderRejected(f"board {content.board_id} not found in the sandbox account")
        limits = TextLimits()
        for name, limit in (
            ("title", limits.title),
            ("description", limits.description),
            ("alt_text", limits.alt_text),
            ("link", limits.link),
        ):
            value = getattr(content, name)
            if value is not None and len(value) > limit:
                raise ProviderRejected(f"{name} is longer than {limit} characters")

    def _pin(self, content: PinContent, pin_id: str, created_at: str) -> dict[str, Any]:
        media = content.media
        return {
            "id": pin_id,
            "board_id": content.board_id,
            "board_section_id": content.section_id,
            "title": content.title,
            "description": content.description,
            "link": content.link,
            "alt_text": content.alt_text,
            "dominant_color": content.dominant_color,
            "media": {
                "kind": media.kind if media else None,
                "url": media.url if media else None,
                "sha256": media.sha256 if media else None,
            },
            "created_at": created_at,
        }

    def create(self, content: PinContent, idempotency_key: str) -> Published:  # noqa: ARG002
        self._check(content)
        data = self._load()
        pin_id = str(data["next_id"])
        data["next_id"] += 1
        created_at = utcnow()
        data["pins"][pin_id] = self._pin(content, pin_id, created_at)
        self._save(data)
        return Published(pin_id=pin_id, published_at=created_at)

    def update(self, pin_id: str, content: PinContent, changed: frozenset[str]) -> Published:  # noqa: ARG002
        self._check(content)
        data = self._load()
        pin = data["pins"].get(pin_id)
        if pin is None:
            raise ProviderRejected(f"pin {pin_id} not found in the sandbox account")
        data["pins"][pin_id] = self._pin(content, pin_id, pin["created_at"])
        self._save(data)
        return Published(pin_id=pin_id, published_at=pin["created_at"])

    def delete(self, pin_id: str) -> None:
        data = self._load()
        if data["pins"].pop(pin_id, None) is not None:
            self._save(data)

    def get(self, pin_id: str) -> RemotePin | None:
        pin = self._load()["pins"].get(pin_id)
        return _remote(pin) if pin else None

    def find(self, content: PinContent, since: datetime) -> list[RemotePin]:
        cutoff = since.isoformat().replace("+00:00", "Z")
        return [
            _remote(pin)
            for pin in self._load()["pins"].values()
            if pin["board_id"] == content.board_id
            and pin["title"] == content.title
            and pin["link"] == content.link
            and pin["created_at"] >= cutoff
        ]

    def close(self) -> None:
        pass


def _remote(pin: dict[str, Any]) -> RemotePin:
    return RemotePin(
        pin_id=pin["id"],
        board_id=pin["board_id"],
        title=pin["title"],
        description=pin["description"],
        link=pin["link"],
        alt_text=pin["alt_text"],
        section_id=pin["board_section_id"],
        created_at=pin["created_at"],
    )


def open_provider(config: Config, account: Account) -> SandboxProvider:
    return SandboxProvider(config.root, account.name, account.boards)
