"""The GitHub workflows: valid, free of security findings, and the plan workflow run step by step.

check-jsonschema and zizmor come with the `test` extra and work offline; a test that needs one is
skipped only when it is not installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler import cache, initrepo, installation
from tests.conftest import PROJECT, edit
from tests.gitrepos import Origin, commit_all, git, isolate_git, origin_with_content

WORKFLOWS = PROJECT / ".github" / "workflows"
STATE = "pinops.state.json"
SALAD = "pins/recipes/summer-salad.yaml"
COMMIT = ("apply", "--yes", "--commit")


def needs(tool: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        shutil.which(tool) is None,
        reason=f"{tool} is not installed (python -m pip install -e '.[test]' installs it)",
    )


ACTION = PROJECT / "action.yml"
# The two ways `pinops init` installs pinops: pip (an index version, a git URL) or the action.
INSTALLS = (
    installation.requested("pinops @ git+https://github.com/acme/pinops.git@" + "0" * 40),
    installation.Install(source="the action", action="acme/pinops@" + "0" * 40),
)


@pytest.fixture
def generated(tmp_path: Path) -> list[Path]:
    """The workflows `pinops init` writes, in a folder of their own for each way to install."""
    found = []
    for number, install in enumerate(INSTALLS):
        folder = tmp_path / f"generated-{number}"
        initrepo.init(folder, initrepo.Options(install=install, branch="main"))
        found += sorted((folder / ".github" / "workflows").glob("*.yml"))
        # The apply workflow as `init --matrix` writes it: one job per account.
        matrix = tmp_path / f"matrix-{number}"
        initrepo.init(matrix, initrepo.Options(install=install, branch="main", matrix=True))
        found.append(matrix / ".github" / "workflows" / "pinops-apply.yml")
    return found


def every_workflow(generated: list[Path]) -> list[Path]:
    found = sorted(WORKFLOWS.glob("*.yml")) + generated
    # ci, plan and apply here; plan, apply and the matrix apply from init, twice
    assert len(found) == 9
    return found


@needs("check-jsonschema")
def test_every_workflow_matches_githubs_schema(generated: list[Path]) -> None:
    done = subprocess.run(
        [
            "check-jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, every_workflow(generated)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@needs("check-jsonschema")
def test_the_action_matches_githubs_schema() -> None:
    done = subprocess.run(
        ["check-jsonschema", "--builtin-schema", "vendor.github-actions", str(ACTION)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@needs("zizmor")
def test_zizmor_finds_nothing_of_medium_severity_or_above(generated: list[Path]) -> None:
    done = subprocess.run(
        [
            "zizmor",
            "--offline",
            "--no-config",
            "--no-ignores",
            "--min-severity",
            "medium",
            "--format",
            "json",
            *map(str, every_workflow(generated)),
            str(ACTION),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(done.stdout or "null")
    assert findings == [], json.dumps(findings, indent=2)
    assert done.returncode == 0, done.stderr


# A pinops.yaml whose accounts name their own variables: the apply workflows pass them too.
OWN_VARIABLES = (
    b"pins: pins/\nstate: pinops.state.json\naccounts:\n"
    b"  acme:\n    provider: pinterest\n    credentials: {access_token: ACME_PINTEREST_TOKEN}\n"
    b"  globex:\n    provider: zernio\n    credentials: {api_key: GLOBEX_ZERNIO_KEY}\n"
)


@needs("check-jsonschema")
@needs("zizmor")
def test_workflows_for_accounts_with_their_own_variables_are_valid_and_clean(
    tmp_path: Path,
) -> None:
    found = []
    for matrix in (False, True):
        folder = tmp_path / f"matrix-{matrix}"
        options = initrepo.Options(
            install=INSTALLS[0], branch="main", matrix=matrix, config=OWN_VARIABLES
        )
        initrepo.init(folder, options)
        apply = folder / ".github" / "workflows" / "pinops-apply.yml"
        text = apply.read_text(encoding="utf-8")
        for variable in ("ACME_PINTEREST_TOKEN", "GLOBEX_ZERNIO_KEY"):
            assert f"          {variable}: ${{{{ secrets.{variable} }}}}\n" in text
        found.append(str(apply))
    schema = ["check-jsonschema", "--builtin-schema", "vendor.github-workflows", *found]
    checked = subprocess.run(schema, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    audit = ["zizmor", "--offline", "--no-config", "--no-ignores", "--min-severity", "medium"]
    done = subprocess.run(
        [*audit, "--format", "json", *found], capture_output=True, text=True, check=False
    )
    assert json.loads(done.stdout or "null") == [], done.stdout
    assert done.returncode == 0, done.stderr


def test_actions_are_pinned_by_commit_and_permissions_are_explicit(
    generated: list[Path],
) -> None:
    for path in every_workflow(generated):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert workflow["permissions"] == {}, path
        assert "pull_request_target" not in str(workflow[True]), path  # YAML reads `on` as True
        for job in workflow["jobs"].values():
            assert "permissions" in job, path
            for step in job["steps"]:
                if "uses" in step:
                    # An action, or one in a folder of it (actions/cache/restore), by commit.
                    pinned = r"[\w-]+/[\w-]+(/[\w-]+)*@[0-9a-f]{40}"
                    assert re.fullmatch(pinned, step["uses"]), step["uses"]
                    if step["uses"].startswith("actions/checkout@"):
                        assert step["with"]["persist-credentials"] is False


def test_jobs_that_plan_restore_pinops_cache_where_pinops_keeps_it(
    generated: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A runner starts empty: each job that derives pins restores the cache an earlier apply saved,
    from the folder pinops uses on a runner (no PINOPS_CACHE_DIR, no XDG_CACHE_HOME). Only apply
    jobs, which run the default branch's workflow, save it."""
    monkeypatch.delenv("PINOPS_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", "/home/runner")
    derives = re.compile(r"\b(plan|apply)\b.*(--format|--yes)")
    jobs: Counter[tuple[str, str]] = Counter()
    for path in every_workflow(generated):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        for job in workflow["jobs"].values():
            steps = job["steps"]
            if not any(derives.search(step.get("run", "")) for step in steps):
                continue
            cached = [s for s in steps if s.get("uses", "").startswith("actions/cache")]
            assert len(cached) == 1, path
            action, options = cached[0]["uses"].split("@")[0], cached[0]["with"]
            jobs[path.name, action] += 1
            assert Path(options["path"]).expanduser() == cache.folder(), path
            # One saved cache per commit; a new commit restores the newest saved before it.
            assert "github.sha" in options["key"], path
            assert options["key"].startswith(options["restore-keys"]), path
    assert jobs == {
        ("pinops-plan.yml", "actions/cache/restore"): 3,  # here, and from init twice
        ("pinops-apply.yml", "actions/cache"): 5,  # here, from init twice, the matrix's twice
    }


