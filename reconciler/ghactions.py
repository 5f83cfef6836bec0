"""The GitHub Actions runner's formats and files: annotations, the job summary, step outputs, and
what the runner says about the run (its page, the pull request's head commit).

What a command's result shows there is ghreporter.py's choice; this module only speaks the
runner's language. Used when GITHUB_ACTIONS=true.

The runner reads workflow commands (`::error file=…::`) from a step's standard output and standard
error alike; pinops writes them to standard error, so that standard output stays the rendered plan
a workflow may save. The summary and outputs are files the runner names in GITHUB_STEP_SUMMARY
and GITHUB_OUTPUT.

Text printed on a log line is made safe for the runner by logline.escape; an annotation is itself
a command, whose properties and message carry the runner's own %-escapes instead.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from reconciler import redact
from reconciler.errors import PinopsError, Problem


def active() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def workspace_prefix(root: Path) -> str:
    """The pinops root as a path inside the checked-out repository, for annotation file names."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if not workspace:
        return ""
    try:
        inside = root.resolve().relative_to(Path(workspace).resolve()).as_posix()
    except ValueError:
        return ""
    return "" if inside == "." else inside + "/"


def annotation(problem: Problem, prefix: str = "") -> str:
    """`::error file=…,line=…,col=…,title=pinops::message (hint)` for one problem."""
    command = "error" if problem.severity == "error" else "warning"
    location = problem.location
    parts = [f"file={_property(prefix + location.file)}"]
    if location.line:
        parts.append(f"line={location.line}")
    if location.column:
        parts.append(f"col={location.column}")
    parts.append("title=pinops")
    message = problem.message + (f" ({problem.hint})" if problem.hint else "")
    return f"::{command} {','.join(parts)}::{_data(message)}"


def error_annotation(error: PinopsError, prefix: str = "") -> str:
    """`::error …::message (hint)` for an error that stopped a command, at its line if known."""
    if error.location is not None:
        return annotation(Problem(error.location, error.message, error.hint), prefix)
    message = error.message + (f" ({error.hint})" if error.hint else "")
    return f"::error title=pinops::{_data(message)}"


def append_summary(markdown: str) -> None:
    """Add to this step's job summary (GITHUB_STEP_SUMMARY); nothing outside a runner.

    The file bypasses standard output, so it is masked here as standard output is.
    """
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        text = redact.redact(markdown)
        with Path(path).open("a", encoding="utf-8") as summary:
            summary.write(text if text.endswith("\n") else text + "\n")


def set_outputs(values: dict[str, str]) -> None:
    """Step outputs (GITHUB_OUTPUT), in the delimited form that is safe for any value."""
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        return
    with Path(path).open("a", encoding="utf-8") as outputs:
        for name, value in values.items():
            delimiter = f"pinops_{uuid.uuid4().hex}"
            outputs.write(f"{name}<<{delimiter}\n{redact.redact(value)}\n{delimiter}\n")


_SHA = re.compile(r"[0-9a-f]{40}")
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def pinned_media_base(root: Path) -> str | None:
    """Where a pull request's own media files are served at its head commit, for thumbnails in
    the comment and job summary: raw.githubusercontent.com/OWNER/REPO/SHA/ on github.com (the
    head repository's, so a fork's files are found too), SERVER/OWNER/REPO/raw/SHA/ elsewhere.
    None outside a pull request. Such URLs render only where GitHub's image proxy can fetch them
    without signing in: in public repositories (docs/workflow.md)."""
    try:
        event = json.loads(Path(os.environ["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))
        head = event["pull_request"]["head"]
        sha, repository = head["sha"], head["repo"]["full_name"]
    except (KeyError, TypeError, OSError, ValueError):
        return None
    if not (
        isinstance(sha, str)
        and _SHA.fullmatch(sha)
        and isinstance(repository, str)
        and _REPOSITORY.fullmatch(repository)
    ):
        return None
    inside = quote(workspace_prefix(root))
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    if server == "https://github.com":
        return f"https://raw.githubusercontent.com/{repository}/{sha}/{inside}"
    return f"{server}/{repository}/raw/{sha}/{inside}"


def run_url() -> str | None:
    """This workflow run's page, where its artifacts are listed."""
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repository, run = os.environ.get("GITHUB_REPOSITORY"), os.environ.get("GITHUB_RUN_ID")
    if not (repository and run and _REPOSITORY.fullmatch(repository) and run.isdigit()):
        return None
    return f"{server}/{repository}/actions/runs/{run}"


@dataclass(frozen=True)
class Run:
    """The workflow run pinops is part of: the commit it works on and the run's page."""

    commit: str
    url: str


def current_run() -> Run | None:
    """This run, from the runner's variables; None outside GitHub Actions.

    On a pull request the commit is the pull request's head (GITHUB_SHA is a merge commit no one
    has seen), read from the event the runner wrote (GITHUB_EVENT_PATH).
    """
    if not active():
        return None
    env = os.environ
    commit = env.get("GITHUB_SHA", "")
    try:
        event = json.loads(Path(env.get("GITHUB_EVENT_PATH", "")).read_text(encoding="utf-8"))
        commit = str(event["pull_request"]["head"]["sha"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    # Both go into Markdown as they are: only shapes that cannot carry markup are kept.
    commit = commit if _SHA.fullmatch(commit) else ""
    url = run_url() or ""
    return Run(commit, url) if commit or url else None
