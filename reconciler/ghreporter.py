"""What a command's result shows in a GitHub Actions job: masks of secret values, annotations on
manifest lines, the job summary and step outputs.

The command line hands the Reporter each result as it is printed; outside Actions the Reporter
writes nothing to the runner (masking pinops's own output aside). ghactions.py holds the runner's
formats and files.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler import ghactions, redact
from reconciler.errors import PinopsError, SafetyBlocked, ValidationFailed

if TYPE_CHECKING:
    from reconciler.commands.apply import Applied, Review
    from reconciler.commands.plan import Shown
    from reconciler.errors import Problem


class Reporter:
    """The runner's side of one pinops run in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.active = ghactions.active()

    def _prefix(self) -> str:
        """The pinops root as a path in the checkout, for annotation file names."""
        from reconciler.config import find_root

        try:
            return ghactions.workspace_prefix(find_root(self.directory))
        except PinopsError:
            return ""

    def mask(self, values: list[str | None]) -> None:
        """Mask credential values in everything pinops prints, and in GitHub's job log."""
        if self.active:
            # GitHub masks these in the job log too; this is the one place a credential is
            # written. Standard error: standard output may be redirected to a file (a plan,
            # --json). Past the redacting stream, if it is in place: a masked value would mask
            # nothing.
            stream = sys.stderr.wrapped if isinstance(sys.stderr, redact.Stream) else sys.stderr
            for value in filter(None, values):
                stream.write(f"::add-mask::{value}\n")
            stream.flush()
        redact.register(*values)

    def problems(self, found: list[Problem]) -> None:
        """Each problem an annotation on its manifest line (of an advice rule's many warnings,
        the first few and a count)."""
        if self.active:
            from reconciler import advice

            prefix = self._prefix()
            for problem in advice.summarised(found):
                print(ghactions.annotation(problem, prefix), file=sys.stderr)

    def failure(self, command: str, error: PinopsError) -> None:
        """An error is an annotation (at its line, when it has one) and goes to the job summary,
        as a failed plan's comment does."""
        from reconciler import markdown

        if isinstance(error, ValidationFailed):
            self.problems(error.problems)
        if not self.active or (command == "plan" and isinstance(error, SafetyBlocked)):
            return  # outside Actions; or the plan, written already, shows the block
        if not isinstance(error, ValidationFailed):  # problems are annotated one by one
            print(ghactions.error_annotation(error, self._prefix()), file=sys.stderr)
        from reconciler.commands import failure

        ghactions.append_summary(failure.markdown_text(command, error, markdown.SUMMARY_LIMIT))

    def plan(self, shown: Shown) -> None:
        """The plan shown in the job summary; whether it has changes, or is blocked, as outputs."""
        if not self.active:
            return
        from reconciler import markdown

        ghactions.append_summary(shown.markdown(markdown.SUMMARY_LIMIT))
        whole = shown.whole
        ghactions.set_outputs(
            {
                "checksum": whole.checksum,
                "changes": "true" if whole.has_changes else "false",
                "blocked": "true" if whole.blocked else "false",
            }
        )

    def review(self, review: Review) -> None:
        """How the plan applied differs from the plan reviewed, in the job summary."""
        if self.active and review.differences:
            from reconciler import markdown_results

            ghactions.append_summary(
                markdown_results.differences(review.differences, review.policy)
            )

    def applied(self, applied: Applied) -> None:
        """Each change's result in the job summary; counts and the state commit as outputs."""
        if not self.active:
            return
        from reconciler import markdown, markdown_results, report

        made, outcomes, pushed = applied.planned.plan, applied.outcomes, applied.pushed
        if outcomes:
            result = report.apply_summary(outcomes).splitlines()[0]
        else:
            result = report.summary(made) if made.has_changes else "No changes to make now."
        line = applied.commit_line
        # A line per account when there are several, as on the terminal; then the commit.
        notes = [
            f"- {markdown.code(account)}: {markdown.escape(counts)}"
            for account, counts in report.per_account(outcomes)
        ]
        if line is not None:
            notes += ["", markdown.escape(line)] if notes else [markdown.escape(line)]
        footer = markdown_results.provenance(ghactions.current_run(), "Applied")
        ghactions.append_summary(markdown_results.apply(outcomes, result, notes, footer=footer))
        ghactions.set_outputs(
            {
                "published": str(sum(1 for o in outcomes if o.ok)),
                "failed": str(sum(1 for o in outcomes if not o.ok)),
                "state_commit": pushed.commit if pushed else "",
            }
        )
