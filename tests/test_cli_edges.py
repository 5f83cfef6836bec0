"""The command line's edges: version, options after the command, help, cancelling, streams."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler import arguments, commands, installation
from reconciler.cli import main
from tests.conftest import Run, state
from tests.terminals import on_terminal

PROMPT = "Only 'yes' is accepted:"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"pinops {installation.version()}\n"


def test_global_options_after_the_command(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # nowhere near a pinops.yaml
    assert main(["plan", "-C", str(repo), "--debug"]) == 0
    assert "Plan: 8 to create" in capsys.readouterr().out
    assert main(["state", "list", "-C", str(repo)]) == 0
    assert capsys.readouterr().out == "0 records, serial 0\n"
    # Before the command still works, and after it wins.
    assert main(["-C", str(tmp_path), "validate", "-C", str(repo)]) == 0


@pytest.mark.parametrize(
    ("command", "example"),
    [
        ("list", "pinops state list"),
        ("show", "pinops state show easy-pasta"),
        ("forget", "pinops state forget easy-pasta"),
        ("mv", "pinops state mv easy-pasta quick-pasta"),
        ("resolve", "pinops state resolve easy-pasta --published 999658448514149467"),
        ("unlock", "pinops state unlock"),
    ],
)
def test_state_subcommands_have_a_description_and_an_example(
    command: str, example: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["state", command, "--help"])
    assert exited.value.code == 0
    usage, description, *_rest = capsys.readouterr().out.split("\n\n")
    assert usage.startswith(f"usage: pinops state {command}")
    assert len(description) > 20 and not description.startswith(("positional", "options"))
    assert capsys.readouterr().out == ""
    with pytest.raises(SystemExit):
        main(["state", command, "--help"])
    assert capsys.readouterr().out.endswith(f"example:\n  {example}\n")


def test_output_to_a_stream_that_is_not_utf8_does_not_crash(repo: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "-C", str(repo), "plan"],
        capture_output=True,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert result.returncode == 0, result.stderr
    assert b"\\u23f2 wait calm-bedroom" in result.stdout
    assert b"Plan: 8 to create" in result.stdout


def test_a_reader_that_goes_away_ends_the_run_quietly(repo: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "-C", str(repo), "render"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    errors = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=60) == 1
    assert errors == b""


def test_ctrl_c_at_the_prompt_exits_130_and_says_a_rerun_is_safe(repo: Path, pinops: Run) -> None:
    session = on_terminal("-C", str(repo), "apply", when=PROMPT)
    assert session.code == 130, session.screen
    assert "interrupted: what was published so far is recorded in the state" in session.screen
    assert "running pinops apply again is safe" in session.screen
    assert "Traceback" not in session.screen
    assert pinops("state", "list").out == "0 records, serial 0\n"


def test_an_answer_other_than_yes_cancels_and_exits_1(repo: Path) -> None:
    session = on_terminal("-C", str(repo), "apply", when=PROMPT, answer="no")
    assert session.code == 1, session.screen
    assert "error: apply cancelled: nothing was published or changed" in session.screen
    assert not (repo / "pinops.state.json").exists() or state(repo) == {}


def test_yes_at_the_prompt_applies(repo: Path) -> None:
    session = on_terminal("-C", str(repo), "apply", when=PROMPT, answer="yes")
    assert session.code == 0, session.screen
    assert "Apply complete: 8 created" in session.screen
    assert len(state(repo)) == 8


def test_apply_parallel_defaults_to_the_librarys_number(capsys: pytest.CaptureFixture[str]) -> None:
    from reconciler.commands import apply

    args = arguments.parser().parse_args(["apply"])
    assert commands.request(apply.Request, args).parallel == commands.DEFAULT_PARALLEL
    args = arguments.parser().parse_args(["apply", "--parallel", "3"])
    assert commands.request(apply.Request, args).parallel == 3
    with pytest.raises(SystemExit):
        main(["apply", "--help"])
    assert f"(default: {commands.DEFAULT_PARALLEL}; 1 applies" in capsys.readouterr().out


def test_validate_prints_what_its_use_case_answers(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from reconciler.commands import validate
    from reconciler.workspace import Workspace

    for as_json in (False, True):
        with Workspace(repo) as workspace:
            checked = validate.run(workspace, as_json=as_json)
        flag = ["--json"] if as_json else []
        assert main(["-C", str(repo), "validate", *flag]) == checked.code == 0
        assert capsys.readouterr().out == checked.text


def _help(capsys: pytest.CaptureFixture[str], *command: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_each_command_shows_only_the_global_options_it_reads(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for command in (["plan"], ["apply"], ["validate"], ["state", "list"], ["boards"]):
        assert "--state-branch" in _help(capsys, *command), command
    for command in (["init"], ["schema"], ["render"], ["new"]):
        assert "--state-branch" not in _help(capsys, *command), command
    assert "-C DIR" not in _help(capsys, "schema")
    assert "-C DIR" in _help(capsys, "render")
    assert "--debug" in _help(capsys, "schema")


def test_the_commands_a_script_checks_say_their_exit_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for command in ("plan", "apply", "validate"):
        assert arguments.EXIT_CODES in _help(capsys, command), command
    assert "exit codes:" not in _help(capsys, "render")
    assert arguments.EXIT_CODES in _help(capsys)


def test_an_unknown_option_shows_the_usage_of_its_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for command in (["plan"], ["state", "list"]):
        with pytest.raises(SystemExit) as exited:
            main([*command, "--frobnicate"])
        assert exited.value.code == 1
        err = capsys.readouterr().err
        assert err.startswith(f"usage: pinops {' '.join(command)} [-h]"), err
        assert err.endswith("error: unrecognized arguments: --frobnicate\n")
