"""Manifest files derived ahead in a second process (prederive.py): a real fork, and plans that
come out the same whether it ran, ran in part or did not run at all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from reconciler import prederive
from tests.conftest import PROJECT
from tests.mediafiles import write_png

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork") or (os.cpu_count() or 1) < 2, reason="forks on a second core"
)


def marks(folder: Path) -> dict[str, int]:
    """What the derive callbacks left: the name each was called for, and the process it ran in."""
    return {p.name: int(p.read_text()) for p in folder.iterdir()}


def marking(folder: Path) -> prederive.Derive:
    def derive(paths: Iterable[Path]) -> None:
        for path in paths:
            (folder / path.name).write_text(str(os.getpid()))

    return derive


def test_the_later_half_is_derived_in_another_process(tmp_path: Path) -> None:
    paths = [Path(f"f{n}.yaml") for n in range(8)]
    helper = prederive.start(paths, lambda _: prederive.WORTH // 4, marking(tmp_path))
    assert helper is not None
    helper.join()
    assert helper.paths == frozenset(paths[4:])
    found = marks(tmp_path)
    assert sorted(found) == [p.name for p in paths[4:]]
    assert set(found.values()) == {helper.pid} and helper.pid != os.getpid()


def test_the_run_waits_for_each_file_only_until_it_is_done(tmp_path: Path) -> None:
    def slow(paths: Iterable[Path]) -> None:
        for path in paths:
            time.sleep(0.05)
            (tmp_path / path.name).write_text(str(os.getpid()))

    paths = [Path(f"f{n}.yaml") for n in range(8)]
    helper = prederive.start(paths, lambda _: prederive.WORTH // 4, slow)
    assert helper is not None
    for path in paths[4:]:
        helper.wait_for(path)
        assert path.name in marks(tmp_path)  # done when waited for, however slow
    helper.stop()


def test_a_fork_that_ends_early_is_not_waited_for_again(tmp_path: Path) -> None:
    def failing(paths: Iterable[Path]) -> None:
        for path in paths:
            (tmp_path / path.name).write_text(str(os.getpid()))
            raise RuntimeError("a failure in the fork after its first file")

    paths = [Path(f"f{n}.yaml") for n in range(8)]
    helper = prederive.start(paths, lambda _: prederive.WORTH // 4, failing)
    assert helper is not None
    helper.wait_for(paths[-1])  # returns: it has ended
    assert sorted(marks(tmp_path)) == ["f4.yaml"]
    helper.stop()


def test_joined_again_it_closes_nothing_else(tmp_path: Path) -> None:
    paths = [Path(f"f{n}.yaml") for n in range(8)]
    helper = prederive.start(paths, lambda _: prederive.WORTH // 4, marking(tmp_path))
    assert helper is not None
    helper.join()
    with (tmp_path / "other").open("w") as other:  # may be given the pipe's old number
        helper.stop()
        other.write("still open")
    assert (tmp_path / "other").read_text() == "still open"


def test_small_work_stays_in_the_run(tmp_path: Path) -> None:
    paths = [Path("a.yaml"), Path("b.yaml")]
    assert prederive.start(paths, lambda _: 100, marking(tmp_path)) is None
    assert marks(tmp_path) == {}


def test_no_fork_while_another_thread_runs(tmp_path: Path) -> None:
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        paths = [Path(f"f{n}.yaml") for n in range(4)]
        assert prederive.start(paths, lambda _: prederive.WORTH, marking(tmp_path)) is None
    finally:
        release.set()
        other.join()


def test_what_the_fork_prints_is_not_shown(capfd: pytest.CaptureFixture[str]) -> None:
    def loud(_: Iterable[Path]) -> None:
        print("from the fork", flush=True)
        print("and its errors", file=sys.stderr, flush=True)
        raise RuntimeError("a failure in the fork")

    helper = prederive.start([Path("a"), Path("b")], lambda _: prederive.WORTH, loud)
    assert helper is not None
    helper.join()
    assert capfd.readouterr() == ("", "")


def test_a_fork_still_running_is_stopped() -> None:
    def forever(paths: Iterable[Path]) -> None:
        for _ in paths:
            time.sleep(3600)

    helper = prederive.start([Path("a"), Path("b")], lambda _: prederive.WORTH, forever)
    assert helper is not None
    started = time.monotonic()
    helper.stop()
    assert time.monotonic() - started < 30
    with pytest.raises(ProcessLookupError):
        os.kill(helper.pid, 0)


# A repository large enough for the second process: 48 files of 30 pins with long text.
_FILES = 48


def catalog(root: Path, *, broken: bool = False) -> Path:
    (root / "pins" / "media").mkdir(parents=True)
    write_png(root / "pins" / "media" / "a.png", 1000, 1500)
    (root / "pinops.yaml").write_text(
        "pins: pins/\naccounts:\n  main:\n    provider: sandbox\n    boards: [Recipes, Garden]\n",
        encoding="utf-8",
    )
    words = "sourdough Zürich 東京 garden борщ crêpes weeknight herbs terracotta calm " * 6
    for number in range(_FILES):
        pins = []
        for index in range(30):
            pin = number * 30 + index
            # The last file declares an id of the first again: a duplicate across the halves.
            ident = 0 if (broken and number == _FILES - 1 and index == 29) else pin
            pins.append(
                f"  - id: pin-{ident:05d}\n"
                f'    title: "Garden {pin} ideas"\n'
                f'    description: "Garden {pin} {words}"\n'
                f'    link: "https://shop.example.com/p/{pin}?utm_source=pinterest"\n'
                f"    image: ../media/a.png\n"
                f"    board: {'Recipes' if pin % 2 else 'Garden'}\n"
            )
        if broken and number == _FILES - 2:
            pins[3] = pins[3].replace("board: Recipes", "board: Nowhere")
        folder = root / "pins" / f"g{number % 4}"
        folder.mkdir(exist_ok=True)
        (folder / f"f{number:03d}.yaml").write_text("pins:\n" + "".join(pins), encoding="utf-8")
    manifests = sum(p.stat().st_size for p in (root / "pins").rglob("*.yaml"))
    assert manifests > prederive.WORTH * 2
    return root


def cli(root: Path, cache: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PINOPS_CACHE_DIR": cache}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "-C", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT,
        timeout=300,
    )


@pytest.mark.parametrize("broken", [False, True], ids=["valid", "errors"])
def test_a_cold_plan_with_a_second_process_is_the_plan_without_one(
    tmp_path: Path, broken: bool
) -> None:
    root = catalog(tmp_path / "site", broken=broken)
    alone = cli(root, "", "plan", "--json")  # no cache: no second process
    cache = tmp_path / "cache"
    together = cli(root, str(cache), "plan", "--json")
    assert (together.returncode, together.stdout, together.stderr) == (
        alone.returncode,
        alone.stdout,
        alone.stderr,
    )
    assert alone.returncode == (1 if broken else 0)
    if broken:
        assert "duplicate id 'pin-00000'" in alone.stderr and "'Nowhere'" in alone.stderr
    again = cli(root, str(cache), "plan", "--json")  # from what both processes left
    assert (again.returncode, again.stdout, again.stderr) == (
        alone.returncode,
        alone.stdout,
        alone.stderr,
    )


def test_a_plan_interrupted_while_both_derive_leaves_nothing_wrong(tmp_path: Path) -> None:
    root = catalog(tmp_path / "site")
    alone = cli(root, "", "plan", "--json")
    cache = tmp_path / "cache"
    for delay in (0.3, 0.6, 0.9):
        started = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "-C", str(root), "plan", "--json"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PINOPS_CACHE_DIR": str(cache)},
            cwd=PROJECT,
            start_new_session=True,
        )
        time.sleep(delay)
        with_fork = os.getpgid(started.pid)
        os.killpg(with_fork, signal.SIGKILL)  # the run and its second process, at once
        started.wait(timeout=60)
    after = cli(root, str(cache), "plan", "--json")
    assert (after.returncode, after.stdout, after.stderr) == (
        alone.returncode,
        alone.stdout,
        alone.stderr,
    )
