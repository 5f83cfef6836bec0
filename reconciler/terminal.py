"""What a terminal shows beyond plain text: colour, and a progress bar with rate and ETA.

rich decides what the stream can take (a terminal or not, NO_COLOR, FORCE_COLOR, TERM=dumb), so
that no terminal code is written here. Where colour is off, the text is written as it is, byte
for byte the text that pipes, logs and CI get; CI (CI=true) and pipes get plain progress lines.
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from reconciler import report
from reconciler.logline import escape

if TYPE_CHECKING:
    from reconciler.outcome import Outcome, Step


def _console(stream: TextIO) -> Console:
    # No markup, highlighting or emoji: the text is the manifests' and printed as it is; no
    # wrapping, so that a long value stays on its line.
    return Console(
        file=stream, markup=False, highlight=False, emoji=False, soft_wrap=True, safe_box=True
    )


def coloured(stream: TextIO) -> bool:
    console = _console(stream)
    return console.color_system is not None and not console.no_color


def show(lines: list[report.Line], stream: TextIO) -> None:
    """Lines of text in their styles where the stream shows colour, else as plain text."""
    if not coloured(stream):
        stream.write(report.text(lines))
        return
    console = _console(stream)
    for line in lines:
        console.print(
            Text.assemble(*((part, report.STYLES.get(style, "")) for part, style in line))
        )


def interactive(stream: TextIO) -> bool:
    """A person watching a terminal: not CI, and not a pipe or a log file."""
    return os.environ.get("CI", "").lower() not in ("true", "1") and _console(stream).is_terminal


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if not speed:
            return Text("", style="progress.data.speed")
        shown = f"{speed:.1f}/s" if speed >= 1 else f"{speed * 60:.1f}/min"
        return Text(shown, style="progress.data.speed")


class ApplyProgress:
    """Each outcome as a line, named by its account when the run applies several; on a terminal
    also a bar with count, rate and time left for each account being applied."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        # Asked once: it takes a console of its own, and a run prints thousands of lines.
        self._interactive = interactive(stream)
        self._bar: Progress | None = None
        self._tasks: dict[str | None, TaskID] = {}

    def __call__(self, outcome: Outcome, step: Step) -> None:
        line = report.outcome_line(outcome, step.number, step.total)
        if step.account is not None:
            line = f"{escape(step.account)} {line}"
        if not self._interactive:
            self.stream.write(line + "\n")  # one write: each goes through the masking
            self.stream.flush()
            return
        if self._bar is None:
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                _Rate(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=_console(self.stream),
                transient=True,
            )
            self._bar.start()
        if step.account not in self._tasks:
            self._tasks[step.account] = self._bar.add_task(
                f"applying {step.account}" if step.account else "applying", total=step.total
            )
        style = "note" if outcome.skipped else outcome.change.action if outcome.ok else "removed"
        self._bar.console.print(Text(line, style=report.STYLES.get(style, "")))
        task = self._tasks[step.account]
        # An account's bar goes once it is done: the bars shown are the accounts at work.
        self._bar.update(task, completed=step.number, visible=step.number < step.total)
        self._bar.refresh()

    def __enter__(self) -> ApplyProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
