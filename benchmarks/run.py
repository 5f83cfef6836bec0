"""Measure pinops against the performance targets and print each figure next to its target.

    python benchmarks/run.py            # everything (the corpora are made on the first run)
    python benchmarks/run.py --quick    # fewer runs, no 100,000-pin plan and no applies

Every figure is the median wall time of several cold processes (`python -m reconciler ...`),
started the way a user or CI starts pinops. "Cold" runs start with an empty cache; "no manifest
changed" runs follow a run that filled it; "one manifest changed" runs follow one too, with a
pin's title edited in one file since; each figure also shows the median CPU time (user and system)
of those runs, which a busy machine disturbs less than wall time. Peak memory is the child's
maximum resident set size. Corpora (see corpus.py) are kept in benchmarks/.corpus/ and reused.
Beside the cold plans stands the least any cold plan of the same repository costs here
(floor.py): parsing, hashing and reading the state alone, split over two cores.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from benchmarks.corpus import BOARDS, Spec, ensure  # noqa: E402

CORPORA = PROJECT / "benchmarks" / ".corpus"
PINOPS = [sys.executable, "-m", "reconciler"]


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu: float  # user and system time: what the run costs on a shared machine
    peak_mb: float
    code: int
    out: str
    err: str
    marks: list[float]  # when the output lines starting with the mark asked for arrived


def run(argv: list[str], env: dict[str, str], mark: bytes | None = None) -> Run:
    """Run a command to completion; its wall time, its own peak resident memory and, given a
    `mark`, the moments (seconds from the start) its output lines starting with it arrived."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        piped = subprocess.PIPE if mark is not None else out
        child = subprocess.Popen(argv, stdout=piped, stderr=err, env=env, cwd=PROJECT)
        lines = [(time.perf_counter() - start, line) for line in child.stdout or ()]
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return Run(
            seconds,
            usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss / 1024,
            os.waitstatus_to_exitcode(status),
            (b"".join(line for _, line in lines) or out.read()).decode(errors="replace"),
            err.read().decode(errors="replace"),
            [moment for moment, line in lines if mark is not None and line.startswith(mark)],
        )


class Bench:
    def __init__(self, runs: int) -> None:
        self.runs = runs
        self.cache = Path(tempfile.mkdtemp(prefix="pinops-bench-cache-"))
        self.env = {**os.environ, "PINOPS_CACHE_DIR": str(self.cache)}
        self.rows: list[tuple[str, str, str, str]] = []

    def clear_cache(self) -> None:
        shutil.rmtree(self.cache, ignore_errors=True)
        self.cache.mkdir()

    def repeat(
        self, argv: list[str], *, cold: bool, runs: int | None = None, expect: int = 0
    ) -> list[Run]:
        results = []
        if not cold:
            self.clear_cache()
            run(argv, self.env)  # fills the cache
        for _ in range(runs or self.runs):
            if cold:
                self.clear_cache()
            result = run(argv, self.env)
            if result.code != expect:
                raise SystemExit(
                    f"{' '.join(argv)} exited {result.code}, not {expect}:\n{result.err[-2000:]}"
                )
            results.append(result)
        return results

    def row(self, figure: str, measured: str, target: str, met: bool | None) -> None:
        verdict = "" if met is None else ("met" if met else "NOT MET")
        self.rows.append((figure, measured, target, verdict))
        print(f"  {figure:<56} {measured:>26}   {target:<10} {verdict}", flush=True)

    def seconds(self, figure: str, results: list[Run], target: float | None) -> float:
        cpu = statistics.median(r.cpu for r in results)
        return self.seconds_of(figure, [r.seconds for r in results], target, cpu)

    def seconds_of(
        self, figure: str, times: list[float], target: float | None, cpu: float | None = None
    ) -> float:
        median = statistics.median(times)
        met = None if target is None else median <= target
        measured = f"{median:.3f} s" if cpu is None else f"{median:.3f} s (CPU {cpu:.2f} s)"
        self.row(figure, measured, f"≤ {target} s" if target else "", met)
        return median


