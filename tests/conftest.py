"""Shared fixtures: a copy of the example content repository, the CLI run in-process, and the
providers' emulators (SERVICES) with the example repository configured to publish through them."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from reconciler.cli import main
from reconciler.config import load as load_config
from reconciler.providers import capabilities, open_provider
from reconciler.providers.base import Connection
from reconciler.providers.http import Retry
from tests.emulators import crosspostify, pinterest, postpeer, postproxy, relayapi, zernio
from tests.emulators.posting import point_repo_at
from tests.emulators.server import EmulatorServer

PROJECT = Path(__file__).resolve().parents[1]
# The example repository's boards, and the targets it publishes (calm-bedroom is scheduled).
BOARDS = ("Recipes", "Weeknight Dinners", "Home Decor")
TARGETS = [
    "calm-bedroom",
    "cozy-living-room",
    "easy-pasta@Recipes",
    "easy-pasta@Weeknight Dinners",
    "pasta-howto-video",
    "product-ap-22",
    "product-kn-05",
    "product-sk-10",
    "summer-salad",
]
# A pin's text to change, for a replace: its key, its file, the text and the text it becomes.
SALAD = ("summer-salad", "pins/recipes/summer-salad.yaml", "Crunchy Summer", "Crisp Summer")
BEDROOM = ("calm-bedroom", "pins/home/living-spaces.yaml", "A Calm Bedroom", "A Quiet Bedroom")


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]
P = TypeVar("P")


@dataclass(frozen=True)
class Service:
    """A provider's emulator and how pinops reaches it: the credential's variable and value, the
    account id, a `pace` for pinops.yaml, and the paths (as the emulator sees them) of its create
    and of its board listing."""

    provider: str
    emulator: Callable[[], EmulatorServer]
    variable: str
    key: str
    account_id: str | None
    creates: str
    boards: str
    pace: str | None = None


SERVICES = {
    service.provider: service
    for service in (
        Service(
            "pinterest",
            lambda: pinterest.PinterestEmulator(processing_polls=0),
            "PINTEREST_ACCESS_TOKEN",
            pinterest.ACCESS_TOKEN,
            None,
            "/v5/pins",
            "/v5/boards",
        ),
        Service(
            "crosspostify",
            lambda: crosspostify.CrosspostifyEmulator(posts_per_minute=100),
            "CROSSPOSTIFY_API_KEY",
            crosspostify.API_KEY,
            crosspostify.ACCOUNT_ID,
            "/post/",
            "/pinterest-boards/",
            pace="100/second",
        ),
        Service(
            "postpeer",
            postpeer.PostPeerEmulator,
            "POSTPEER_API_KEY",
            postpeer.ACCESS_KEY,
            postpeer.ACCOUNT_ID,
            "/v1/posts",
            "/v1/pinterest/boards",
        ),
        Service(
            "postproxy",
            postproxy.PostproxyEmulator,
            "POSTPROXY_API_KEY",
            postproxy.API_KEY,
            postproxy.PROFILE_ID,
            "/api/posts",
            "/api/profiles/",
        ),
        Service(
            "zernio",
            zernio.ZernioEmulator,
            "ZERNIO_API_KEY",
            zernio.API_KEY,
            zernio.ACCOUNT_ID,
            "/api/v1/posts",
            "/api/v1/accounts/",
        ),
        Service(
            "relayapi",
            relayapi.RelayAPIEmulator,
            "RELAYAPI_API_KEY",
            relayapi.API_KEY,
            relayapi.ACCOUNT_ID,
            "/v1/posts",
            "/v1/accounts/",
        ),
    )
}


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test gets an empty parse cache of its own, never the user's."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("PINOPS_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """git reads no configuration of this machine's user (tests.gitrepos.isolate_git); a module
    whose tests all run git takes it with `pytestmark = pytest.mark.usefixtures(...)`."""
    from tests.gitrepos import isolate_git  # gitrepos imports this module

    isolate_git(monkeypatch, tmp_path)


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


@pytest.fixture
def service(request: pytest.FixtureRequest) -> Service:
    """The provider under test: the parameter given to this fixture, else the module's SERVICE."""
    return SERVICES[getattr(request, "param", None) or request.module.SERVICE]


@pytest.fixture
def api(service: Service) -> Iterator[Any]:
    """The service's emulator, holding the example repository's boards."""
    with service.emulator() as emulator:
        for name in BOARDS:
            emulator.add_board(name)  # type: ignore[attr-defined]
        yield emulator


@pytest.fixture
def configured(
    repo: Path, api: EmulatorServer, service: Service, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The example repository, publishing through the service on its emulator."""
    monkeypatch.setenv(service.variable, service.key)
    point_repo_at(repo, service.provider, api.base_url, service.account_id or "", pace=service.pace)
    if "cover" not in capabilities(service.provider).fields:
        # No field for a video's cover (Pinterest takes the first frame): the plan would refuse it.
        edit(repo / "pins/recipes/pasta.yaml", "    cover: ../media/pasta-howto-cover.jpg\n", "")
    return repo


@pytest.fixture
def make(configured: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """make(**settings): the configured account's provider, opened with the module's CONNECTION
    settings (Connection's fields) updated by `settings`; each closed at the end."""
    made: list[Any] = []

    def provider(**settings: Any) -> Any:
        defaults = getattr(request.module, "CONNECTION", {})
        made.append(open_main(configured, object, **(defaults | settings)))
        return made[-1]

    yield provider
    for each in made:
        each.close()


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


def replaced(
    repo: Path, pinops: Run, key: str, file: str, old: str, new: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply the repository, change a pin's text in `file`, see the plan replace it and apply the
    replace: the pin's state record before and after."""
    assert pinops("apply", "--yes").code == 0
    before = state(repo)[key]
    edit(repo / file, old, new)
    plan = pinops("plan")
    assert f"-/+ replace {key}" in plan.out, plan.out
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    return before, state(repo)[key]


def open_main(repo: Path, kind: type[P], **settings: Any) -> P:
    """The provider of the repository's account `main`, as pinops.yaml configures it, with quick
    retries and a short timeout unless `settings` (Connection's fields) say otherwise."""
    config = load_config(repo)
    connection = Connection(**{"retry": Retry(backoff=0.01), "timeout": 2.0, **settings})
    provider = open_provider(config.accounts["main"], connection)
    assert isinstance(provider, kind)
    return provider
