"""Nothing lost, nothing duplicated: real `pinops apply` processes killed and faulted mid-run
against the Pinterest emulator, then run again until done; with one account, and with three
accounts applied side by side (`--parallel 3`), each with a token of its own."""

from __future__ import annotations

import itertools
import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.ahead import INTENTS_AHEAD
from reconciler.cli import main
from reconciler.recovery import interrupted
from reconciler.statefile import StateFile
from tests.emulators.pinterest import ACCESS_TOKEN, PinterestEmulator
from tests.emulators.server import Fault, Request

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Shape:
    """How many accounts the content repository publishes to, all applied at once."""

    accounts: int

    @property
    def parallel(self) -> list[str]:
        return ["--parallel", str(self.accounts)]

    def token(self, number: int) -> str:
        return ACCESS_TOKEN if self.accounts == 1 else f"{ACCESS_TOKEN}_{number}"


@pytest.fixture(params=[1, 3], ids=["one-account", "three-accounts"])
def shape(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Shape:
    shape = Shape(request.param)
    for number in range(shape.accounts):
        monkeypatch.setenv(f"ACCOUNT_{number}_TOKEN", shape.token(number))
    return shape


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, shape: Shape) -> Iterator[PinterestEmulator]:
    monkeypatch.setenv("PINTEREST_ACCESS_TOKEN", ACCESS_TOKEN)
    tokens = [shape.token(n) for n in range(shape.accounts)]
    with PinterestEmulator(seed=7, access_tokens=tokens) as emulator:
        emulator.add_board("Recipes")
        yield emulator


