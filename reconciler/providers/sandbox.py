"""The built-in sandbox: a local stand-in for a Pinterest account, kept in an SQLite database.

It needs no credentials and no network, and behaves like Pinterest where pinops can tell: ids are
digit strings, the same field limits apply, unknown boards are rejected, and the same fields can
be updated in place. Its boards are the ones pinops.yaml declares for the account.

Pin ids are unique across accounts, as Pinterest's are across users: an id is twelve digits drawn
from the account's name, then the account's own count of its pins. So two accounts' ids never
meet, whether they publish from one checkout or from a matrix job each. Pins published before ids
had the account's digits keep the ids they were given (`1000000000000000001` onwards).

Each account is one database, `.pinops/sandbox/<account>.sqlite3`: a create is one small
transaction, so it costs the same however many pins the account holds, and a process killed at
any point leaves either the whole pin or none of it. The database is plain SQLite, readable with
`pinops sandbox` or the sqlite3 shell. An account kept by an earlier pinops in `<account>.json` is
moved into the database the first time it is opened.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from reconciler.config import Account
from reconciler.errors import ProviderRejected
from reconciler.providers.base import (
    OWN_CONNECTION,
    Board,
    Capabilities,
    Connection,
    PinContent,
    Published,
    RemotePin,
    TextLimits,
)
from reconciler.timestamps import iso, utcnow

FOLDER = ".pinops/sandbox"
COUNT_DIGITS = 7
# An account's digits are twelve, but never the first twelve of the ids an earlier sandbox gave
# (its first ten million, from 1000000000000000001), so no new id is one of those.
_EARLIER = 100_000_000_000
_LAST = 999_999_999_999

CAPABILITIES = Capabilities(
    updatable=frozenset({"title", "description", "link", "alt_text", "board", "section"}),
    can_delete=True,
)

# The columns of a pin, in the order of _row and of the table.
COLUMNS = (
    "id",
    "board_id",
    "board_section_id",
    "title",
    "description",
    "link",
    "alt_text",
    "dominant_color",
    "media_kind",
    "media_url",
    "media_sha256",
    "created_at",
)
SCHEMA = """
CREATE TABLE IF NOT EXISTS pin_count (next INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pins (
    id TEXT PRIMARY KEY,
    board_id TEXT NOT NULL,
    board_section_id TEXT,
    title TEXT,
    description TEXT,
    link TEXT,
    alt_text TEXT,
    dominant_color TEXT,
    media_kind TEXT,
    media_url TEXT,
    media_sha256 TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pins_by_board ON pins (board_id, created_at);
"""
_INSERT = f"INSERT INTO pins VALUES ({', '.join('?' * len(COLUMNS))})"
_UPDATE = f"UPDATE pins SET {', '.join(f'{c} = ?' for c in COLUMNS[1:])} WHERE id = ?"
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM pins"
# The account's next pin number, counted on: one statement of a create's few.
_NEXT_NUMBER = "UPDATE pin_count SET next = next + 1 RETURNING next - 1"


def board_id(name: str) -> str:
    """A stable digit-string id for a board name, as Pinterest would give."""
    return str(int(hashlib.sha256(name.encode()).hexdigest()[:15], 16))


def pin_id(account: str, number: int) -> str:
    """The id of the `number`th pin (from 1) published to the sandbox account `account`."""
    return f"{_account_digits(account)}{number:0{COUNT_DIGITS}d}"


@cache
def _account_digits(account: str) -> int:
    digest = int(hashlib.sha256(account.encode()).hexdigest(), 16)
    return _EARLIER + 1 + digest % (_LAST - _EARLIER)


def database(root: Path, account: str) -> Path:
    return root / FOLDER / f"{account}.sqlite3"


class SandboxProvider:
    capabilities = CAPABILITIES

    def __init__(self, root: Path, account: str, boards: tuple[str, ...]) -> None:
        self.path = database(root, account)
        self.account = account
        self._legacy = root / FOLDER / f"{account}.json"
        self._boards = {board_id(name): name for name in boards}
        self._connection: sqlite3.Connection | None = None

    def _db(self, *, create: bool) -> sqlite3.Connection | None:
        """The open database; None when it does not exist and `create` is false, so that reading
        an account nothing was published to leaves no file behind."""
        if self._connection is None:
            if not create and not self.path.exists() and not self._legacy.exists():
                return None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit: every change below is in an explicit transaction. Any thread: apply's
            # worker for the account uses what the main thread opened, one thread at a time.
            db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            try:
                # WAL: a commit appends to one log, at a cost that does not grow with the account.
                # NORMAL: a commit survives the process being killed, and the database stays
                # whole even when the machine stops; only then may the last few pins be missing,
                # as from a real account, where apply's fsynced journal finds them gone and
                # creates them again. An fsync per pin (FULL) would cost ten times the create.
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                with _transaction(db):
                    _create_schema(db)
                    if self._legacy.exists():
                        _migrate(db, json.loads(self._legacy.read_text(encoding="utf-8")))
            except BaseException:
                db.close()
                raise
            # The JSON file goes only once its pins are committed to the database.
            self._legacy.unlink(missing_ok=True)
            self._connection = db
        return self._connection

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

    def create(self, content: PinContent, idempotency_key: str) -> Published:  # noqa: ARG002
        self._check(content)
        db = self._db(create=True)
        assert db is not None
        created_at = utcnow()
        with _transaction(db):
            ((number,),) = db.execute(_NEXT_NUMBER).fetchall()
            new_id = pin_id(self.account, number)
            db.execute(_INSERT, _row(content, new_id, created_at))
        return Published(pin_id=new_id, published_at=created_at)

    def update(self, pin_id: str, content: PinContent, changed: frozenset[str]) -> Published:  # noqa: ARG002
        self._check(content)
        pin = self.get(pin_id)
        db = self._db(create=False)
        if pin is None or db is None:
            raise ProviderRejected(f"pin {pin_id} not found in the sandbox account")
        created_at = pin.created_at or utcnow()
        with _transaction(db):
            db.execute(_UPDATE, (*_row(content, pin_id, created_at)[1:], pin_id))
        return Published(pin_id=pin_id, published_at=created_at)

    def delete(self, pin_id: str) -> None:
        db = self._db(create=False)
        if db is not None:
            with _transaction(db):
                db.execute("DELETE FROM pins WHERE id = ?", (pin_id,))

    def get(self, pin_id: str) -> RemotePin | None:
        found = self._select("WHERE id = ?", (pin_id,))
        return _remote(found[0]) if found else None

    def find(self, contents: Sequence[PinContent], since: datetime) -> list[list[RemotePin]]:
        cutoff = iso(since)
        # IS rather than =: a pin without a title or link matches one without.
        query = "WHERE board_id = ? AND title IS ? AND link IS ? AND created_at >= ? ORDER BY rowid"
        return [
            [_remote(row) for row in self._select(query, (c.board_id, c.title, c.link, cutoff))]
            for c in contents
        ]

    def listing(self) -> list[dict[str, Any]]:
        """The account's boards, each with its pins oldest first, as the database holds them; a
        board no longer declared in pinops.yaml but still holding pins is listed without a name."""
        pins = [dict(zip(COLUMNS, row, strict=True)) for row in self._select("ORDER BY rowid", ())]
        boards: dict[str, dict[str, Any]] = {
            bid: {"id": bid, "name": name, "pins": []} for bid, name in self._boards.items()
        }
        for pin in pins:
            board = boards.setdefault(
                pin["board_id"], {"id": pin["board_id"], "name": None, "pins": []}
            )
            board["pins"].append(pin)
        return list(boards.values())

    def _select(self, where: str, parameters: tuple[str | None, ...]) -> list[tuple[Any, ...]]:
        db = self._db(create=False)
        if db is None:
            return []
        return db.execute(f"{_SELECT} {where}", parameters).fetchall()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    # IMMEDIATE: take the write lock at the start, so two processes never interleave a create.
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _create_schema(db: sqlite3.Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    if db.execute("SELECT count(*) FROM pin_count").fetchone()[0] == 0:
        db.execute("INSERT INTO pin_count VALUES (1)")


def _migrate(db: sqlite3.Connection, data: dict[str, Any]) -> None:
    """Take in the pins of an account kept as JSON; a pin already in the database stays."""
    for pin in data.get("pins", {}).values():
        media = pin.get("media") or {}
        row = (
            *(pin.get(name) for name in COLUMNS[:8]),
            media.get("kind"),
            media.get("url"),
            media.get("sha256"),
            pin.get("created_at"),
        )
        db.execute(_INSERT.replace("INSERT", "INSERT OR IGNORE"), row)


def _row(content: PinContent, pin_id: str, created_at: str) -> tuple[str | None, ...]:
    media = content.media
    return (
        pin_id,
        content.board_id,
        content.section_id,
        content.title,
        content.description,
        content.link,
        content.alt_text,
        content.dominant_color,
        media.kind if media else None,
        media.url if media else None,
        media.sha256 if media else None,
        created_at,
    )


def _remote(row: tuple[Any, ...]) -> RemotePin:
    pin = dict(zip(COLUMNS, row, strict=True))
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


def open_provider(
    account: Account,
    connection: Connection = OWN_CONNECTION,
) -> SandboxProvider:
    if connection.folder is None:
        raise ValueError("the sandbox keeps its accounts in the repository's folder: pass it")
    return SandboxProvider(connection.folder, account.name, account.boards)
