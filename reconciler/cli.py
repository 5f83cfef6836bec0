"""The pinops command line: parses (arguments.py), calls each command's use case (commands/),
prints what comes back, and hands it to the GitHub Actions reporter (ghreporter.py).

This is the single error boundary: library errors become one clear message and their exit code
(exitcodes.py), and a traceback is shown only with --debug.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import logging
import os
import sys
import traceback
from typing import TYPE_CHECKING

from reconciler import arguments, commands, credentials, exitcodes, logline, redact
from reconciler.errors import ConfirmationRefused, PinopsError, ValidationFailed
from reconciler.ghreporter import Reporter

if TYPE_CHECKING:
    from reconciler.workspace import Planned, Workspace


def main(argv: list[str] | None = None) -> int:
    # A run builds many long-lived objects (pins, their checks, state records) and few cycles:
    # the collector looks at the youngest every 200,000 allocations, not 700, as mypy does. A
    # cold plan of 100,000 pins spent 2.9 s collecting, now 0.35 s.
    gc.set_threshold(200_000, 30, 30)
    for stream in (sys.stdout, sys.stderr):
        # A terminal or file that cannot take every character (cp1252, ascii) gets \u23f2 and
        # the like instead of a crash halfway through the output.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    args = arguments.parse(argv)
    reporter = Reporter(args.directory)
    reporter.mask([os.environ.get(name) for name in redact.CREDENTIAL_VARIABLES])
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = redact.Stream(stdout), redact.Stream(stderr)
    try:
        return _guarded(args, reporter)
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _guarded(args: argparse.Namespace, reporter: Reporter) -> int:
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, redact.LogFilter) for f in handler.filters):
            handler.addFilter(redact.LogFilter())
    from reconciler.commands import failure

    try:
        return _run(args, reporter)
    except PinopsError as exc:
        form, as_json = getattr(args, "format", None), getattr(args, "json", False)
        document = failure.document(args.command, exc, form=form, as_json=as_json)
        if document is not None and not getattr(sys.stdout, "written", True):
            sys.stdout.write(document)  # unless one was written (a plan a safety check blocked)
        if args.debug and not isinstance(exc, ValidationFailed):
            logging.exception("error")
        sys.stderr.write(failure.text(exc))
        reporter.failure(args.command, exc)
        return exc.exit_code
    except KeyboardInterrupt:
        print(failure.interrupted(args.command), file=sys.stderr)
        return exitcodes.INTERRUPTED
    except BrokenPipeError:  # the reader went away (| head): say nothing more to it
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exitcodes.ERROR
    except Exception as exc:  # the boundary: no traceback for users unless they ask
        message = f"internal error: {type(exc).__name__}: {logline.escape(str(exc))}"
        reporter.failure(args.command, PinopsError(message, hint="run with --debug for details"))
        said = redact.redact(message) + " (run with --debug for details)\n"
        sys.stderr.write(traceback.format_exc() if args.debug else said)
        return exitcodes.ERROR


def _run(args: argparse.Namespace, reporter: Reporter) -> int:
    # Each command imports what it needs, so that `pinops --help` starts quickly.
    if args.command == "schema":
        from reconciler import schema

        name = schema.CONFIG if args.config else schema.STATE if args.state else schema.PIN_FILE
        sys.stdout.write(schema.schema_text(name))
        return exitcodes.OK
    if args.command == "init":
        from reconciler.commands import init

        sys.stdout.write(init.run(commands.request(init.Request, args)).text())
        return exitcodes.OK
    from reconciler.commands import authoring, prepare, remembered

    kept = remembered.lookup(args.directory, args.command, vars(args))
    if kept is not None and (answer := kept.get()) is not None:
        sys.stdout.write(answer.out)
        sys.stderr.write(answer.err)
        return answer.code
    from reconciler.workspace import Workspace

    manifests_only = authoring(args.command)
    branch = None if manifests_only else args.state_branch
    with Workspace(args.directory, state_branch=branch) as workspace:
        if not manifests_only:
            reporter.mask(list(credentials.values(workspace.config.secret_variables)))
            base, commit = getattr(args, "base", None), getattr(args, "commit", False)
            if pulled := prepare(workspace, args.command, base=base, commit=commit):
                print(f"pinops: {pulled}", file=sys.stderr)
        match args.command:
            case "plan" if kept is not None:
                return remembered.recorded(
                    kept, workspace, lambda: _plan(workspace, args, reporter)
                )
            case "plan":
                return _plan(workspace, args, reporter)[0]
            case "apply":
                return _apply(workspace, args, reporter)
            case "validate":
                from reconciler.commands import validate

                checked = validate.run(workspace, as_json=args.json)
                sys.stdout.write(checked.text)
                reporter.problems(checked.annotated)
                return checked.code
            case _:
                sys.stdout.write(_answer(workspace, args))
                return exitcodes.OK


def _plan(
    workspace: Workspace, args: argparse.Namespace, reporter: Reporter
) -> tuple[int, Planned]:
    from reconciler import report, terminal
    from reconciler.commands import plan

    shown = plan.show(workspace, commands.request(plan.Request, args))
    warnings = shown.planned.desired.warnings
    if args.format != "json":
        sys.stderr.write(report.problems_text(warnings))
        reporter.problems(warnings)
    match args.format:
        case "json":
            sys.stdout.write(report.plan_json(shown.plan))
        case "markdown":
            sys.stdout.write(shown.markdown())
        case _:
            noted: list[report.Line] = [[(shown.note, "")], []] if shown.note else []
            terminal.show(noted + report.plan_lines(shown.plan), sys.stdout)
    if args.out:
        print(
            plan.save(args.out, shown.plan),
            file=sys.stdout if args.format == "text" else sys.stderr,
        )
    reporter.plan(shown)
    return plan.exit_code(shown, detailed=args.detailed_exitcode), shown.planned


def _apply(workspace: Workspace, args: argparse.Namespace, reporter: Reporter) -> int:
    from reconciler import report, terminal
    from reconciler.cancellation import Cancellation
    from reconciler.commands import apply

    run = apply.Run(workspace, commands.request(apply.Request, args))

    def show(planned: Planned, review: apply.Review | None) -> None:
        if run.approved and not args.show_plan:
            print(f"{report.summary(planned.plan)} (--show-plan prints every change)")
        else:
            terminal.show(report.plan_lines(planned.plan), sys.stdout)
        if review is not None:
            print(review.text())
            reporter.review(review)

    cancellation = Cancellation()
    with cancellation.installed(), terminal.ApplyProgress(sys.stdout) as progress:
        planned, outcomes = run.execute(
            show=show, ask=_ask, progress=progress, cancellation=cancellation
        )
        if not planned.plan.has_changes:
            terminal.show(report.plan_lines(planned.plan), sys.stdout)
        if outcomes:
            sys.stdout.write("\n" + report.apply_summary(outcomes))
        # A cancelled run still records what it did: the state is pushed before it stops.
        applied = run.applied(planned, outcomes, run.commit(outcomes))
    if applied.commit_line is not None:
        print(applied.commit_line)
    reporter.applied(applied)
    return applied.exit_code


def _ask() -> bool:
    """A person at the terminal confirms the plan shown; anything but 'yes' cancels."""
    if not sys.stdin.isatty():
        raise ConfirmationRefused(
            "refusing to apply without confirmation: standard input is not a terminal",
            hint="pass --yes to apply non-interactively",
        )
    try:
        answer = input("\nApply these changes? Only 'yes' is accepted: ")
    except EOFError:
        answer = ""
    if answer.strip() != "yes":
        raise ConfirmationRefused("apply cancelled: nothing was published or changed")
    return True


def _answer(workspace: Workspace, args: argparse.Namespace) -> str:
    """What the commands that answer once print: listings, refresh, preview, state edits."""
    from reconciler import report, terminal
    from reconciler.commands import accounts, boards, new, preview, refresh, render, sandbox, state

    match args.command:
        case "render":
            rendered = render.run(workspace, args.ids, as_json=args.json)
            sys.stdout.write(rendered.text)
            rendered.check()
            return ""
        case "new":
            made = new.run(workspace, commands.request(new.Request, args))
            sys.stderr.write(report.problems_text(made.warnings))
            return new.text(made)
        case "preview":
            return preview.run(workspace, args.out, planfile=args.planfile, everything=args.all)
        case "accounts":
            return accounts.listing(workspace.config, as_json=args.json)
        case "boards":
            return boards.listing(workspace, as_json=args.json)
        case "sandbox":
            return sandbox.listing(workspace, as_json=args.json)
        case "refresh":
            planned = refresh.run(workspace)
            if planned.plan.drift:
                terminal.show(report.plan_lines(planned.plan), sys.stdout)
            return refresh.closing(workspace, planned) + "\n"
        case _:
            return state.run(workspace, commands.request(state.Request, args))
