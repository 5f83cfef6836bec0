"""pinops render: the pins as defaults, vars and templates expand them, with their origins."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler import report, templating
from reconciler.errors import InputError, Problem, ValidationFailed
from reconciler.workspace import Workspace


@dataclass(frozen=True)
class Rendered:
    text: str  # the pins matched, as YAML or JSON
    problems: list[Problem]

    def check(self) -> None:
        """What could not be expanded fails the command, once the rest is shown."""
        if self.problems:
            raise ValidationFailed(self.problems)


def run(workspace: Workspace, ids: list[str], *, as_json: bool) -> Rendered:
    """The pins whose ids match `ids` (shell-style; all of them when none given)."""
    pins, problems = templating.load(workspace.config)
    shown = templating.matching(pins, ids)
    if ids and not shown and not problems:
        raise InputError(
            f"no pin matches {' '.join(ids)}",
            hint="give pin ids (* and ? match); pinops render alone shows every pin",
        )
    return Rendered(report.pins_json(shown) if as_json else report.pins_yaml(shown), problems)
