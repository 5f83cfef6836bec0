"""Measure `pinops preview` of a plan of 2,000 changed pins; print each figure next to its target.

    python benchmarks/preview.py [--runs N]     # the corpus is made on the first run, then reused

The corpus is a content repository whose 2,000 pins each have their own photo-sized image
(1000×1500 JPEG, or PNG for one in eight, with a gradient and shapes so that it compresses and
decodes like a picture), and a state file that makes the plan a mix: creates, updates (a title
changed), replaces (another image before) and pins waiting for `publish_at`. The figures are the
median wall time of cold processes (`python -m reconciler preview`, nothing cached) and the size
of the folder written.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from reconciler import desired, pinfields, providers  # noqa: E402
from reconciler.config import find_root  # noqa: E402
from reconciler.config import load as load_config  # noqa: E402
from reconciler.providers import sandbox  # noqa: E402
from reconciler.state import Record, State  # noqa: E402
from reconciler.statefile import StateFile  # noqa: E402

PINS = 2_000
BOARDS = ("Recipes", "Home Decor", "Garden Ideas", "Travel Japan", "Style Guide")
TARGET_SECONDS = 10.0
TARGET_MB = 50.0
VERSION = 1
CONFIG = f"""pins: pins/
state: pinops.state.json
accounts:
  main:
    provider: sandbox
    boards: [{", ".join(BOARDS)}]
"""


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


def _image(rng: random.Random, path: Path) -> None:
    ramp = Image.linear_gradient("L").resize((1000, 1500))
    image = Image.composite(
        Image.new("RGB", ramp.size, _colour(rng)), Image.new("RGB", ramp.size, _colour(rng)), ramp
    )
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y, size = rng.randrange(1000), rng.randrange(1500), rng.randrange(40, 400)
        draw.ellipse((x, y, x + size, y + size), fill=_colour(rng))
    if path.suffix == ".png":
        image.save(path, "PNG")
    else:
        image.save(path, "JPEG", quality=85)


def make(root: Path) -> None:
    """A repository of PINS pins, and a state under which each of them is a change."""
    rng = random.Random("pinops-preview-benchmark")
    (root / "pins" / "media").mkdir(parents=True)
    (root / "pinops.yaml").write_text(CONFIG, encoding="utf-8")
    lines = ["pins:"]
    for number in range(PINS):
        name = f"{number:05d}.{'png' if number % 8 == 7 else 'jpg'}"
        _image(rng, root / "pins" / "media" / name)
        lines += [
            f"  - id: pin-{number:05d}",
            f"    title: Pin number {number} with a title long enough to be cut in the feed",
            f"    description: The description of pin {number}, about the pin and its picture.",
            f"    link: https://shop.example.com/item/{number}?utm_source=pinterest",
            f"    alt_text: A picture for pin {number}",
            f"    image: media/{name}",
            f"    board: {BOARDS[number % len(BOARDS)]}",
        ]
        if number % 10 == 9:
            lines.append(f"    publish_at: 2030-01-{number % 28 + 1:02d}T12:00:00Z")
    (root / "pins" / "pins.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = load_config(find_root(root))
    wanted = desired.load(config, providers.capabilities)
    state = State(lineage="00000000-0000-4000-8000-000000000000")
    state.boards = {"main": {name: sandbox.board_id(name) for name in BOARDS}}
    for number, (key, target) in enumerate(sorted(wanted.targets.items())):
        kind = number % 10
        if kind < 4 or kind == 9:
            continue  # a create, or a wait for publish_at
        fields = target.fields.to_json()
        if kind < 8:
            fields["title"] = f"An older title of pin {number}"  # an update
        else:
            other = wanted.targets[f"pin-{(number + 1) % PINS:05d}"].fields.image
            fields["image"] = other.to_json() if other else None
        state.pins[key] = Record(
            provider="sandbox",
            account="main",
            content_hash=pinfields.content_hash(fields),
            pin_id=sandbox.pin_id("main", number + 1),
            board=target.board,
            board_id=sandbox.board_id(target.board),
            fields=fields,
            published_at="2026-01-15T09:30:00Z",
        )
    StateFile(config.state_path).write(state)


def ensure(base: Path) -> Path:
    """The corpus under `base`, made once and reused (a half-made one is made again)."""
    root = base / f"preview-{PINS}pins-v{VERSION}"
    marker = root / ".complete"
    if marker.exists():
        return root
    if root.exists():
        shutil.rmtree(root)
    print(f"making the corpus in {root} (once)...", flush=True)
    make(root)
    marker.write_text("", encoding="utf-8")
    return root


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = ensure(PROJECT / "benchmarks" / ".corpus")
    times: list[float] = []
    cpu: list[float] = []
    sizes: list[int] = []
    said = ""
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as scratch:
            out = Path(scratch) / "preview"
            env = {"PINOPS_CACHE_DIR": "", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT)}
            argv = [
                sys.executable,
                "-m",
                "reconciler",
                "-C",
                str(root),
                "preview",
                "--out",
                str(out),
            ]
            with tempfile.TemporaryFile() as said_to:
                start = time.perf_counter()
                child = subprocess.Popen(argv, stdout=said_to, stderr=subprocess.STDOUT, env=env)
                _, status, usage = os.wait4(child.pid, 0)
                times.append(time.perf_counter() - start)
                cpu.append(usage.ru_utime + usage.ru_stime)
                said_to.seek(0)
                said = said_to.read().decode(errors="replace").strip()
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit(f"preview failed: {said}")
            sizes.append(folder_size(out))
    seconds, megabytes = statistics.median(times), max(sizes) / 1e6
    print(said)
    label = f"preview of {PINS:,} changed pins"
    print(f"{'figure':<40} {'measured':>9}  target")
    print(f"{label + ', time':<40} {seconds:>7.1f} s  ≤ {TARGET_SECONDS:.0f} s")
    print(f"{label + ', CPU time (all cores)':<40} {statistics.median(cpu):>7.1f} s  —")
    print(f"{label + ', size':<40} {megabytes:>6.1f} MB  ≤ {TARGET_MB:.0f} MB")


if __name__ == "__main__":
    main()