def plans(bench: Bench, quick: bool) -> None:
    for per_file, label in ((100, "100 files"), (1, "one pin per file")):
        root = ensure(Spec(10_000, per_file), CORPORA, state=True)
        argv = [*PINOPS, "-C", str(root), "plan", "--detailed-exitcode"]
        main = per_file == 100
        bench.seconds(
            f"plan, 10,000 pins in {label}, cold",
            bench.repeat(argv, cold=True),
            0.5 if main else None,
        )
        if main:
            floor(bench, root)
        bench.seconds(
            f"plan, 10,000 pins in {label}, no manifest changed",
            bench.repeat(argv, cold=False),
            0.15 if main else None,
        )
        bench.seconds(
            f"plan, 10,000 pins in {label}, one manifest changed", edited(bench, root, argv), None
        )
        if main:
            bench.seconds(
                f"plan, 10,000 pins in {label}, CI, cache restored",
                restored(bench, root),
                None,
            )
    # A shop's catalogue: 10 CSV files of 1,000 products, every pin field a template.
    root = ensure(Spec(10_000, 1000, generated=True), CORPORA, state=True)
    argv = [*PINOPS, "-C", str(root), "plan", "--detailed-exitcode"]
    bench.seconds(
        "plan, 10,000 pins generated from 10 CSV files, cold", bench.repeat(argv, cold=True), None
    )
    if quick:
        return
    root = ensure(Spec(100_000, 100), CORPORA, state=True)
    argv = [*PINOPS, "-C", str(root), "plan", "--detailed-exitcode"]
    results = bench.repeat(argv, cold=True, runs=max(1, bench.runs // 2))
    bench.seconds("plan, 100,000 pins in 1,000 files, cold", results, 5.0)
    peak = max(r.peak_mb for r in results)
    bench.row("  peak memory", f"{peak:.0f} MB", "≤ 500 MB", peak <= 500)
    floor(bench, root, runs=max(1, bench.runs // 2))
    bench.seconds(
        "plan, 100,000 pins in 1,000 files, no manifest changed",
        bench.repeat(argv, cold=False, runs=max(1, bench.runs // 2)),
        None,
    )


def floor(bench: Bench, root: Path, runs: int | None = None) -> None:
    """The least any cold plan of `root` costs here (floor.py): what the cold plan above it
    measures against."""
    argv = [sys.executable, "-m", "benchmarks.floor", str(root)]
    bench.seconds(
        "  the least any cold plan costs: parse, hash, read state",
        bench.repeat(argv, cold=True, runs=runs),
        None,
    )


def edited(bench: Bench, root: Path, argv: list[str]) -> list[Run]:
    """Times of plans after a run that filled the cache, each with one pin's title in one
    manifest changed since the run before."""
    path = next(p for p in sorted((root / "pins").rglob("*.yaml")) if p.name != "_defaults.yaml")
    original = path.read_bytes()
    bench.clear_cache()
    run(argv, bench.env)
    first = original.index(b'title: "') + len(b'title: "')
    times = []
    try:
        for number in range(bench.runs):
            # The title's first letter, another each time: the same length, so still valid.
            letter = bytes([ord("A") + number])
            path.write_bytes(original[:first] + letter + original[first + 1 :])
            result = run(argv, bench.env)
            if result.code not in (0, 2):
                raise SystemExit(f"{' '.join(argv)} exited {result.code}:\n{result.err[-2000:]}")
            times.append(result)
    finally:
        path.write_bytes(original)
    return times


def restored(bench: Bench, source: Path) -> list[Run]:
    """Times of plans as a GitHub runner makes them: on GitHub Actions (where no earlier plan's
    answer is taken), in a new copy of the repository at the same place each time (new inodes and
    times for every file), with the cache an earlier run there left."""
    env = {**bench.env, "GITHUB_ACTIONS": "true"}
    results = []
    with tempfile.TemporaryDirectory(prefix="pinops-bench-checkout-") as folder:
        root = Path(folder) / "site"
        argv = [*PINOPS, "-C", str(root), "plan", "--detailed-exitcode"]
        bench.clear_cache()
        for number in range(bench.runs + 1):
            shutil.rmtree(root, ignore_errors=True)
            shutil.copytree(source, root, ignore=shutil.ignore_patterns(".complete"))
            result = run(argv, env)
            if result.code != 0:
                raise SystemExit(f"{' '.join(argv)} exited {result.code}:\n{result.err[-2000:]}")
            if number:  # the first run fills the cache, as the run that saved it did
                results.append(result)
    return results


def validate(bench: Bench) -> None:
    root = ensure(Spec(10_000, 100, errors=100), CORPORA, state=False)
    results = bench.repeat([*PINOPS, "-C", str(root), "validate"], cold=True, expect=1)
    bench.seconds("validate, 10,000 pins with 100 errors, cold", results, 1.0)
    errors = [line for line in results[0].err.splitlines() if ": error: " in line]
    located = [line for line in errors if _located(line)]
    bench.row(
        "  errors reported, each at file:line:col",
        f"{len(located)} of {len(errors)}",
        "100 of 100",
        len(located) == len(errors) == 100,
    )


def _located(line: str) -> bool:
    where = line.split(": ", 1)[0].rsplit(":", 2)
    return len(where) == 3 and where[1].isdigit() and where[2].isdigit() and int(where[1]) > 0


def startup(bench: Bench) -> None:
    runs = max(bench.runs * 2, 5)
    bare = bench.repeat([sys.executable, "-c", "pass"], cold=True, runs=runs)
    bench.seconds("python -c pass (this machine's floor)", bare, None)
    bench.seconds("pinops --help", bench.repeat([*PINOPS, "--help"], cold=True, runs=runs), 0.15)


BARE_LOOP = """
import json, sys, httpx
base, token, path = sys.argv[1:]
bodies = json.load(open(path, encoding="utf-8"))
with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
    print("sending", flush=True)
    for body in bodies:
        client.post("/pins", json=body).raise_for_status()
    print("sent", flush=True)
"""


def apply(bench: Bench) -> None:
    """10,000 creates through the Pinterest provider against the local emulator, against a bare
    httpx loop that sends the same request bodies one after another."""
    try:
        from tests.emulators.pinterest import ACCESS_TOKEN, PinterestEmulator
    except ImportError:
        bench.row("apply, 10,000 creates vs a bare httpx loop", "skipped", "≤ 1.5×", None)
        return
    spec = Spec(10_000, 100, image_urls=True)
    source = ensure(spec, CORPORA, state=False)
    env = {**bench.env, "PINTEREST_ACCESS_TOKEN": ACCESS_TOKEN}
    ratios, pinops_times, bare_times, pinops_cpu, bare_cpu = [], [], [], [], []
    per_create: list[float] = []  # pinops' time between creates over the bare loop's
    for _ in range(max(1, bench.runs // 2)):
        with tempfile.TemporaryDirectory(prefix="pinops-bench-apply-") as folder:
            root = Path(folder) / "site"
            shutil.copytree(source, root, ignore=shutil.ignore_patterns(".complete"))
            with PinterestEmulator(processing_polls=0) as api:
                for name in BOARDS:
                    api.add_board(name)
                (root / "pinops.yaml").write_text(
                    f"pins: pins/\naccounts:\n  main:\n    provider: pinterest\n"
                    f"    base_url: {api.base_url}\n"
                    # A local server has no quota: measure pinops, not Pinterest's pacing.
                    "    pace: 1000000/second\n",
                    encoding="utf-8",
                )
                done = run([*PINOPS, "-C", str(root), "apply", "--yes"], env, b"[")
                # A few pins go to several boards: one create per pin and board.
                state = json.loads((root / "pinops.state.json").read_text(encoding="utf-8"))
                if done.code != 0 or len(api.pins) != len(state["pins"]):
                    raise SystemExit(f"apply failed ({len(api.pins)} pins):\n{done.err[-2000:]}")
                bodies = [r.json for r in api.requests("POST", "/v5/pins")]
            sent = Path(folder) / "bodies.json"
            sent.write_text(json.dumps(bodies), encoding="utf-8")
            with PinterestEmulator(processing_polls=0) as api:
                for name in BOARDS:
                    api.add_board(name)
                argv = [sys.executable, "-c", BARE_LOOP, api.base_url, ACCESS_TOKEN, str(sent)]
                bare = run(argv, env, b"sen")
                if bare.code != 0:
                    raise SystemExit(f"the bare loop failed:\n{bare.err[-2000:]}")
        # From the first create's line to the last's; the bare loop's sending, per request.
        created, loop = done.marks, bare.marks
        each = (created[-1] - created[0]) / (len(created) - 1)
        per_create.append(each / ((loop[-1] - loop[0]) / len(bodies)))
        pinops_times.append(done.seconds)
        bare_times.append(bare.seconds)
        pinops_cpu.append(done.cpu)
        bare_cpu.append(bare.cpu)
        ratios.append(done.seconds / bare.seconds)
    bench.row(
        "apply, 10,000 creates (local Pinterest emulator)",
        f"{statistics.median(pinops_times):.2f} s (CPU {statistics.median(pinops_cpu):.2f} s)",
        "",
        None,
    )
    bench.row(
        "  the same requests from a bare httpx loop",
        f"{statistics.median(bare_times):.2f} s (CPU {statistics.median(bare_cpu):.2f} s)",
        "",
        None,
    )
    ratio = statistics.median(ratios)
    bench.row("  apply / bare loop", f"{ratio:.2f}×", "≤ 1.5×", ratio <= 1.5)
    # What the whole run adds is mostly its plan (a cold one: see the plan figures); between
    # creates it is the journal, pacing and bookkeeping.
    bench.row(
        "  per create, after the plan: apply / bare loop",
        f"{statistics.median(per_create):.2f}×",
        "",
        None,
    )


def sandbox_apply(bench: Bench) -> None:
    """10,000 pins published to the built-in sandbox by one `pinops apply`, and whether each
    create costs the same: apply prints a line per change, timed here as it arrives."""
    source = ensure(Spec(10_000, 100), CORPORA, state=True)
    totals: list[float] = []
    cpus: list[float] = []
    first, last = [], []
    for _ in range(max(1, bench.runs // 2)):
        with tempfile.TemporaryDirectory(prefix="pinops-bench-sandbox-") as folder:
            root = Path(folder) / "site"
            ignored = shutil.ignore_patterns(".complete", "pinops.state.json", ".pinops")
            shutil.copytree(source, root, ignore=ignored)
            done = run([*PINOPS, "-C", str(root), "apply", "--yes"], bench.env, b"[")
            moments = done.marks
            if done.code != 0 or len(moments) < 2000:
                raise SystemExit(f"apply to the sandbox failed ({len(moments)} done):\n{done.err}")
        totals.append(done.seconds)
        cpus.append(done.cpu)
        first.append((moments[999] - moments[0]) / 999)
        last.append((moments[-1] - moments[-1000]) / 999)
    bench.seconds_of(
        f"apply, 10,000 pins ({len(moments)} creates) to the built-in sandbox",
        totals,
        10.0,
        statistics.median(cpus),
    )
    early, late = statistics.median(first) * 1000, statistics.median(last) * 1000
    bench.row(
        "  per create: first 1,000 / last 1,000",
        f"{early:.2f} / {late:.2f} ms",
        "flat",
        late <= early * 1.5,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median taken)")
    parser.add_argument("--quick", action="store_true", help="3 runs; no 100k plan, no applies")
    parser.add_argument(
        "--only",
        choices=["startup", "plan", "validate", "apply", "sandbox"],
        action="append",
        help="measure only these (repeatable)",
    )
    args = parser.parse_args()
    os.environ["PINOPS_CACHE_DIR"] = ""  # corpora are made in this process: no cache for that
    bench = Bench(3 if args.quick else args.runs)
    chosen = set(args.only or ["startup", "plan", "validate", "apply", "sandbox"])
    steps: list[tuple[str, Callable[[], None]]] = [
        ("startup", lambda: startup(bench)),
        ("plan", lambda: plans(bench, args.quick)),
        ("validate", lambda: validate(bench)),
        ("apply", lambda: apply(bench)),
        ("sandbox", lambda: sandbox_apply(bench)),
    ]
    if args.quick:
        chosen -= {"apply", "sandbox"}
    # An installed pinops has its modules compiled (pip compiles them at install): a run measures
    # pinops, not Python compiling it, even where PYTHONDONTWRITEBYTECODE keeps imports from
    # writing the compiled files.
    compileall.compile_dir(PROJECT / "reconciler", quiet=1)
    print(
        f"pinops benchmarks: {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.2f}, Python {sys.version.split()[0]}, "
        f"median of {bench.runs} runs\n"
    )
    print(f"  {'figure':<56} {'measured':>26}   {'target':<10}")
    try:
        for name, step in steps:
            if name in chosen:
                step()
    finally:
        shutil.rmtree(bench.cache, ignore_errors=True)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
