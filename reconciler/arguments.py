"""The command line's grammar: every command and option, with the help and examples `--help`
shows. cli.py parses with it and does the rest."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn

from reconciler import commands, exitcodes, installation

DESCRIPTION = """\
Pinterest pins as code. Pins are declared as YAML under pins/, checked against JSON Schema, diffed
against the state file of what was published, and only what is new or changed is published.
"""

EXIT_CODES = f"""\
exit codes: {exitcodes.OK} ok, {exitcodes.ERROR} error, {exitcodes.CHANGES} changes to make (plan \
--detailed-exitcode), {exitcodes.BLOCKED} blocked by a safety check
"""
# The commands whose exit code a script or workflow reads: their help says what it means.
_EXIT_CODES_SHOWN = ("plan", "apply", "validate")

EPILOG = f"""\
examples:
  pinops validate                 check every manifest, report all problems at once
  pinops plan                     show what apply would do
  pinops plan --out plan.json     save the plan for review, then: pinops apply plan.json
  pinops apply --yes              publish without asking (CI)
  pinops plan --format markdown   the plan as reviewers see it on a pull request
  pinops preview                  the plan as pin cards in a page: pinops-preview/index.html
  pinops init my-pins             start a content repository with GitHub workflows
  pinops plan -C path/to/repo     work on another repository (global options go anywhere)

{EXIT_CODES}"""


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 1 like every other error (argparse's own 2 means 'changes' here)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(exitcodes.ERROR, f"error: {message}\n")


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line, parsed; an option the command does not know is refused with that
    command's usage (argparse's own would show the top level's)."""
    grammar = parser()
    found, unknown = grammar.parse_known_args(argv)
    if unknown:
        where: argparse.ArgumentParser = grammar
        for dest in ("command", "state_command"):
            chosen = getattr(found, dest, None)
            groups = [a for a in where._actions if isinstance(a, argparse._SubParsersAction)]
            if chosen is None or not groups:
                break
            where = groups[0].choices[chosen]
        where.error(f"unrecognized arguments: {' '.join(unknown)}")
    return found


