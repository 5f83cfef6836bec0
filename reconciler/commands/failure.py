"""What a command that failed or was interrupted still says: the error for standard error, the
document a --json or comment run still owes its reader, and the error as Markdown for the pull
request and the job summary."""

from __future__ import annotations

from reconciler import ghactions, redact
from reconciler.errors import PinopsError, ValidationFailed

_INTERRUPTED = {
    "apply": "what was published so far is recorded in the state, and running pinops apply "
    "again is safe: it publishes nothing twice and goes on with the rest",
}


def text(error: PinopsError) -> str:
    """The error as standard error shows it (every problem, for a failed validation)."""
    # Only once a command failed: remembered plan answers (plananswers.py) stay quick.
    from reconciler import report

    if isinstance(error, ValidationFailed):
        return report.problems_text(error.problems) + f"error: {error.message}\n"
    return redact.redact(error.line()) + "\n"


def interrupted(command: str) -> str:
    """What Ctrl-C left behind."""
    said = _INTERRUPTED.get(command)
    return "\ninterrupted" + (f": {said}" if said else "")


def document(command: str, error: PinopsError, *, form: str | None, as_json: bool) -> str | None:
    """A command asked for JSON (--format json, --json), or for the plan comment, still writes
    its document on standard output when it fails: the error as JSON; as the comment, so that
    the pull request shows it. None when it was asked for neither."""
    from reconciler import markdown, report

    wants_comment = command == "plan" and form == "markdown"
    if not (form == "json" or as_json or wants_comment):
        return None
    if wants_comment:
        return markdown_text(command, error, markdown.COMMENT_LIMIT)
    found = {
        "error": error.message,
        "location": str(error.location) if error.location else None,
        "hint": error.hint or None,
        "problems": report.problems_json(
            error.problems if isinstance(error, ValidationFailed) else []
        ),
    }
    return report.json_text(found)


def markdown_text(command: str, error: PinopsError, limit: int) -> str:
    """The error that stopped a command as Markdown, naming the commit and the run."""
    from reconciler import markdown_results

    footer = markdown_results.provenance(ghactions.current_run(), "Failed")
    if isinstance(error, ValidationFailed):
        title = f"pinops {command}"
        return markdown_results.problems(error.problems, limit=limit, title=title, footer=footer)
    return markdown_results.failure(error, command) + footer
