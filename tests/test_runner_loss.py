"""Durable beyond the runner: `pinops apply --commit` as a CI job runs it, killed, cancelled or out
of disk mid-apply; the job's work tree is then gone (state, journal and caches with it) and a new
job starts from a fresh clone of the remote. Every declared pin ends up published exactly once,
on Pinterest and on each posting service; with one account, and with three accounts applied side
by side (`--parallel 3`).
"""

from __future__ import annotations

import json
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from tests import mediafiles
from tests.emulators import crosspostify, pinterest, postpeer, postproxy, relayapi, zernio
from tests.emulators.server import EmulatorServer, Fault
from tests.gitrepos import GITIGNORE, Origin, commit_all, git, isolate_git

STATE = "pinops.state.json"
BRANCH = "pinops-state"
CDN = "https://cdn.example.com/"


@dataclass(frozen=True)
class Service:
    """A provider's emulator and how a content repository publishes to it."""

    name: str
    start: Callable[[], EmulatorServer]
    account: str
    variable: str
    key: str
    create_path: str
    extra: str = ""


def _pinterest() -> EmulatorServer:
    api = pinterest.PinterestEmulator(seed=7)
    api.add_board("Recipes")
    return api


def _crosspostify() -> EmulatorServer:
    api = crosspostify.CrosspostifyEmulator(
        posts_per_minute=10_000, requests_per_minute=10_000, requests_per_hour=100_000
    )
    api.add_board("Recipes")
    return api


def _postpeer() -> EmulatorServer:
    api = postpeer.PostPeerEmulator()
    api.add_board("Recipes")
    return api


def _postproxy() -> EmulatorServer:
    api = postproxy.PostproxyEmulator()
    api.add_board("Recipes")
    return api


def _relayapi() -> EmulatorServer:
    api = relayapi.RelayAPIEmulator(publish_polls=0)
    api.add_board("Recipes")
    return api


def _zernio() -> EmulatorServer:
    api = zernio.ZernioEmulator(daily_limit=1_000)
    api.add_board("Recipes")
    return api


SERVICES = {
    "pinterest": Service(
        "pinterest", _pinterest, "", "PINTEREST_ACCESS_TOKEN", pinterest.ACCESS_TOKEN, "/v5/pins"
    ),
    "crosspostify": Service(
        "crosspostify",
        _crosspostify,
        crosspostify.ACCOUNT_ID,
        "CROSSPOSTIFY_API_KEY",
        crosspostify.API_KEY,
        "/posts",
        "    pace: 100/second\n",
    ),
    "postpeer": Service(
        "postpeer",
        _postpeer,
        postpeer.ACCOUNT_ID,
        "POSTPEER_API_KEY",
        postpeer.ACCESS_KEY,
        "/v1/posts",
    ),
    "postproxy": Service(
        "postproxy",
        _postproxy,
        postproxy.PROFILE_ID,
        "POSTPROXY_API_KEY",
        postproxy.API_KEY,
        "/api/posts",
    ),
    "relayapi": Service(
        "relayapi",
        _relayapi,
        relayapi.ACCOUNT_ID,
        "RELAYAPI_API_KEY",
        relayapi.API_KEY,
        "/v1/posts",
    ),
    "zernio": Service(
        "zernio", _zernio, zernio.ACCOUNT_ID, "ZERNIO_API_KEY", zernio.API_KEY, "/api/v1/posts"
    ),
}