# --- the plan workflow, run step by step with GitHub's environment files ----------------------


def expression(text: str, context: dict[str, str]) -> str:
    """`${{ name }}` and `${{ name != 'value' }}`, the only expressions the steps run here use."""

    def value(match: re.Match[str]) -> str:
        inner = match.group(1).strip()
        compared = re.fullmatch(r"([\w.-]+) != '([^']*)'", inner)
        if compared:
            return "true" if context[compared.group(1)] != compared.group(2) else "false"
        return context[inner]

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def outputs(path: Path) -> dict[str, str]:
    """Parse GITHUB_OUTPUT: `name=value` lines and `name<<DELIMITER` blocks."""
    found: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            found[name] = "\n".join(iter(lambda: next(lines), delimiter))
        elif "=" in line:
            name, value = line.split("=", 1)
            found[name] = value
    return found


RUN_URL = "https://github.com/acme/pins/actions/runs/4242"


def run_plan_job(workspace: Path, runner: Path, pull_request: int) -> dict[str, Any]:
    """Run the `plan` job's shell steps in `workspace` as the runner would; return what it left."""
    return run_job("plan", workspace, runner, pull_request)


def run_job(job: str, workspace: Path, runner: Path, pull_request: int) -> dict[str, Any]:
    """Run a job of the plan workflow, its shell steps only, as the runner would."""
    workflow = yaml.safe_load((WORKFLOWS / "pinops-plan.yml").read_text(encoding="utf-8"))
    summary, output = runner / "summary.md", runner / "output"
    summary.write_text("", encoding="utf-8")
    head = git(workspace, "rev-parse", "HEAD") if (workspace / ".git").exists() else "f" * 40
    event = runner / "event.json"
    event.write_text(json.dumps({"pull_request": {"head": {"sha": head}}}), encoding="utf-8")
    context = {
        "github.event.pull_request.number": str(pull_request),
        "github.event.pull_request.head.sha": head,
        "github.token": "unused-token",
        "github.server_url": "https://github.com",
        "github.repository": "acme/pins",
        "github.run_id": "4242",
    }
    results: dict[str, Any] = {"annotations": [], "failed": None, "head": head}
    for step in workflow["jobs"][job]["steps"]:
        if "run" not in step or step["name"] == "Install pinops":
            continue  # actions, and installing pinops, which this test runs from source
        condition = step.get("if")
        if condition and expression(condition, context) != "true":
            continue
        output.write_text("", encoding="utf-8")
        env = {
            **os.environ,
            "PATH": f"{runner / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_SHA": "e" * 40,  # the merge commit, which no reviewer sees
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "acme/pins",
            "GITHUB_RUN_ID": "4242",
            "GITHUB_RUN_ATTEMPT": "1",
        }
        env.update({k: expression(str(v), context) for k, v in step.get("env", {}).items()})
        script = runner / "step.sh"
        script.write_text(step["run"], encoding="utf-8")
        done = subprocess.run(
            ["bash", "-e", str(script)],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        results["annotations"] += [
            line
            for line in done.stderr.splitlines()
            if line.startswith("::") and not line.startswith("::add-mask::")
        ]
        for name, value in outputs(output).items():
            context[f"steps.{step['id']}.outputs.{name}"] = value
        if done.returncode != 0:
            results["failed"] = (step["name"], done.returncode)
            break
    results["summary"] = summary.read_text(encoding="utf-8")
    results["context"] = context
    return results


@pytest.fixture
def runner(tmp_path: Path) -> Path:
    """A runner's temp folder, with `pinops` on PATH running this source tree."""
    folder = tmp_path / "runner"
    (folder / "bin").mkdir(parents=True)
    shim = folder / "bin" / "pinops"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m reconciler "$@"\n', encoding="utf-8")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    return folder


@pytest.fixture
def origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Origin:
    """This repository's content on GitHub, its pins published, the state on pinops-state."""
    isolate_git(monkeypatch, tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(PROJECT))
    made = origin_with_content(tmp_path, ignore_extra=f"/{STATE}\n")
    published = made.clone("published")
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "--state-branch", "pinops-state", *COMMIT],
        cwd=published,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return made