def content_repo(root: Path, base_url: str, count: int, shape: Shape = Shape(1)) -> Path:
    """A content repository of `count` pins with https images, published to the emulator; with
    several accounts, pin n goes to account n modulo their number."""
    (root / "pins").mkdir(parents=True)
    if shape.accounts == 1:
        accounts = f"  main:\n    provider: pinterest\n    base_url: {base_url}\n"
    else:
        accounts = "".join(
            f"  brand-{n}:\n    provider: pinterest\n    base_url: {base_url}\n"
            f"    credentials:\n      access_token: ACCOUNT_{n}_TOKEN\n"
            for n in range(shape.accounts)
        )
    (root / "pinops.yaml").write_text(
        f"accounts:\n{accounts}policy:\n  max_replaces: 100%\n", encoding="utf-8"
    )
    lines = ["defaults:", "  board: Recipes", "pins:"]
    for n in range(count):
        lines += [
            f"  - id: pin-{n:04d}",
            f"    title: Recipe number {n} for a quiet weeknight",
            f"    link: https://example.com/recipes/{n}?utm_source=pinterest",
            f"    image: https://images.example.com/{n}.jpg",
        ]
        if shape.accounts > 1:
            lines.append(f"    account: brand-{n % shape.accounts}")
    (root / "pins" / "many.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def apply_process(repo: Path, shape: Shape) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "-C", str(repo), "apply", "--yes", *shape.parallel],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def creates(api: PinterestEmulator) -> int:
    return len(api.requests("POST", "/v5/pins"))


def run_until_done(repo: Path, capsys: pytest.CaptureFixture[str], shape: Shape) -> None:
    """Apply until the plan has nothing left to do; each run must make progress or finish."""
    for _ in range(10):
        code = main(["-C", str(repo), "apply", "--yes", *shape.parallel])
        out = capsys.readouterr().out
        if code == 0 and "No changes" in out:
            return
    pytest.fail(f"apply did not converge:\n{out}")


def assert_exactly_once(api: PinterestEmulator, repo: Path, count: int) -> None:
    with api.lock:
        titles = Counter(pin["title"] for pin in api.pins.values())
        remote_ids = set(api.pins)
    assert len(remote_ids) == count
    assert [title for title, seen in titles.items() if seen > 1] == []
    state = json.loads((repo / "pinops.state.json").read_text())
    recorded = {key: record.get("pin_id") for key, record in state["pins"].items()}
    assert len(recorded) == count
    assert set(recorded.values()) == remote_ids
    assert all("intent" not in record for record in state["pins"].values())


def test_sigkill_at_many_points_never_duplicates_or_loses_a_pin(
    api: PinterestEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: Shape
) -> None:
    count = 300
    repo = content_repo(tmp_path / "repo", api.base_url, count, shape)
    chosen = random.Random(20261121)
    kills = 0
    # Kill when the emulator has seen a chosen number of creates, plus a random few
    # milliseconds, so the kills land before, during and after requests and journal writes.
    while kills < 24:
        seen = creates(api)
        if seen >= count - 5:
            break
        target = seen + chosen.randint(1, 8)
        process = apply_process(repo, shape)
        deadline = time.monotonic() + 30
        while creates(api) < target and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(chosen.random() * 0.01)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        assert process.stderr is not None
        process.stderr.close()
    assert kills >= 20
    run_until_done(repo, capsys, shape)
    assert_exactly_once(api, repo, count)


def test_a_run_killed_in_its_first_create_left_its_next_intents_and_they_are_settled(
    api: PinterestEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: Shape
) -> None:
    """A create's intent reaches the disk with those of its account's next creates, under one
    sync: killed while its first create is out, the run leaves all of them; the next run looks
    each one up and publishes every pin once."""
    count = 40 * shape.accounts
    repo = content_repo(tmp_path / "repo", api.base_url, count, shape)
    api.faults.add(
        Fault(kind="delay", seconds=1.0, method="POST", path="/v5/pins", times=shape.accounts)
    )
    process = apply_process(repo, shape)
    deadline = time.monotonic() + 30
    while creates(api) < shape.accounts and time.monotonic() < deadline:
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.stderr is not None
    process.stderr.close()
    state = StateFile(repo / "pinops.state.json").read()
    in_flight = [key for key, record in state.pins.items() if interrupted(record)]
    assert len(in_flight) == INTENTS_AHEAD * shape.accounts
    while len(api.pins) < shape.accounts and time.monotonic() < deadline:
        time.sleep(0.01)  # the creates that were out when it was killed land
    listed = len(listings(api))
    run_until_done(repo, capsys, shape)
    assert_exactly_once(api, repo, count)
    # Intents written together are looked for together: one listing of the board per account,
    # two if the group was written across a second's turn; not one per intent.
    assert len(listings(api)) - listed <= 2 * shape.accounts


def listings(api: PinterestEmulator) -> list[Request]:
    """The board listings begun (each page after the first carries a bookmark)."""
    return [r for r in api.requests("GET", "/v5/boards/") if "bookmark" not in r.query]


def test_a_run_stopped_early_withdraws_the_intents_it_wrote_ahead(
    api: PinterestEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: Shape
) -> None:
    """Creates whose intents were written ahead but never sent leave no trace in the state."""
    count = 10 * shape.accounts
    repo = content_repo(tmp_path / "repo", api.base_url, count, shape)
    # A refused token stops its account at its first create.
    api.faults.add(Fault(kind="status", status=401, path="/v5/pins", times=shape.accounts))
    assert main(["-C", str(repo), "apply", "--yes", *shape.parallel]) == 1
    state = json.loads((repo / "pinops.state.json").read_text(encoding="utf-8"))
    assert state["pins"] == {}
    assert not (repo / "pinops.state.json.journal").exists()
    capsys.readouterr()
    run_until_done(repo, capsys, shape)
    assert_exactly_once(api, repo, count)


def test_lost_create_responses_converge_to_one_pin_each(
    api: PinterestEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: Shape
) -> None:
    count = 60
    repo = content_repo(tmp_path / "repo", api.base_url, count, shape)
    api.faults.add(
        Fault(kind="lost_response", method="POST", path="/v5/pins", times=None, probability=0.2)
    )
    first = main(["-C", str(repo), "apply", "--yes", *shape.parallel])
    out = capsys.readouterr().out
    assert first == 1  # the lost ones are reported, not retried blindly
    assert "failed" in out
    api.faults.clear()
    run_until_done(repo, capsys, shape)
    assert_exactly_once(api, repo, count)


def test_a_429_storm_is_waited_out_as_advertised(
    api: PinterestEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: Shape
) -> None:
    count = 5 * shape.accounts
    repo = content_repo(tmp_path / "repo", api.base_url, count, shape)
    api.faults.add(Fault(kind="status", status=429, retry_after=0.3, path="/v5/pins", times=6))
    assert main(["-C", str(repo), "apply", "--yes", *shape.parallel]) == 0, capsys.readouterr().err
    # Each account (its token) waits as told before its next request.
    by_account: dict[str, list[Request]] = {}
    for request in api.requests(path_prefix="/v5/pins"):
        by_account.setdefault(request.headers["authorization"], []).append(request)
    for log in by_account.values():
        for earlier, later in itertools.pairwise(log):
            if earlier.fault is not None and earlier.fault.status == 429:
                assert later.arrived - earlier.arrived >= 0.3
    assert_exactly_once(api, repo, count)
