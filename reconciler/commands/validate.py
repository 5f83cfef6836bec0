"""pinops validate: every manifest checked, every problem reported at once."""

from __future__ import annotations

from reconciler import exitcodes, report
from reconciler.desired import Desired
from reconciler.errors import Problem, ValidationFailed
from reconciler.workspace import Workspace


def as_json(workspace: Workspace) -> tuple[str, int]:
    """The answer of `validate --json`, and its exit code: problems are in it, not raised."""
    try:
        wanted = workspace.load_desired()
    except ValidationFailed as exc:
        return document(exc.problems, valid=False), exitcodes.ERROR
    return document(wanted.warnings, valid=True), exitcodes.OK


def document(problems: list[Problem], *, valid: bool) -> str:
    """The answer of `validate --json`."""
    found = {"valid": valid, "problems": report.problems_json(problems)}
    return report.json_text(found, ensure_ascii=True)


def summary(wanted: Desired) -> str:
    """The closing line: how many pins and warnings."""
    pins = len({t.pin for t in wanted.targets.values()})
    warned = len(wanted.warnings)
    plural = "" if warned == 1 else "s"
    return f"Valid: {pins} pin{'' if pins == 1 else 's'}, {warned} warning{plural}."