def _workers(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return number


def _global_options(
    parser: argparse.ArgumentParser, *, inherited: bool, command: str | None = None
) -> None:
    """Options every command takes, before or after its name; after it, only those that mean
    something to that command (commands/ says which). Where they are inherited, absent means "as
    given before the command" (SUPPRESS leaves the value set there alone)."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if inherited else value

    parser.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="show debug logs and tracebacks",
    )
    if command is not None and not commands.opens_directory(command):
        return
    parser.add_argument(
        "-C", dest="directory", type=Path, default=default(Path()), metavar="DIR", help="run in DIR"
    )
    if command is not None and not commands.takes_state_branch(command):
        return
    parser.add_argument(
        "--state-branch",
        metavar="BRANCH",
        default=default(None),
        help="keep the state on git branch BRANCH (overrides state_branch: in pinops.yaml)",
    )


class _Version(argparse.Action):
    """--version, looked up only when asked: finding the installed version is slow to import."""

    def __init__(self, option_strings: list[str], dest: str, help: str) -> None:
        super().__init__(option_strings, dest, default=argparse.SUPPRESS, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> NoReturn:
        sys.stdout.write(f"{parser.prog} {installation.version()}\n")
        parser.exit()


def parser() -> argparse.ArgumentParser:
    """The whole grammar: global options, commands, their options, help and examples."""
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(prog="pinops", description=DESCRIPTION, epilog=EPILOG, formatter_class=fmt)
    parser.add_argument("--version", action=_Version, help="show the version of pinops and exit")
    _global_options(parser, inherited=False)
    named = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(
        name: str, summary: str, example: str, group: argparse._SubParsersAction[Any] = named
    ) -> argparse.ArgumentParser:
        top = name if group is named else "state"
        common = argparse.ArgumentParser(add_help=False)
        _global_options(common, inherited=True, command=top)
        codes = f"\n{EXIT_CODES}" if name in _EXIT_CODES_SHOWN and group is named else ""
        return group.add_parser(  # type: ignore[no-any-return]
            name,
            help=summary,
            description=summary,
            epilog=f"example:\n  {example}\n{codes}",
            formatter_class=fmt,
            parents=[common],
        )

    validate = command(
        "validate", "check every manifest and report all problems", "pinops validate"
    )
    validate.add_argument("--json", action="store_true", help="print problems as JSON")

    plan = command(
        "plan", "show what apply would publish, change and delete", "pinops plan --out plan.json"
    )
    plan.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="text for people, markdown for pull-request comments, json for machines",
    )
    plan.add_argument(
        "--json", dest="format", action="store_const", const="json", help="same as --format json"
    )
    plan.add_argument(
        "--changed",
        action="store_true",
        help="show only pins whose manifests changed (default: since the merge base with the "
        "default branch)",
    )
    plan.add_argument(
        "--base",
        metavar="REF",
        help="the commit a pull request merges into: show how pinops.yaml and the state file "
        "differ from REF's (and, with --changed, show pins changed since REF)",
    )
    plan.add_argument(
        "--head", metavar="REF", help="with --changed: compare REF instead of the work tree"
    )
    plan.add_argument(
        "--out", type=Path, metavar="FILE", help="save the plan for `pinops apply FILE`"
    )
    plan.add_argument(
        "--preview-artifact",
        metavar="NAME",
        help="in GitHub Actions: link the markdown to this run, whose artifact NAME holds the "
        "`pinops preview` page",
    )
    plan.add_argument(
        "--detailed-exitcode", action="store_true", help="exit 2 when there are changes to make"
    )
    plan.add_argument(
        "--refresh", action="store_true", help="read every published pin back to find drift first"
    )

    preview = command(
        "preview",
        "write the plan as a page of pin cards, as Pinterest shows them (opens from disk)",
        "pinops preview --out preview plan.json",
    )
    preview.add_argument(
        "planfile",
        nargs="?",
        type=Path,
        help="a plan saved by `pinops plan --out` (default: plan now)",
    )
    preview.add_argument(
        "--out",
        type=Path,
        default=Path("pinops-preview"),
        metavar="DIR",
        help="the folder to write index.html and its thumbnails into (default: pinops-preview)",
    )
    preview.add_argument(
        "--all", action="store_true", help="every declared pin, not only what the plan changes"
    )

    apply = command(
        "apply", "publish the plan, recording each result in state", "pinops apply --yes"
    )
    apply.add_argument("planfile", nargs="?", type=Path, help="a plan saved by `pinops plan --out`")
    apply.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    apply.add_argument(
        "--show-plan",
        action="store_true",
        help="print every change before applying (with --yes or a saved plan only the summary "
        "line is printed; asking for confirmation always shows every change)",
    )
    apply.add_argument(
        "--refresh", action="store_true", help="find and restore drift (see `pinops refresh`)"
    )
    apply.add_argument(
        "--commit",
        action="store_true",
        help="commit the state file with what was published, and push it (no force)",
    )
    apply.add_argument(
        "--reviewed",
        type=Path,
        metavar="PLAN",
        help="the plan reviewed on the pull request (pinops plan --out): say what differs and "
        "follow policy.on_plan_drift; a missing file means no plan was reviewed",
    )
    apply.add_argument(
        "--base",
        metavar="REF",
        help="the commit the merged changes were reviewed against (a push's `before`): refuse a "
        "state file changed since REF, and follow REF's policy.on_plan_drift",
    )
    apply.add_argument(
        "--on-plan-drift",
        choices=("stop", "apply"),
        help="what to do when the plan differs from --reviewed (default: policy.on_plan_drift)",
    )
    apply.add_argument(
        "--parallel",
        type=_workers,
        default=argparse.SUPPRESS,  # absent: the apply request's own default
        metavar="N",
        help="apply at most N accounts at once, one worker each, with its own pacing "
        f"(default: {commands.DEFAULT_PARALLEL}; 1 applies one account after another)",
    )

    for verb, grammar in (("plan", plan), ("apply", apply)):  # the same options, said once
        grammar.add_argument(
            "--allow-destroy",
            action="store_true",
            help="do not block on the delete/replace thresholds",
        )
        grammar.add_argument(
            "--account",
            dest="accounts",
            action="append",
            metavar="NAME",
            help=f"{verb} only this account's changes (repeat for several; default: every account)",
        )

    command(
        "refresh",
        "read every published pin back and report what was changed outside pinops",
        "pinops refresh",
    )

    imported = command(
        "import",
        "adopt a pin that already exists as the published form of a declared pin",
        "pinops import easy-pasta 999658448514149467",
    )
    imported.add_argument("key", help="the declared pin (id, or id@board for several boards)")
    imported.add_argument("pin_id", help="the provider's id of the existing pin")

    accounts = command(
        "accounts",
        "list the accounts of pinops.yaml (--json: one line, for a GitHub Actions matrix)",
        "pinops accounts --json",
    )
    accounts.add_argument("--json", action="store_true", help="print as JSON, on one line")

    boards = command("boards", "list the boards of each account with their ids", "pinops boards")
    boards.add_argument("--json", action="store_true", help="print as JSON")

    sandbox = command(
        "sandbox", "list the boards and pins of the local sandbox accounts", "pinops sandbox"
    )
    sandbox.add_argument("--json", action="store_true", help="print as JSON")

    state = command(
        "state",
        "inspect the state file, or edit it by hand (nothing is published or deleted)",
        "pinops state list",
    )
    states = state.add_subparsers(dest="state_command", metavar="SUBCOMMAND", required=True)
    command("list", "list the recorded pins: id, board and status", "pinops state list", states)
    command("show", "show one record as JSON", "pinops state show easy-pasta", states).add_argument(
        "key", help="the record (id, or id@board for several boards)"
    )
    command(
        "forget",
        "drop a record without deleting the pin (pinops stops managing it)",
        "pinops state forget easy-pasta",
        states,
    ).add_argument("key", help="the record to drop")
    moved = command(
        "mv",
        "rename a record after changing a pin's id, so that it is not published again",
        "pinops state mv easy-pasta quick-pasta",
        states,
    )
    moved.add_argument("old", help="the record's key now")
    moved.add_argument("new", help="the pin's new id")
    resolved = command(
        "resolve",
        "settle a create an interrupted apply left undecided",
        "pinops state resolve easy-pasta --published 999658448514149467",
        states,
    )
    resolved.add_argument("key", help="the undecided record")
    outcome = resolved.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--published", metavar="PIN_ID", help="it was published as PIN_ID")
    outcome.add_argument("--not-published", action="store_true", help="it was never published")
    command(
        "unlock",
        "clear the lock of a run that is gone (refused while a live run holds it)",
        "pinops state unlock",
        states,
    )

    init = command(
        "init",
        "start a content repository: pinops.yaml, an example pin, GitHub workflows",
        "pinops init my-pins",
    )
    init.add_argument("folder", nargs="?", type=Path, default=Path(), help="where (default: here)")
    init.add_argument(
        "--install", metavar="SPEC", help="what the workflows pip-install (default: this version)"
    )
    init.add_argument(
        "--branch", metavar="NAME", help="the branch merges publish from (default: the current one)"
    )
    init.add_argument(
        "--matrix",
        action="store_true",
        help="apply in one GitHub Actions job per account, each in its account's environment",
    )
    init.add_argument(
        "--max-parallel",
        type=_workers,
        metavar="N",
        help="with --matrix: at most N account jobs at once (default: 4; docs/agencies.md)",
    )

    render = command(
        "render",
        "print the pins as defaults, vars and templates expand them, with where each came from",
        "pinops render 'product-*'",
    )
    render.add_argument("ids", nargs="*", metavar="ID", help="only these pins (* and ? match)")
    render.add_argument("--json", action="store_true", help="print as JSON")

    new = command(
        "new", "start a pin manifest from an image or video file", "pinops new pins/media/lamp.jpg"
    )
    new.add_argument("media", type=Path, help="the image or video, inside the repository")
    new.add_argument("--id", dest="pin_id", help="the pin id (default: from the file name)")
    new.add_argument("--board", help="the board (default: from the _defaults.yaml files above)")
    new.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="the manifest to write (default: beside the file, or beside its media/ folder)",
    )

    schema_cmd = command(
        "schema", "print a JSON Schema (the pin manifest schema by default)", "pinops schema"
    )
    which = schema_cmd.add_mutually_exclusive_group()
    which.add_argument("--config", action="store_true", help="the pinops.yaml schema")
    which.add_argument("--state", action="store_true", help="the state file schema")
    return parser
