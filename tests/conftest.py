"""Shared fixtures: a copy of the example content repository, and the CLI run in-process."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from reconciler.cli import main
from reconciler.config import load as load_config
from reconciler.providers import open_provider
from reconciler.providers.base import Connection
from reconciler.providers.http import Retry

PROJECT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]
P = TypeVar("P")


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test gets an empty parse cache of its own, never the user's."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("PINOPS_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh copy of the example content repository (pinops.yaml and pins/)."""
    root = tmp_path / "content"
    root.mkdir()
    shutil.copy(PROJECT / "pinops.yaml", root / "pinops.yaml")
    shutil.copytree(PROJECT / "pins", root / "pins")
    return root


@pytest.fixture
def pinops(repo: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run `pinops -C REPO ARGS...` in-process; returns exit code and captured output."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(["-C", str(repo), *args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def state(repo: Path) -> dict[str, Any]:
    """The records of the repository's state file, by key."""
    pins: dict[str, Any] = json.loads((repo / "pinops.state.json").read_text())["pins"]
    return pins


def sandbox_pins(repo: Path, account: str = "main") -> dict[str, dict[str, Any]]:
    """The pins of a sandbox account by id, read straight from its SQLite database."""
    path = repo / ".pinops/sandbox" / f"{account}.sqlite3"
    if not path.exists():
        return {}
    with closing(sqlite3.connect(path)) as db:
        db.row_factory = sqlite3.Row
        return {row["id"]: dict(row) for row in db.execute("SELECT * FROM pins ORDER BY rowid")}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def check_a_past_publish_at_publishes_at_once(configured: Path, pinops: Run) -> None:
    """The example's scheduled pin, its publish_at moved into the past, is published at once."""
    edit(
        configured / "pins/home/living-spaces.yaml", "2027-03-01T09:00:00Z", "2020-03-01T09:00:00Z"
    )
    result = pinops("apply", "--yes")
    assert result.code == 0, result.out + result.err
    assert "scheduled for" not in result.out
    assert state(configured)["calm-bedroom"]["status"] == "published"


def open_main(repo: Path, kind: type[P], **settings: Any) -> P:
    """The provider of the repository's account `main`, as pinops.yaml configures it, with quick
    retries and a short timeout unless `settings` (Connection's fields) say otherwise."""
    config = load_config(repo)
    connection = Connection(**{"retry": Retry(backoff=0.01), "timeout": 2.0, **settings})
    provider = open_provider(config, config.accounts["main"], connection)
    assert isinstance(provider, kind)
    return provider