class Runner:
    """The remote holding the content, and one CI job after another on a fresh clone of it."""

    def __init__(
        self,
        tmp: Path,
        service: Service,
        api: Any,
        monkeypatch: pytest.MonkeyPatch,
        accounts: int = 1,
    ) -> None:
        self.tmp, self.service, self.api, self.monkeypatch = tmp, service, api, monkeypatch
        self.accounts = accounts  # all on the one emulator, applied at once
        self.jobs = 0
        self.declared = 0
        self.work = tmp / "job-0"
        self.origin = self._origin()

    def _origin(self) -> Origin:
        bare, seed = self.tmp / "origin.git", self.tmp / "seed"
        git(self.tmp, "init", "-q", "--bare", str(bare))
        (seed / "pins" / "media").mkdir(parents=True)
        mediafiles.write_png(seed / "pins" / "media" / "pin.png", 1000, 1500)
        account = f'    account_id: "{self.service.account}"\n' if self.service.account else ""
        settings = (
            f"    provider: {self.service.name}\n"
            f"{account}"
            f"    base_url: {self.api.base_url}\n"
            f"{self.service.extra}"
        )
        names = self.names()
        (seed / "pinops.yaml").write_text(
            f"state_branch: {BRANCH}\n"
            f"media_base_url: {CDN}\n"
            "accounts:\n" + "".join(f"  {name}:\n{settings}" for name in names),
            encoding="utf-8",
        )
        (seed / ".gitignore").write_text(GITIGNORE + f"/{STATE}\n", encoding="utf-8")
        git(seed, "init", "-q")
        git(seed, "remote", "add", "origin", str(bare))
        self.origin = Origin(bare, self.tmp)
        self.seed = seed
        return self.origin

    def names(self) -> list[str]:
        return ["main"] if self.accounts == 1 else [f"brand-{n}" for n in range(self.accounts)]

    def declare(self, count: int) -> None:
        """Push a manifest of `count` pins (those before it stay the same)."""
        lines = ["defaults:", "  board: Recipes", "  image: media/pin.png", "pins:"]
        for n in range(count):
            lines += [
                f"  - id: pin-{n:03d}",
                f"    title: Weeknight recipe number {n}",
                f"    description: A quiet dinner, recipe {n} of the series.",
                f"    link: https://example.com/recipes/{n}",
            ]
            if self.accounts > 1:
                lines.append(f"    account: {self.names()[n % self.accounts]}")
        (self.seed / "pins" / "recipes.yaml").write_text("\n".join(lines) + "\n", "utf-8")
        commit_all(self.seed, f"{count} pins")
        git(self.seed, "push", "-q", "origin", "HEAD:main")
        git(self.origin.bare, "symbolic-ref", "HEAD", "refs/heads/main")
        self.declared = count

    def fresh(self) -> Path:
        """A new job: a fresh clone, and empty caches; the previous job's disk is gone."""
        self.jobs += 1
        shutil.rmtree(self.work, ignore_errors=True)
        self.monkeypatch.setenv("PINOPS_CACHE_DIR", str(self.tmp / f"cache-{self.jobs}"))
        self.work = self.origin.clone(f"job-{self.jobs}")
        return self.work

    def start(self, **options: Any) -> subprocess.Popen[bytes]:
        command = ["-C", str(self.work), "apply", "--yes", "--commit", *self.parallel()]
        return subprocess.Popen(
            [sys.executable, "-m", "reconciler", *command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            **options,
        )

    def made(self) -> int:
        """Creates the provider has acted on."""
        with self.api.lock:
            return len(self.api.pins if self.service.name == "pinterest" else self.api.posts)

    def wait_for(self, process: subprocess.Popen[bytes], creates: int) -> None:
        deadline = time.monotonic() + 60
        while self.made() < creates and process.poll() is None:
            assert time.monotonic() < deadline, "the apply made no progress"
            time.sleep(0.002)
        if self.made() < creates and process.returncode:  # it failed: what it said is why
            assert process.stderr is not None
            said = process.stderr.read().decode(errors="replace")
            pytest.fail(f"the apply ended ({process.returncode}) before {creates} creates:\n{said}")

    def apply(self, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
        capsys.readouterr()
        code = main(["-C", str(self.work), "apply", "--yes", "--commit", *self.parallel()])
        return code, capsys.readouterr().out

    def parallel(self) -> list[str]:
        return ["--parallel", str(self.accounts)]

    def settle_by_hand(self, capsys: pytest.CaptureFixture[str]) -> None:
        """What a person does for a create that no provider listing can settle: look at the
        service's dashboard (here: the emulator) and `pinops state resolve` it."""
        capsys.readouterr()
        assert main(["-C", str(self.work), "state", "list"]) == 0
        listed = capsys.readouterr().out
        for line in listed.splitlines():
            if line.endswith("[interrupted]"):
                key = line.split()[0]
                number = int(key.rsplit("-", 1)[1])
                title = f"Weeknight recipe number {number}"
                pin = self._pin_titled(title)
                how = ["--published", pin] if pin else ["--not-published"]
                assert main(["-C", str(self.work), "state", "resolve", key, *how]) == 0

    def _pin_titled(self, title: str) -> str | None:
        assert self.service.name == "crosspostify"
        with self.api.lock:
            for pin_id, post_id in self.api.pins.items():
                if self.api.posts[post_id]["posts"][0].get("title") == title:
                    return str(pin_id)
        return None

    def finish(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Jobs on fresh clones until one has nothing left to do."""
        for _ in range(6):
            self.fresh()
            if self.service.name == "crosspostify":
                self.settle_by_hand(capsys)
            code, out = self.apply(capsys)
            if code == 0 and "No changes" in out:
                return
        pytest.fail(f"the applies did not converge:\n{out}")

    def remote_state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(git(self.origin.bare, "show", f"{BRANCH}:{STATE}"))
        return data

    def assert_exactly_once(self) -> None:
        with self.api.lock:
            live = set(self.api.pins)
            # Services that answer with their post id only (Crosspostify) are recorded by it.
            by_post = {post: pin for pin, post in self.api.pins.items() if isinstance(post, str)}
        assert len(live) == self.declared
        records = self.remote_state()["pins"]
        assert sorted(records) == [f"pin-{n:03d}" for n in range(self.declared)]
        recorded = [r.get("pin_id") or by_post.get(r.get("post_id")) for r in records.values()]
        assert len(set(recorded)) == self.declared
        assert set(recorded) == live
        assert [key for key, record in records.items() if "intent" in record] == []


# Every service with one account; Pinterest also with three accounts applied side by side.
SHAPES = [(name, 1) for name in sorted(SERVICES)] + [("pinterest", 3)]


@pytest.fixture(params=SHAPES, ids=[f"{name}-{accounts}" for name, accounts in SHAPES])
def runner(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runner]:
    name, accounts = request.param
    yield from _runner(SERVICES[name], tmp_path, monkeypatch, accounts)


def _runner(
    service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, accounts: int = 1
) -> Iterator[Runner]:
    isolate_git(monkeypatch, tmp_path)
    monkeypatch.setenv(service.variable, service.key)
    with service.start() as api:
        yield Runner(tmp_path, service, api, monkeypatch, accounts)


@pytest.fixture(params=[1, 3], ids=["one-account", "three-accounts"])
def pinterest_runner(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runner]:
    yield from _runner(SERVICES["pinterest"], tmp_path, monkeypatch, request.param)


def test_a_job_killed_after_k_creates_leaves_nothing_to_duplicate(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    runner.declare(8)
    chosen = random.Random(runner.service.name)
    # Each job starts from a fresh clone, settles what the one before left, and is killed after
    # a few more creates: kills land before, during and after calls, journal writes and pushes.
    for more in (1, 3):
        runner.fresh()
        target = runner.made() + more
        process = runner.start()
        runner.wait_for(process, target)
        time.sleep(chosen.random() * 0.02)
        process.kill()
        process.wait()
        assert process.stderr is not None
        process.stderr.close()
    runner.finish(capsys)
    runner.assert_exactly_once()


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_a_cancelled_job_finishes_its_call_and_pushes_the_state(
    pinterest_runner: Runner, capsys: pytest.CaptureFixture[str], number: signal.Signals
) -> None:
    runner = pinterest_runner
    runner.declare(12)
    runner.fresh()
    process = runner.start()
    runner.wait_for(process, 4)
    process.send_signal(number)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 1, err
    made = runner.made()
    assert made < 12
    # What it published is on the remote, the pins it did not reach are not there as intents.
    records = runner.remote_state()["pins"]
    assert len([r for r in records.values() if r.get("pin_id")]) == made
    assert [key for key, record in records.items() if "intent" in record] == []
    runner.finish(capsys)
    runner.assert_exactly_once()


def test_a_job_cancelled_while_it_waits_out_a_rate_limit_stops_waiting(
    pinterest_runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = pinterest_runner
    runner.declare(5)
    path = runner.service.create_path
    # Longer than the client waits by itself, short enough for the run to wait it out.
    runner.api.faults.add(Fault(kind="status", status=429, retry_after=200, path=path, times=1))
    runner.fresh()
    process = runner.start()
    deadline = time.monotonic() + 30
    while _limited(runner) is None and time.monotonic() < deadline:
        time.sleep(0.002)
    # The account told to wait publishes nothing; the others are not held up by it.
    limited = _limited(runner)
    assert limited is not None
    others = [n for n in range(5) if n % runner.accounts != limited % runner.accounts]
    runner.wait_for(process, len(others))
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)  # a guard against a hang, far below the 200s
    assert process.returncode == 1, err
    assert runner.made() == len(others)
    records = runner.remote_state()["pins"]  # what was published; nothing is pending
    assert sorted(records) == [f"pin-{n:03d}" for n in others]
    assert [key for key, record in records.items() if "intent" in record] == []
    runner.finish(capsys)
    runner.assert_exactly_once()


def _limited(runner: Runner) -> int | None:
    """The number of the pin whose create was answered 429, once it was."""
    for request in runner.api.requests("POST", runner.service.create_path):
        if request.fault is not None:
            return int(request.json["title"].rsplit(" ", 1)[1])
    return None


@pytest.mark.parametrize(
    ("name", "accounts"), [("pinterest", 1), ("postproxy", 1), ("pinterest", 3)]
)
def test_a_call_abandoned_on_the_second_signal_is_settled_not_sent_again(
    name: str,
    accounts: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """As Actions cancels: SIGINT, then SIGTERM while the create in flight still hangs (with
    three accounts, the other accounts' calls end after the first signal)."""
    for runner in _runner(SERVICES[name], tmp_path, monkeypatch, accounts):
        runner.declare(6)
        path = runner.service.create_path
        runner.api.faults.add(Fault(kind="delay", seconds=2.0, method="POST", path=path))
        runner.fresh()
        process = runner.start()
        deadline = time.monotonic() + 30
        while not runner.api.requests("POST", path) and time.monotonic() < deadline:
            time.sleep(0.002)
        process.send_signal(signal.SIGINT)
        time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 1, err
        # The remote knows the create was in flight; the service acts on it after the job ended
        # (the next job must not look for it before: Pinterest takes no idempotency key).
        records = runner.remote_state()["pins"]
        intents = [
            record["intent"]["operation"] for record in records.values() if "intent" in record
        ]
        assert intents == ["create"]
        if accounts == 1:
            assert len(records) == 1
        published = len([record for record in records.values() if "pin_id" in record])
        deadline = time.monotonic() + 30
        while runner.made() < published + 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        runner.finish(capsys)
        runner.assert_exactly_once()


def _file_size_limit(limit: int) -> Callable[[], None]:
    def limited() -> None:
        # Writing past the limit then fails with EFBIG, as a full disk fails with ENOSPC.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limited


@pytest.mark.parametrize("name", ["pinterest", "relayapi"])
def test_a_disk_full_at_the_final_state_write_loses_nothing(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for runner in _runner(SERVICES[name], tmp_path, monkeypatch):
        runner.declare(20)
        runner.fresh()
        code, _ = runner.apply(capsys)
        assert code == 0
        runner.declare(24)
        runner.fresh()
        assert main(["-C", str(runner.work), "plan"]) == 0  # reads the state from the branch
        size = (runner.work / STATE).stat().st_size
        process = runner.start(preexec_fn=_file_size_limit(size + 512))
        _, err = process.communicate(timeout=60)
        text = err.decode()
        assert process.returncode == 1, text
        assert f"{STATE}: error: cannot write the state file: File too large" in text
        assert "a re-run is safe" in text
        assert runner.made() == 24
        # The state reached the remote all the same.
        assert len(runner.remote_state()["pins"]) == 24
        # On the same disk, the next command folds the journal into the state file first.
        assert main(["-C", str(runner.work), "state", "list"]) == 0
        assert "24 records" in capsys.readouterr().out
        assert len(json.loads((runner.work / STATE).read_text())["pins"]) == 24
        assert not (runner.work / f"{STATE}.journal").exists()
        runner.finish(capsys)
        runner.assert_exactly_once()