def test_the_plan_workflow_summarises_a_pull_request(origin: Origin, runner: Path) -> None:
    checkout = origin.clone("pull-request")
    edit(checkout / SALAD, "Crunchy Summer Salad", "Crisp Summer Salad")
    commit_all(checkout, "Retitle the salad")
    results = run_plan_job(checkout, runner, pull_request=42)
    assert results["failed"] is None
    assert results["annotations"] == []
    context = results["context"]
    assert context["steps.plan.outputs.status"] == "0"
    saved = json.loads((checkout / "pinops-plan/plan.json").read_text(encoding="utf-8"))
    assert context["steps.plan.outputs.checksum"] == saved["checksum"]
    assert context["steps.plan.outputs.changes"] == "true"
    assert (checkout / "pinops-plan/pull-request").read_text(encoding="utf-8") == "42\n"
    comment = (checkout / "pinops-plan/comment.md").read_text(encoding="utf-8")
    assert comment.startswith("<!-- pinops-plan -->\n## pinops plan\n\n")
    assert "**Plan: 0 to create, 1 to update, 0 to replace, 0 to delete. (1 waiting)**" in comment
    assert "<code>summer-salad</code>" in comment
    assert f"<!-- pinops-checksum: {saved['checksum']} -->" in comment
    assert results["summary"] == comment  # the same plan: it fits both limits whole
    preview = (checkout / "pinops-preview/index.html").read_text(encoding="utf-8")
    assert "Crisp Summer Salad" in preview and "<del>Crunchy</del>" in preview
    # It names the pull request's head commit (not the merge commit) and links the run.
    assert comment.endswith(
        f"<sub>Planned at commit {results['head']} · [workflow run]({RUN_URL})</sub>\n"
    )
    assert git(checkout, "status", "--porcelain") == "?? pinops-plan/\n?? pinops-preview/"


