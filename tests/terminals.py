"""pinops run on a real pseudo-terminal, as a person at a keyboard runs it."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
from dataclasses import dataclass

# What would make a run think it is in CI, or decide colour for it.
_CLEARED = ("CI", "GITHUB_ACTIONS", "NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS")


def environment(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in _CLEARED}
    return env | {"TERM": "xterm-256color"} | extra


@dataclass(frozen=True)
class Session:
    code: int
    screen: str  # everything written to the terminal, control sequences and all


def on_terminal(
    *args: str,
    env: dict[str, str] | None = None,
    when: str = "",
    answer: str | None = None,
) -> Session:
    """Run `python -m reconciler ARGS` on a pseudo-terminal. Once `when` is written, type
    `answer` (with Enter), or press Ctrl-C when there is no answer."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env or environment(),
        close_fds=True,
        # As a shell starts a command in the foreground: Ctrl-C interrupts it, even when these
        # tests run in the background (where SIGINT is ignored, and children inherit that).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    os.close(follower)
    written, acted, quiet = b"", not when, 0.0
    try:
        while True:
            # A Ctrl-C that lands just before the command starts reading is taken, but nothing
            # wakes the read: as a person would, press it again while nothing happens.
            ready, _, _ = select.select([leader], [], [], 5)
            if not ready:
                quiet += 5
                if quiet >= 120:
                    raise AssertionError(f"no output for 120 s; so far: {written!r}")
                if when and acted and answer is None:
                    process.send_signal(signal.SIGINT)
                continue
            quiet = 0.0
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other side closed: the run is over
                break
            if not chunk:
                break
            written += chunk
            if not acted and when.encode() in written:
                acted = True
                if answer is None:
                    process.send_signal(signal.SIGINT)
                else:
                    os.write(leader, answer.encode() + b"\r")
    finally:
        os.close(leader)
        if process.poll() is None:
            process.wait(timeout=60)
    return Session(process.returncode, written.decode("utf-8", "replace").replace("\r\n", "\n"))
