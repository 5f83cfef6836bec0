"""The pinops command line: parses arguments, calls the library, prints, maps errors to exit codes.

This is the single error boundary: library errors become one clear message and an exit code, and a
traceback is shown only with --debug.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import arguments, credentials, exitcodes, ghactions, redact
from reconciler.errors import (
    ConfirmationRefused,
    PinopsError,
    SafetyBlocked,
    StateError,
    ValidationFailed,
)
from reconciler.ghreporter import Reporter, failure_markdown

if TYPE_CHECKING:
    from reconciler.gitstate import Pushed
    from reconciler.markdown import Context
    from reconciler.plan import Plan
    from reconciler.results import Remembered
    from reconciler.review import Difference
    from reconciler.workspace import Planned, Workspace


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # A terminal or file that cannot take every character (cp1252, ascii) gets \u23f2 and
        # the like instead of a crash halfway through the output.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    args = arguments.parser().parse_args(argv)
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
    try:
        return _run(args, reporter)
    except PinopsError as exc:
        _error_document(args, exc)
        if isinstance(exc, ValidationFailed):
            from reconciler import report

            sys.stderr.write(report.problems_text(exc.problems))
            print(f"error: {exc.message}", file=sys.stderr)
        else:
            if args.debug:
                logging.exception("error")
            print(f"error: {redact.redact(str(exc))}", file=sys.stderr)
        reporter.failure(args.command, exc)
        return exc.exit_code
    except KeyboardInterrupt:
        said = _INTERRUPTED.get(args.command)
        print("\ninterrupted" + (f": {said}" if said else ""), file=sys.stderr)
        return exitcodes.INTERRUPTED
    except BrokenPipeError:  # the reader went away (| head): say nothing more to it
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exitcodes.ERROR
    except Exception as exc:  # the boundary: no traceback for users unless they ask
        message = f"internal error: {type(exc).__name__}: {ghactions.escape(str(exc))}"
        reporter.failure(args.command, PinopsError(message, hint="run with --debug for details"))
        if args.debug:
            sys.stderr.write(traceback.format_exc())
            return exitcodes.ERROR
        print(redact.redact(message) + " (run with --debug for details)", file=sys.stderr)
        return exitcodes.ERROR


def _error_document(args: argparse.Namespace, exc: PinopsError) -> None:
    """A command asked for JSON, or for the plan comment, still writes its document on standard
    output when it fails (the error as JSON; as the comment, so that the pull request shows it),
    unless it already wrote one (a plan blocked by a safety check)."""
    wants_json = getattr(args, "format", None) == "json" or getattr(args, "json", False)
    wants_comment = args.command == "plan" and getattr(args, "format", None) == "markdown"
    if not (wants_json or wants_comment) or getattr(sys.stdout, "written", True):
        return
    from reconciler import markdown, report

    if wants_comment:
        sys.stdout.write(failure_markdown(args.command, exc, markdown.COMMENT_LIMIT))
        return
    document = {
        "error": exc.message,
        "location": str(exc.location) if exc.location else None,
        "hint": exc.hint or None,
        "problems": report.problems_json(exc.problems if isinstance(exc, ValidationFailed) else []),
    }
    sys.stdout.write(report.json_text(document))


_INTERRUPTED = {
    "apply": "what was published so far is recorded in the state, and running pinops apply "
    "again is safe: it publishes nothing twice and goes on with the rest",
}


def _run(args: argparse.Namespace, reporter: Reporter) -> int:
    # Each command imports what it needs, so that `pinops --help` starts quickly.
    if args.command == "schema":
        from reconciler import schema

        name = schema.CONFIG if args.config else schema.STATE if args.state else schema.PIN_FILE
        sys.stdout.write(schema.schema_text(name))
        return exitcodes.OK
    if args.command == "init":
        return _init(args)
    if args.command == "render":
        return _render(args)
    if args.command == "new":
        return _new(args)
    remembered = _remembered(args) if args.command == "plan" else None
    if remembered is not None and (answer := remembered.get()) is not None:
        sys.stdout.write(answer.out)
        sys.stderr.write(answer.err)
        return answer.code
    from reconciler.workspace import Workspace

    with Workspace(args.directory, state_branch=args.state_branch) as workspace:
        reporter.mask(list(credentials.values(workspace.config.secret_variables)))
        if args.command == "apply" and args.base:
            workspace.refuse_state_edits(args.base)  # before the state branch is even read
        if args.command not in ("validate", "boards", "sandbox", "accounts"):
            pulled = workspace.pull_state(for_commit=args.command == "apply" and args.commit)
            if pulled:
                print(f"pinops: {pulled}", file=sys.stderr)
        match args.command:
            case "validate":
                return _validate(workspace, args, reporter)
            case "plan":
                return _plan(workspace, args, reporter, remembered)
            case "apply":
                return _apply(workspace, args, reporter)
            case "preview":
                return _preview(workspace, args)
            case "boards":
                return _boards(workspace, args)
            case "accounts":
                return _accounts(workspace, args)
            case "sandbox":
                return _sandbox(workspace, args)
            case "refresh":
                return _refresh(workspace)
            case "import":
                return _import(workspace, args)
            case _:
                return _state(workspace, args)


def _validate(workspace: Workspace, args: argparse.Namespace, reporter: Reporter) -> int:
    from reconciler import report

    try:
        wanted = workspace.load_desired()
    except ValidationFailed as exc:
        if not args.json:
            raise
        document = {"valid": False, "problems": report.problems_json(exc.problems)}
        sys.stdout.write(report.json_text(document, ensure_ascii=True))
        return exitcodes.ERROR
    if args.json:
        document = {"valid": True, "problems": report.problems_json(wanted.warnings)}
        sys.stdout.write(report.json_text(document, ensure_ascii=True))
        return exitcodes.OK
    sys.stdout.write(report.problems_text(wanted.warnings))
    reporter.problems(wanted.warnings)
    pins = len({t.pin for t in wanted.targets.values()})
    warned = len(wanted.warnings)
    plural = "" if warned == 1 else "s"
    print(f"Valid: {pins} pin{'' if pins == 1 else 's'}, {warned} warning{plural}.")
    return exitcodes.OK


def _remembered(args: argparse.Namespace) -> Remembered | None:
    """The plan's answer as a run on the same files gave it; None for the plans that read more
    than the files: a state branch, git changes or a base branch, a refresh, GitHub's outputs,
    a file written."""
    from reconciler import config, results

    if args.state_branch or args.changed or args.base or args.refresh or args.out:
        return None
    if ghactions.active():
        return None
    if args.format == "markdown":
        return None  # its thumbnails follow the commit
    # Whether and how the output is coloured depends on the streams and on these variables.
    shown = [os.environ.get(name) for name in ("NO_COLOR", "FORCE_COLOR", "TERM", "CI")]
    question = repr((sorted(vars(args).items()), sys.stdout.isatty(), sys.stderr.isatty(), shown))
    return results.Remembered.open(config.find_root(args.directory), question)


def _plan(
    workspace: Workspace,
    args: argparse.Namespace,
    reporter: Reporter,
    remembered: Remembered | None,
) -> int:
    if remembered is None:
        return _show_plan(workspace, args, reporter)[0]
    from reconciler import results

    since = time.time()
    with results.recording() as answer:
        code, planned = _show_plan(workspace, args, reporter)
    until = results.lifetime(planned, workspace.config, workspace.capabilities, since)
    remembered.put(answer(code), until)
    return code


def _show_plan(
    workspace: Workspace, args: argparse.Namespace, reporter: Reporter
) -> tuple[int, Planned]:
    from reconciler import markdown, markdown_results, report, terminal

    if args.changed and args.out:
        raise PinopsError(
            "--changed shows part of the plan, and a part cannot be saved for apply",
            hint="save the whole plan: drop --changed",
        )
    planned = workspace.plan(
        allow_destroy=args.allow_destroy,
        refresh=args.refresh,
        base=args.base,
        accounts=workspace.config.select(args.accounts),
    )
    full = planned.plan
    made, note = _only_changed(workspace, full, args) if args.changed else (full, "")
    context = _context(workspace, args)
    footer = markdown_results.provenance(ghactions.current_run())
    if args.format != "json":
        sys.stderr.write(report.problems_text(planned.desired.warnings))
        reporter.problems(planned.desired.warnings)
    match args.format:
        case "json":
            sys.stdout.write(report.plan_json(made))
        case "markdown":
            sys.stdout.write(markdown.plan(made, context, note=note, footer=footer))
        case _:
            noted: list[report.Line] = [[(note, "")], []] if note else []
            terminal.show(noted + report.plan_lines(made), sys.stdout)
    if args.out:
        _write_plan(args.out, report.plan_json(made))
        print(
            f"Saved the plan to {args.out}; apply exactly it with: pinops apply {args.out}",
            file=sys.stdout if args.format == "text" else sys.stderr,
        )
    reporter.plan(made, full, context, note)
    if full.blocked:
        from reconciler.workspace import raise_blocked

        raise_blocked(full)
    code = exitcodes.CHANGES if args.detailed_exitcode and full.has_changes else exitcodes.OK
    return code, planned


def _preview(workspace: Workspace, args: argparse.Namespace) -> int:
    from reconciler import preview

    written = preview.of_workspace(workspace, args.out, planfile=args.planfile, everything=args.all)
    print(
        f"Wrote the preview of {written.cards} pins ({written.thumbnails} thumbnails) to "
        f"{written.index}; open it in a browser."
    )
    return exitcodes.OK


def _only_changed(workspace: Workspace, full: Plan, args: argparse.Namespace) -> tuple[Plan, str]:
    """The part of the plan whose manifests changed; it has no checksum, so it cannot be applied."""
    from dataclasses import replace

    from reconciler import changedfiles

    changed = changedfiles.changed_files(workspace.config.root, args.base, args.head)
    listed = [c for c in full.changes if c.action != "noop"]
    shown = tuple(c for c in listed if changed.touches(c))
    note = (
        f"Only pins whose manifests changed since {changed.base[:12]}: "
        f"{len(shown)} of {len(listed)} shown."
    )
    return replace(full, changes=shown, checksum=""), note


def _context(workspace: Workspace, args: argparse.Namespace) -> Context:
    from reconciler.markdown import Context
    from reconciler.providers.base import TextLimits

    def limits(account: str) -> TextLimits:
        if account not in workspace.config.accounts:
            return TextLimits()
        return workspace.capabilities(workspace.provider_name(account)).text_limits

    root = workspace.config.root
    pinned = ghactions.pinned_media_base(root) if ghactions.active() else None
    run = ghactions.run_url() if ghactions.active() else None
    artifact = getattr(args, "preview_artifact", None)
    preview = (artifact, run) if artifact and run else None
    return Context(
        limits, workspace.config.media_base_url, pinned_media_url=pinned, preview=preview
    )


def _write_plan(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PinopsError(f"cannot write the plan to {path}: {exc.strerror}") from None


def _read_checksum(path: Path) -> str:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        checksum = data["checksum"]
    except (OSError, ValueError, KeyError, TypeError):
        raise PinopsError(
            f"{path} is not a plan saved by pinops", hint="save one with: pinops plan --out FILE"
        ) from None
    if not isinstance(checksum, str):
        raise PinopsError(f"{path} is not a plan saved by pinops")
    return checksum


def _apply(workspace: Workspace, args: argparse.Namespace, reporter: Reporter) -> int:
    from reconciler import report, review, terminal
    from reconciler.cancellation import Cancellation

    expected = _read_checksum(args.planfile) if args.planfile else None
    approved = args.yes or expected is not None
    accounts = workspace.config.select(args.accounts)
    reviewed = review.load(args.reviewed) if args.reviewed is not None else None
    if accounts is not None:
        reviewed = review.of_accounts(reviewed, accounts)
    # The merge run follows the policy of the base the pull request merged into: a pull request
    # cannot switch off the check that guards it.
    base_policy = workspace.base_policy(args.base) if args.base else workspace.config.policy
    policy = args.on_plan_drift or base_policy.on_plan_drift
    differences: list[Difference] = []

    def confirm(planned: Planned) -> bool:
        if approved and not args.show_plan:
            print(f"{report.summary(planned.plan)} (--show-plan prints every change)")
        else:
            terminal.show(report.plan_lines(planned.plan), sys.stdout)
        if args.reviewed is not None:
            differences[:] = review.compare(reviewed, planned.plan)
            _show_differences(differences, policy)
            reporter.review(differences, policy)
            if policy == "stop" and any(d.blocking for d in differences):
                raise SafetyBlocked(
                    "the plan differs from the plan reviewed on the pull request, and "
                    "policy.on_plan_drift is stop: nothing was applied",
                    hint="review the differences above; apply by hand (workflow_dispatch, or "
                    "pinops apply) or through a new pull request",
                )
        if approved:
            return True
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

    cancellation = Cancellation()
    with cancellation.installed(), terminal.ApplyProgress(sys.stdout) as progress:
        planned, outcomes = workspace.apply(
            expected_checksum=expected,
            refresh=args.refresh,
            allow_destroy=args.allow_destroy,
            progress=progress,
            confirm=confirm,
            base=args.base,
            commit=args.commit,
            cancellation=cancellation,
            accounts=accounts,
            parallel=args.parallel,
        )
        if not planned.plan.has_changes:
            terminal.show(report.plan_lines(planned.plan), sys.stdout)
        if outcomes:
            sys.stdout.write("\n" + report.apply_summary(outcomes))
        # A cancelled run still records what it did: the state is pushed before it stops.
        pushed = workspace.commit_state(outcomes) if args.commit else None
    if args.commit:
        print(_commit_line(pushed))
    reporter.applied(planned.plan, outcomes, pushed, _commit_line(pushed) if args.commit else None)
    return exitcodes.ERROR if any(not o.ok for o in outcomes) else exitcodes.OK


def _show_differences(differences: list[Difference], policy: str) -> None:
    if not differences:
        print("\nThis is the plan reviewed on the pull request.")
        return
    print(f"\nCompared with the plan reviewed on the pull request (on_plan_drift: {policy}):")
    for difference in differences:
        mark = "!" if difference.blocking else "·"
        print(f"  {mark} {ghactions.escape(difference.key)}: {ghactions.escape(difference.what)}")


def _commit_line(pushed: Pushed | None) -> str:
    if pushed is None:
        return "The state did not change: nothing to commit."
    where = f"{pushed.commit[:12]} on {pushed.branch}"
    if not pushed.pushed:
        return f"Committed the state as {where} (no origin remote: not pushed)."
    retried = f" after {pushed.attempts} attempts" if pushed.attempts > 1 else ""
    return f"Committed the state as {where} and pushed it{retried}."


def _init(args: argparse.Namespace) -> int:
    from reconciler import gitrepo, initrepo, installation

    folder = args.directory / args.folder
    install = installation.requested(args.install) if args.install else installation.running()
    options = initrepo.Options(
        install=install, branch=args.branch or gitrepo.current_branch(folder) or "main"
    )
    written = initrepo.init(folder, options)
    print(f"Started a pinops repository in {folder}:")
    for name in written:
        print(f"  {'updated' if name == '.gitignore' else 'wrote'} {name}")
    print(f"\nThe workflows install {install.source}.")
    if install.caveat:
        print(f"warning: {install.caveat}")
    print(
        "\nNext: `pinops plan` shows what would be published to the sandbox account. On GitHub,"
        "\ncreate an environment named `pinops` holding the provider's secrets, push, and open a"
        f"\npull request: it is planned there, and merging into {options.branch} publishes it;"
        "\nthe state is kept on the pinops-state branch."
    )
    return exitcodes.OK


def _accounts(workspace: Workspace, args: argparse.Namespace) -> int:
    accounts = workspace.config.accounts.values()
    if args.json:
        # One line: `echo "accounts=$(pinops accounts --json)" >> "$GITHUB_OUTPUT"` holds it.
        listing = [
            {"name": a.name, "provider": a.provider, "environment": a.environment} for a in accounts
        ]
        print(json.dumps(listing, ensure_ascii=False, separators=(",", ":")))
        return exitcodes.OK
    for account in accounts:
        print(f"{account.name}: {account.provider}, secrets in environment {account.environment}")
    return exitcodes.OK


def _boards(workspace: Workspace, args: argparse.Namespace) -> int:
    listing: dict[str, list[dict[str, Any]]] = {
        account: [
            {"id": b.id, "name": b.name, "sections": b.sections}
            for b in workspace.provider(account).boards()
        ]
        for account in workspace.config.accounts
    }
    if args.json:
        from reconciler import report

        sys.stdout.write(report.json_text(listing))
        return exitcodes.OK
    for account, found in listing.items():
        print(f"{account} ({workspace.config.accounts[account].provider}):")
        for board in found:
            print(ghactions.escape(f"  {board['id']:>20}  {board['name']}"))
            for section, section_id in board["sections"].items():
                print(ghactions.escape(f"  {section_id:>20}    / {section}"))
    return exitcodes.OK


def _sandbox(workspace: Workspace, args: argparse.Namespace) -> int:
    from reconciler.errors import InputError
    from reconciler.providers.sandbox import SandboxProvider

    # Only sandbox accounts are opened: another provider may want credentials.
    accounts = {
        name: provider
        for name in workspace.config.accounts
        if workspace.provider_name(name) == "sandbox"
        and isinstance(provider := workspace.provider(name), SandboxProvider)
    }
    if not accounts:
        raise InputError(
            "no account in pinops.yaml uses the sandbox provider",
            hint="`pinops boards` lists the boards of the other providers",
        )
    listing: dict[str, dict[str, Any]] = {
        name: {"database": workspace.config.relative(p.path), "boards": p.listing()}
        for name, p in accounts.items()
    }
    if args.json:
        print(json.dumps(listing, indent=2, ensure_ascii=False))
        return exitcodes.OK
    for name, account in listing.items():
        count = sum(len(board["pins"]) for board in account["boards"])
        print(f"{name}: {count} pins in {account['database']}")
        for board in account["boards"]:
            print(f"  {board['name'] or '(not declared)'} (board {board['id']})")
            for pin in board["pins"]:
                link = f"  {pin['link']}" if pin["link"] else ""
                print(f"    {pin['id']}  {pin['title'] or '(no title)'}{link}")
    return exitcodes.OK


def _state(workspace: Workspace, args: argparse.Namespace) -> int:
    store = workspace.store
    if args.state_command == "list":
        state = store.read()
        for key, record in sorted(state.pins.items()):
            status = "interrupted" if record.intent else record.status
            shown = ghactions.escape(f"{key:<32} {record.pin_id or '-':>20}  {record.board or '-'}")
            print(f"{shown}  [{status}]")
        print(f"{len(state.pins)} records, serial {state.serial}")
        return exitcodes.OK
    if args.state_command == "show":
        found = store.read().pins.get(args.key)
        if found is None:
            raise StateError(f"no record '{args.key}' in the state", hint="see: pinops state list")
        from reconciler import report

        sys.stdout.write(report.json_text(found.to_json(), sort_keys=True))
        return exitcodes.OK
    from reconciler.workspace import StateEditor

    editor = StateEditor(workspace)
    match args.state_command:
        case "forget":
            editor.forget(args.key)
            print(f"Forgot '{args.key}'; the pin itself was not touched.")
        case "mv":
            editor.move(args.old, args.new)
            print(f"Moved '{args.old}' to '{args.new}'; nothing was published.")
        case "resolve":
            editor.resolve(args.key, args.published)
            settled = f"published as {args.published}" if args.published else "not published"
            print(f"Resolved '{args.key}': {settled}.")
        case _:
            print(store.unlock())
    return exitcodes.OK


def _refresh(workspace: Workspace) -> int:
    from reconciler import report, terminal

    planned = workspace.refresh()
    if not planned.plan.drift:
        print("No drift: every published pin is as pinops left it.")
        return exitcodes.OK
    terminal.show(report.plan_lines(planned.plan), sys.stdout)
    print(
        f"\nRecorded in {workspace.store.display}: the next plan and apply restore it "
        "(or declare what was changed, to keep it)."
    )
    return exitcodes.OK


def _import(workspace: Workspace, args: argparse.Namespace) -> int:
    from reconciler.workspace import StateEditor

    record = StateEditor(workspace).import_pin(args.key, args.pin_id)
    print(f"Imported pin {record.pin_id} as '{args.key}'; nothing was published.")
    return exitcodes.OK


def _render(args: argparse.Namespace) -> int:
    from reconciler import config, report, templating

    pins, problems = templating.load(config.load(config.find_root(args.directory)))
    shown = templating.matching(pins, args.ids)
    sys.stdout.write(report.pins_json(shown) if args.json else report.pins_yaml(shown))
    if problems:
        raise ValidationFailed(problems)
    return exitcodes.OK


def _new(args: argparse.Namespace) -> int:
    from reconciler import config, newpin, providers, report

    made = newpin.scaffold(
        config.load(config.find_root(args.directory)),
        args.directory / args.media,
        providers.capabilities,
        pin_id=args.pin_id,
        board=args.board,
        out=args.directory / args.out if args.out else None,
    )
    newpin.write(made)
    sys.stderr.write(report.problems_text(made.warnings))
    print(f"Wrote {made.name}:")
    sys.stdout.write(made.text)
    return exitcodes.OK