def test_the_plan_workflow_annotates_problems_and_fails(origin: Origin, runner: Path) -> None:
    checkout = origin.clone("pull-request")
    edit(checkout / SALAD, "title: Crunchy Summer Salad with Lemon Dressing", "title: " + "x" * 112)
    results = run_plan_job(checkout, runner, pull_request=7)
    assert results["failed"] == ("Fail on problems", 1)
    assert results["context"]["steps.plan.outputs.status"] == "1"
    assert results["annotations"] == [
        f"::error file={SALAD},line=4,col=8,title=pinops::"
        "title is 112 characters; the limit is 100 (shorten it by 12)"
    ]
    comment = (checkout / "pinops-plan/comment.md").read_text(encoding="utf-8")
    assert "**Validation failed: 1 problem.**" in comment
    assert f"| <code>{SALAD}:4:8</code> | error: title is 112 characters" in comment
    assert "**Validation failed: 1 problem.**" in results["summary"]


@pytest.mark.usefixtures("gh")
def test_a_failed_plan_replaces_the_comment_with_the_error(origin: Origin, runner: Path) -> None:
    checkout = origin.clone("pull-request")
    (checkout / STATE).write_text("{ not json", encoding="utf-8")
    results = run_plan_job(checkout, runner, pull_request=9)
    assert results["failed"] == ("Fail on problems", 1)
    assert results["annotations"] == [
        "::error title=pinops::the local state file is not a pinops state file"
    ]
    comment = (checkout / "pinops-plan/comment.md").read_text(encoding="utf-8")
    assert comment == (
        "<!-- pinops-plan -->\n## pinops plan\n\n"
        "**Failed:** the local state file is not a pinops state file\n\n"
        "Nothing is planned until this is fixed.\n\n"
        f"<sub>Failed at commit {results['head']} · [workflow run]({RUN_URL})</sub>\n"
    )
    assert results["summary"] == comment
    posted = run_comment_job(checkout, runner)
    assert posted == ["POST repos/acme/pins/issues/9/comments", comment]


@pytest.fixture
def gh(runner: Path) -> Path:
    """`gh` on the runner's PATH, standing in for GitHub's API: it finds no comment, and logs
    what it is asked to post."""
    log = runner / "gh.log"
    shim = runner / "bin" / "gh"
    shim.write_text(
        "#!/bin/sh\n"
        'if [ "$2" = "--paginate" ]; then exit 0; fi\n'
        f'printf "%s %s\\n" "$3" "$4" >> "{log}"\n'
        'for arg; do case "$arg" in body=@*) cat "${arg#body=@}" >> '
        f'"{log}";; esac; done\n',
        encoding="utf-8",
    )
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    return log


def run_comment_job(workspace: Path, runner: Path) -> list[str]:
    """The comment job's shell step, given what the plan job saved; what it posted."""
    log = runner / "gh.log"
    results = run_job("comment", workspace, runner, pull_request=9)
    assert results["failed"] is None, results
    text = log.read_text(encoding="utf-8")
    request, body = text.split("\n", 1)
    return [request, body]


@pytest.mark.usefixtures("gh")
def test_a_run_that_failed_before_planning_still_replaces_the_comment(
    tmp_path: Path, runner: Path
) -> None:
    workspace = tmp_path / "no-plan"  # the plan job failed before pinops ran: no artifact
    workspace.mkdir()
    request, body = run_comment_job(workspace, runner)
    assert request == "POST repos/acme/pins/issues/9/comments"
    assert body.startswith("<!-- pinops-plan -->\n## pinops plan\n\n")
    failed = "**The plan failed before pinops could make it**"
    assert f"{failed}: see the [workflow run]({RUN_URL})." in body
    assert f"<sub>Commit {'f' * 40}</sub>" in body


def test_the_action_passes_args_to_pinops_as_words_never_as_code(tmp_path: Path) -> None:
    """`args` reaches pinops split on spaces, with no quoting, expansion or globbing."""
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    (step,) = [s for s in action["runs"]["steps"] if s["name"] == "Run pinops"]
    assert step["env"] == {"PINOPS_ARGS": "${{ inputs.args }}"}
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    shim = bin_folder / "pinops"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{tmp_path / "args"}"\n', encoding="utf-8")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "pins.yaml").write_text("", encoding="utf-8")  # something for * to match
    hostile = "plan --format markdown; touch pwned $(touch pwned) `touch pwned` * 'a b'"
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=tmp_path,
        env={
            **os.environ,
            "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}",
            "PINOPS_ARGS": hostile,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "args").read_text(encoding="utf-8").splitlines() == hostile.split(" ")
    assert not (tmp_path / "pwned").exists()


