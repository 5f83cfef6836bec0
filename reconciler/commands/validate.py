"""pinops validate: every manifest checked, every problem reported at once."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler import exitcodes, report
from reconciler.errors import Problem, ValidationFailed
from reconciler.targets import Desired
from reconciler.workspace import Workspace


@dataclass(frozen=True)
class Checked:
    """What `pinops validate` answers: the text to print, its exit code, and the warnings that a
    GitHub Actions job also shows on their lines (none for --json: its answer holds them)."""

    text: str
    code: int = exitcodes.OK
    annotated: list[Problem] = field(default_factory=list)


def run(workspace: Workspace, *, as_json: bool) -> Checked:
    """Check every manifest. Problems are raised (ValidationFailed), except with `as_json`, whose
    answer holds them."""
    try:
        wanted = workspace.load_desired()
    except ValidationFailed as exc:
        if not as_json:
            raise
        return Checked(document(exc.problems, valid=False), exitcodes.ERROR)
    if as_json:
        return Checked(document(wanted.warnings, valid=True))
    text = report.problems_text(wanted.warnings) + summary(wanted) + "\n"
    return Checked(text, annotated=wanted.warnings)


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
