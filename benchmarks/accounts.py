"""Accounts applied side by side: 20 accounts × 50 new pins against the Pinterest emulator, each
account (each user's token) with its own write budget: Pinterest's org_write quota, 100 writes a
minute per user, scaled down to `WRITES` a second so that the whole benchmark takes a few minutes.
Every account is held back by its budget (429 with Retry-After, waited out), as a paced account is.

    python benchmarks/accounts.py                 # 20 accounts × 50 pins
    python benchmarks/accounts.py --accounts 5 --pins 20

Three cold `pinops apply` processes, each on a fresh emulator and an empty state:
  sequential  --parallel 1: the accounts one after another (the sum of their times);
  alone       --account X: the account that took longest in the sequential run, by itself;
  parallel    --parallel <accounts>: every account at once.
The target: parallel ≤ 1.3 × alone, i.e. the accounts do not slow one another down.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from tests.emulators.pinterest import PinterestEmulator  # noqa: E402

WRITES = 10  # writes a second per account
TARGET = 1.3


def token(number: int) -> str:
    return f"pina_benchmark_token_of_brand_{number:02d}"


def content_repo(root: Path, base_url: str, accounts: int, pins: int) -> Path:
    (root / "pins").mkdir(parents=True)
    config = ["accounts:"]
    for number in range(accounts):
        config += [
            f"  brand-{number:02d}:",
            "    provider: pinterest",
            f"    base_url: {base_url}",
            "    credentials:",
            f"      access_token: BRAND_{number:02d}_TOKEN",
        ]
    (root / "pinops.yaml").write_text("\n".join(config) + "\n", encoding="utf-8")
    for number in range(accounts):
        lines = ["defaults:", "  board: Recipes", f"  account: brand-{number:02d}", "pins:"]
        for n in range(pins):
            lines += [
                f"  - id: brand-{number:02d}-pin-{n:03d}",
                f"    title: Recipe {n} of brand {number}",
                f"    link: https://example.com/brand-{number}/{n}",
                f"    alt_text: Dish {n} of brand {number}",
                f"    image: https://images.example.com/brand-{number}/{n}.jpg",
            ]
        (root / "pins" / f"brand-{number:02d}.yaml").write_text("\n".join(lines) + "\n", "utf-8")
    return root


def apply(accounts: int, pins: int, options: list[str]) -> tuple[float, dict[int, float]]:
    """One cold apply on a fresh emulator and state: its wall time, and each account's time from
    its first create to its last as the emulator saw them."""
    tokens = [token(number) for number in range(accounts)]
    api = PinterestEmulator(access_tokens=tokens, write_limit_per_minute=WRITES, minute=1.0)
    with tempfile.TemporaryDirectory() as folder, api:
        api.add_board("Recipes")
        repo = content_repo(Path(folder) / "repo", api.base_url, accounts, pins)
        env = {k: v for k, v in os.environ.items() if k != "CI"}
        env.update({f"BRAND_{number:02d}_TOKEN": token(number) for number in range(accounts)})
        env["PYTHONPATH"] = str(PROJECT)
        command = [sys.executable, "-m", "reconciler", "-C", str(repo), "apply", "--yes", *options]
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        if done.returncode != 0 or len(api.pins) != pins * (
            1 if "--account" in options else accounts
        ):
            sys.exit(f"apply {' '.join(options)} failed:\n{done.stdout}\n{done.stderr}")
        times: dict[int, list[float]] = {}
        for request in api.requests("POST", "/v5/pins"):
            owner = tokens.index(request.headers["authorization"].split()[1])
            times.setdefault(owner, []).append(request.arrived)
        return seconds, {owner: max(seen) - min(seen) for owner, seen in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--pins", type=int, default=50)
    args = parser.parse_args()
    accounts, pins = args.accounts, args.pins
    print(f"{accounts} accounts × {pins} new pins, each account at most {WRITES} writes a second")

    sequential, spans = apply(accounts, pins, ["--parallel", "1"])
    slowest = f"brand-{max(spans, key=spans.__getitem__):02d}"
    alone, _ = apply(accounts, pins, ["--account", slowest])
    parallel, _ = apply(accounts, pins, ["--parallel", str(accounts)])

    ratio = parallel / alone
    verdict = "met" if ratio <= TARGET else "NOT met"
    rows = [
        (f"parallel (--parallel {accounts})", parallel, ""),
        (
            f"slowest account alone ({slowest})",
            alone,
            f"parallel / alone = {ratio:.2f} (target ≤ {TARGET}: {verdict})",
        ),
        ("sequential (--parallel 1)", sequential, f"{sequential / parallel:.1f} × parallel"),
    ]
    for label, seconds, note in rows:
        print(f"  {label:<38} {seconds:7.1f} s   {note}".rstrip())


if __name__ == "__main__":
    main()