def run_report_job(workspace: Path, runner: Path, pull_request: str) -> list[str]:
    """The apply workflow's report job, its shell step only; what it posted."""
    workflow = yaml.safe_load((WORKFLOWS / "pinops-apply.yml").read_text(encoding="utf-8"))
    (step,) = [s for s in workflow["jobs"]["report"]["steps"] if "run" in s]
    context = {
        "github.token": "unused-token",
        "github.repository": "acme/pins",
        "needs.apply.outputs.pull-request": pull_request,
        "github.server_url": "https://github.com",
        "github.run_id": "4242",
        "github.sha": "d" * 40,
    }
    env = {
        **os.environ,
        "PATH": f"{runner / 'bin'}{os.pathsep}{os.environ['PATH']}",
        **{k: expression(str(v), context) for k, v in step["env"].items()},
    }
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    request, body = (runner / "gh.log").read_text(encoding="utf-8").split("\n", 1)
    return [request, body]


@pytest.mark.usefixtures("gh")
def test_after_the_merge_the_apply_reports_on_the_pull_request(
    tmp_path: Path, runner: Path
) -> None:
    workspace = tmp_path / "merged"
    (workspace / "pinops-applied").mkdir(parents=True)
    applied = "## pinops apply\n\n**Apply complete: 1 created.**\n"
    (workspace / "pinops-applied/comment.md").write_text(applied, encoding="utf-8")
    assert run_report_job(workspace, runner, "12") == [
        "POST repos/acme/pins/issues/12/comments",
        "<!-- pinops-apply -->\n" + applied,
    ]


@pytest.mark.usefixtures("gh")
def test_an_apply_that_failed_before_pinops_ran_says_so(tmp_path: Path, runner: Path) -> None:
    workspace = tmp_path / "merged"
    workspace.mkdir()
    request, body = run_report_job(workspace, runner, "12")
    assert request == "POST repos/acme/pins/issues/12/comments"
    assert "**The apply failed before pinops could run**" in body
    assert f"<sub>Commit {'d' * 40}</sub>" in body


STAND_IN = """\
import os, signal, sys, time
from pathlib import Path
log = Path(sys.argv[1])
def note(number, frame):
    with log.open("a") as f:
        f.write(signal.Signals(number).name + "\\n")
signal.signal(signal.SIGINT, note)
signal.signal(signal.SIGTERM, note)
Path(os.environ["GITHUB_STEP_SUMMARY"]).write_text("## pinops apply\\n\\nCancelled.\\n")
log.write_text("")
while not log.read_text():
    time.sleep(0.01)
time.sleep(0.3)  # a signal sent twice would arrive in this time
sys.exit(130)
"""


@pytest.mark.parametrize("to", ["the shell", "its process group"])
def test_a_cancelled_apply_step_hands_pinops_each_signal_once(tmp_path: Path, to: str) -> None:
    """The runner signals the step's shell (or its group); pinops must see each signal exactly
    once, since a second one abandons the call in flight, and the step must keep its result."""
    workflow = yaml.safe_load((WORKFLOWS / "pinops-apply.yml").read_text(encoding="utf-8"))
    (step,) = [s for s in workflow["jobs"]["apply"]["steps"] if "setsid" in s.get("run", "")]
    bin_folder, log = tmp_path / "bin", tmp_path / "signals"
    bin_folder.mkdir()
    (tmp_path / "stand_in.py").write_text(STAND_IN, encoding="utf-8")
    shim = bin_folder / "pinops"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{tmp_path / "stand_in.py"}" "{log}"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    script = tmp_path / "step.sh"
    script.write_text(step["run"], encoding="utf-8")
    shell = subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],  # as the runner runs it
        cwd=tmp_path,
        env={
            **os.environ,
            "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_EVENT_NAME": "workflow_dispatch",
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        },
        start_new_session=True,
        # A runner's step shell starts with SIGINT handled; a shell started with it ignored
        # (as anything backgrounded by a non-interactive shell is) could never trap it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 20
        while not log.exists():
            assert time.monotonic() < deadline, "pinops never started"
            time.sleep(0.01)
        if to == "the shell":
            shell.send_signal(signal.SIGINT)
        else:
            os.killpg(shell.pid, signal.SIGINT)
        assert shell.wait(timeout=20) == 130
    finally:
        if shell.poll() is None:
            os.killpg(shell.pid, signal.SIGKILL)
    assert log.read_text(encoding="utf-8") == "SIGINT\n"
    applied = tmp_path / "pinops-applied" / "comment.md"
    assert applied.read_text(encoding="utf-8") == "## pinops apply\n\nCancelled.\n"
