"""Nothing lost, nothing duplicated: real `pinops apply` processes killed and faulted mid-run
against the Pinterest emulator, then run again until done."""

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
from pathlib import Path

import pytest

from reconciler.cli import main
from tests.emulators.pinterest import ACCESS_TOKEN, PinterestEmulator
from tests.emulators.server import Fault

pytestmark = pytest.mark.slow


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[PinterestEmulator]:
    monkeypatch.setenv("PINTEREST_ACCESS_TOKEN", ACCESS_TOKEN)
    with PinterestEmulator(seed=7) as emulator:
        emulator.add_board("Recipes")
        yield emulator


def content_repo(root: Path, base_url: str, count: int) -> Path:
    """A content repository of `count` pins with https images, published to the emulator."""
    (root / "pins").mkdir(parents=True)
    (root / "pinops.yaml").write_text(
        "accounts:\n"
        "  main:\n"
        "    provider: pinterest\n"
        f"    base_url: {base_url}\n"
        "policy:\n"
        "  max_replaces: 100%\n",
        encoding="utf-8",
    )
    lines = ["defaults:", "  board: Recipes", "pins:"]
    for n in range(count):
        lines += [
            f"  - id: pin-{n:04d}",
            f"    title: Recipe number {n} for a quiet weeknight",
            f"    link: https://example.com/recipes/{n}?utm_source=pinterest",
            f"    image: https://images.example.com/{n}.jpg",
        ]
    (root / "pins" / "many.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def apply_process(repo: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "-C", str(repo), "apply", "--yes"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def creates(api: PinterestEmulator) -> int:
    return len(api.requests("POST", "/v5/pins"))


def run_until_done(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Apply until the plan has nothing left to do; each run must make progress or finish."""
    for _ in range(10):
        code = main(["-C", str(repo), "apply", "--yes"])
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
    api: PinterestEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    count = 200
    repo = content_repo(tmp_path / "repo", api.base_url, count)
    chosen = random.Random(20261121)
    kills = 0
    # Kill when the emulator has seen a chosen number of creates, plus a random few
    # milliseconds, so the kills land before, during and after requests and journal writes.
    while kills < 24:
        seen = creates(api)
        if seen >= count - 5:
            break
        target = seen + chosen.randint(1, 8)
        process = apply_process(repo)
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
    run_until_done(repo, capsys)
    assert_exactly_once(api, repo, count)


def test_lost_create_responses_converge_to_one_pin_each(
    api: PinterestEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    count = 60
    repo = content_repo(tmp_path / "repo", api.base_url, count)
    api.faults.add(
        Fault(kind="lost_response", method="POST", path="/v5/pins", times=None, probability=0.2)
    )
    first = main(["-C", str(repo), "apply", "--yes"])
    out = capsys.readouterr().out
    assert first == 1  # the lost ones are reported, not retried blindly
    assert "failed" in out
    api.faults.clear()
    run_until_done(repo, capsys)
    assert_exactly_once(api, repo, count)


def test_a_429_storm_is_waited_out_as_advertised(
    api: PinterestEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = content_repo(tmp_path / "repo", api.base_url, 5)
    api.faults.add(Fault(kind="status", status=429, retry_after=0.3, path="/v5/pins", times=6))
    assert main(["-C", str(repo), "apply", "--yes"]) == 0, capsys.readouterr().err
    log = api.requests(path_prefix="/v5/pins")
    for earlier, later in itertools.pairwise(log):
        if earlier.fault is not None and earlier.fault.status == 429:
            assert later.arrived - earlier.arrived >= 0.3
    assert_exactly_once(api, repo, 5)
