"""pinops init: a content repository started, with the workflows that install this pinops."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

from reconciler import gitrepo, initrepo, installation
from reconciler.errors import InputError


@dataclass(frozen=True)
class Started:
    folder: Path
    written: list[str]
    options: initrepo.Options

    def text(self) -> str:
        install = self.options.install
        lines = [f"Started a pinops repository in {self.folder}:"]
        lines += [f"  {'updated' if n == '.gitignore' else 'wrote'} {n}" for n in self.written]
        lines.append(f"\nThe workflows install {install.source}.")
        if install.caveat:
            lines.append(f"warning: {install.caveat}")
        lines.append(
            "\nNext: `pinops plan` shows what would be published to the sandbox account. On "
            "GitHub,\ncreate an environment named `pinops` holding the provider's secrets, push, "
            "and open a\npull request: it is planned there, and merging into "
            f"{self.options.branch} publishes it;\nthe state is kept on the pinops-state branch."
        )
        passed = initrepo.secret_variables(self.options.config, matrix=self.options.matrix)
        lines.append(
            "\n"
            + textwrap.fill(
                f"The apply workflow passes the secrets {', '.join(passed)}. An account that "
                "names its own variables (`credentials:` in pinops.yaml) reads only those: add "
                "each to the env of the workflow's apply step, as `NAME: ${{ secrets.NAME }}`.",
                width=90,
                break_on_hyphens=False,
            )
        )
        if self.options.matrix:
            lines.append(
                "\nThe apply workflow runs one job per account: each account's secrets go in the"
                "\nenvironment its `environment:` names in pinops.yaml (default: pinops)."
            )
        return "".join(line + "\n" for line in lines)


@dataclass(frozen=True)
class Request:
    """What `pinops init` is asked (its options of the same names)."""

    directory: Path  # where the command runs
    folder: Path  # where the repository starts, relative to `directory`
    install: str | None = None  # what the workflows install (default: this pinops)
    branch: str | None = None  # whose merges publish (default: the current one, else main)
    matrix: bool = False  # apply in one job per account
    max_parallel: int | None = None  # with `matrix`: how many of those jobs run at once


def run(request: Request) -> Started:
    """Write the repository's files; never over a file that exists."""
    if request.max_parallel is not None and not request.matrix:
        raise InputError(
            "--max-parallel sets how many account jobs of the matrix run at once",
            hint="add --matrix for an apply workflow with one job per account",
        )
    folder = request.directory / request.folder
    install = request.install
    how = installation.requested(install) if install else installation.running()
    branch = request.branch or gitrepo.current_branch(folder) or "main"
    options = initrepo.Options(
        install=how,
        branch=branch,
        matrix=request.matrix,
        max_parallel=request.max_parallel or initrepo.MAX_PARALLEL,
    )
    return Started(folder, list(initrepo.init(folder, options)), options)
