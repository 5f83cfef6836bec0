"""`pinops init`: a content repository that validates, plans, and carries the GitHub workflows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reconciler import credentials, initrepo, installation
from reconciler.cli import main
from tests.conftest import PROJECT, Result
from tests.gitrepos import git, isolate_git

# How this repository's own workflows are rendered from the templates `pinops init` uses.
THIS_REPOSITORY = initrepo.Options(
    install=installation.requested("."), branch="main", command="pinops --state-branch pinops-state"
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def test_init_scaffolds_a_repository_that_plans(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "my-pins"
    result = run(capsys, "init", str(folder), "--install", "pinops==9.9")
    assert result.code == 0, result.err
    for name in (
        "pinops.yaml",
        "pins/example.yaml",
        "pins/media/example.png",
        "schemas/pin-file.schema.json",
        "schemas/config.schema.json",
        ".github/workflows/pinops-plan.yml",
        ".github/workflows/pinops-apply.yml",
        ".gitignore",
    ):
        assert (folder / name).is_file(), name
        assert name in result.out
    assert (folder / ".gitignore").read_text(encoding="utf-8") == (
        "# pinops: the local sandbox, and the state file (kept on its branch)\n"
        ".pinops/\npinops.state.json\npinops.state.json.lock\npinops.state.json.lock.holder\n"
        "pinops.state.json.journal\n"
    )
    assert (
        (folder / "pins/example.yaml")
        .read_text(encoding="utf-8")
        .startswith("# yaml-language-server: $schema=../schemas/pin-file.schema.json\n")
    )
    plan = (folder / ".github/workflows/pinops-plan.yml").read_text(encoding="utf-8")
    assert "python -m pip install --disable-pip-version-check pinops==9.9\n" in plan
    assert "The workflows install pinops==9.9, as asked with --install." in result.out
    assert "state_branch: pinops-state\n" in (folder / "pinops.yaml").read_text(encoding="utf-8")
    assert "        run: pinops plan" not in plan and "          pinops plan --format" in plan
    apply = (folder / ".github/workflows/pinops-apply.yml").read_text(encoding="utf-8")
    assert "    branches: [main]\n" in apply
    assert "@" + "PINOPS@" not in plan + apply
    validated = run(capsys, "-C", str(folder), "validate")
    assert validated.code == 0, validated.err
    planned = run(capsys, "-C", str(folder), "plan")
    assert "+ create first-pin" in planned.out
    assert "Plan: 1 to create" in planned.out


def test_init_never_overwrites_and_merges_gitignore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "existing"
    (folder / "pins").mkdir(parents=True)
    (folder / "pins/example.yaml").write_text("id: mine\n", encoding="utf-8")
    (folder / ".gitignore").write_text("node_modules/\n.pinops/", encoding="utf-8")
    refused = run(capsys, "init", str(folder))
    assert refused.code == 1
    assert "refusing to overwrite pins/example.yaml" in refused.err
    assert not (folder / "pinops.yaml").exists()
    assert (folder / "pins/example.yaml").read_text(encoding="utf-8") == "id: mine\n"

    (folder / "pins/example.yaml").unlink()
    assert run(capsys, "init", str(folder)).code == 0
    assert (folder / ".gitignore").read_text(encoding="utf-8") == (
        "node_modules/\n.pinops/\n"
        "# pinops: the local sandbox, and the state file (kept on its branch)\n"
        "pinops.state.json\npinops.state.json.lock\npinops.state.json.lock.holder\n"
        "pinops.state.json.journal\n"
    )


def test_init_publishes_from_the_branch_checked_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    isolate_git(monkeypatch, tmp_path)
    folder = tmp_path / "content"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "trunk")
    assert run(capsys, "init", str(folder)).code == 0
    apply = (folder / ".github/workflows/pinops-apply.yml").read_text(encoding="utf-8")
    assert "    branches: [trunk]\n" in apply


@pytest.mark.parametrize("name", initrepo.WORKFLOWS)
def test_this_repository_runs_the_workflows_init_writes(name: str) -> None:
    """The repository's own content workflows are the templates, with its own install line and
    its state kept on the pinops-state branch (so that the quick start stays a fresh start)."""
    own = (PROJECT / ".github/workflows" / name).read_text(encoding="utf-8")
    assert own == initrepo.workflow(name, THIS_REPOSITORY)


COMMIT = "0123456789abcdef0123456789abcdef01234567"


def no_checkout(_folder: Path) -> None:
    return None


@pytest.mark.parametrize(
    ("record", "step", "said"),
    [
        (
            None,
            "run: python -m pip install --disable-pip-version-check pinops==1.2.3",
            "pinops 1.2.3 from the package index, as this pinops was installed",
        ),
        (
            {
                "url": "https://github.com/acme/pinops.git",
                "vcs_info": {"vcs": "git", "commit_id": COMMIT, "requested_revision": "main"},
            },
            "run: python -m pip install --disable-pip-version-check "
            f"'pinops @ git+https://github.com/acme/pinops.git@{COMMIT}'",
            "pinops from https://github.com/acme/pinops.git at 0123456789ab, as this pinops was "
            "installed",
        ),
        (
            {
                "url": "https://files.example/pinops-1.2.3-py3-none-any.whl",
                "archive_info": {"hashes": {"sha256": "ab" * 32}},
            },
            "run: python -m pip install --disable-pip-version-check "
            f"'pinops @ https://files.example/pinops-1.2.3-py3-none-any.whl#sha256={'ab' * 32}'",
            "pinops 1.2.3 from https://files.example/pinops-1.2.3-py3-none-any.whl, as this "
            "pinops was installed",
        ),
    ],
)
def test_the_workflows_install_pinops_as_it_was_installed(
    record: dict[str, object] | None, step: str, said: str
) -> None:
    install = installation.from_record("1.2.3", record, no_checkout)
    assert install.step() == step
    assert install.source == said
    assert install.caveat == ""


def test_a_checkout_of_a_github_repository_installs_through_its_action() -> None:
    record = {"url": "file:///home/me/pinops", "dir_info": {"editable": True}}
    seen: list[Path] = []

    def checkout(folder: Path) -> tuple[str, str, bool]:
        seen.append(folder)
        return "git@github.com:acme/pinops.git", COMMIT, True

    install = installation.from_record("1.2.3", record, checkout)
    assert seen == [Path("/home/me/pinops")]
    assert install.step() == f"uses: acme/pinops@{COMMIT} # pinops' action: installs pinops"
    assert "acme/pinops at commit 0123456789ab" in install.source
    assert install.caveat == ""

    local = str(record["url"])
    unpushed = installation.from_record("1.2.3", record, lambda _f: (local, COMMIT, False))
    assert unpushed.requirement == f"pinops @ git+file:///home/me/pinops@{COMMIT}"
    assert "is not on file:///home/me/pinops yet" in unpushed.caveat

    folder = installation.from_record("1.2.3", record, no_checkout)
    assert folder.requirement == "pinops @ file:///home/me/pinops"
    assert folder.source == (
        "pinops 1.2.3 from a folder on this machine, as this pinops was installed"
    )
    assert "GitHub's runners cannot reach this machine" in folder.caveat


def test_a_local_checkout_is_named_by_its_origin_and_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_git(monkeypatch, tmp_path)
    folder = tmp_path / "pinops"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    assert installation.git_checkout(folder) is None  # no origin
    (folder / "README.md").write_text("pinops\n", encoding="utf-8")
    git(folder, "add", "README.md")
    git(folder, "commit", "-q", "-m", "start")
    git(folder, "remote", "add", "origin", "https://github.com/acme/pinops.git")
    head = git(folder, "rev-parse", "HEAD")
    assert installation.git_checkout(folder) == ("https://github.com/acme/pinops.git", head, False)
    git(folder, "update-ref", "refs/remotes/origin/main", head)  # as after a push
    assert installation.git_checkout(folder) == ("https://github.com/acme/pinops.git", head, True)
    (folder / "README.md").write_text("changed\n", encoding="utf-8")
    assert installation.git_checkout(folder) == ("https://github.com/acme/pinops.git", head, False)


def test_init_matrix_applies_one_job_per_account_in_its_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, single = tmp_path / "agency", tmp_path / "single"
    result = run(capsys, "init", str(folder), "--matrix", "--max-parallel", "7")
    assert result.code == 0, result.err
    assert "one job per account" in result.out
    assert run(capsys, "init", str(single)).code == 0
    workflows = folder / ".github/workflows"
    # The plan on pull requests is the same: every account in one comment.
    assert (workflows / "pinops-plan.yml").read_bytes() == (
        single / ".github/workflows/pinops-plan.yml"
    ).read_bytes()
    text = (workflows / "pinops-apply.yml").read_text(encoding="utf-8")
    assert "@" not in text.replace("github-actions[bot]@", "").split("uses: ")[0]
    workflow = yaml.safe_load(text)
    assert list(workflow["jobs"]) == ["accounts", "apply", "report"]
    accounts, apply = workflow["jobs"]["accounts"], workflow["jobs"]["apply"]
    assert accounts["outputs"]["accounts"] == "${{ steps.list.outputs.accounts }}"
    assert "secrets" not in str(accounts)
    assert apply["needs"] == "accounts"
    assert apply["strategy"] == {
        "fail-fast": False,
        "max-parallel": 7,
        "matrix": {"account": "${{ fromJSON(needs.accounts.outputs.accounts) }}"},
    }
    assert apply["environment"] == "${{ matrix.account.environment }}"
    assert apply["concurrency"] == {
        "group": "pinops-apply-${{ matrix.account.name }}",
        "cancel-in-progress": False,
        "queue": "max",
    }
    assert "concurrency" not in workflow  # accounts of two runs may publish side by side
    step = next(s for s in apply["steps"] if s["name"] == "Apply and commit the state")
    assert step["env"]["ACCOUNT"] == "${{ matrix.account.name }}"
    assert 'args=(apply --yes --commit --account "$ACCOUNT")' in step["run"]
    assert "${{" not in step["run"]  # expressions reach the shell through env only
    upload = next(s for s in apply["steps"] if s.get("uses", "").startswith("actions/upload"))
    assert upload["with"]["name"] == "pinops-applied-${{ matrix.account.name }}"


def test_the_matrix_is_the_accounts_pinops_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The accounts job's step, run as the runner runs it: one line of JSON in GITHUB_OUTPUT."""
    folder = tmp_path / "agency"
    assert run(capsys, "init", str(folder), "--matrix").code == 0
    config = folder / "pinops.yaml"
    text = config.read_text(encoding="utf-8")
    more = "  globex:\n    provider: sandbox\n    environment: pinops-globex\npolicy:\n"
    config.write_text(text.replace("policy:\n", more), encoding="utf-8")
    workflow = yaml.safe_load((folder / ".github/workflows/pinops-apply.yml").read_text("utf-8"))
    step = next(s for s in workflow["jobs"]["accounts"]["steps"] if s.get("id") == "list")
    shim = tmp_path / "bin" / "pinops"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m reconciler "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    output = tmp_path / "output"
    output.write_text("", encoding="utf-8")
    env = {
        **os.environ,
        "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(PROJECT),
        "GITHUB_OUTPUT": str(output),
    }
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=folder, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    name, value = output.read_text(encoding="utf-8").rstrip("\n").split("=", 1)
    assert name == "accounts" and "\n" not in value
    assert [(a["name"], a["environment"]) for a in json.loads(value)] == [
        ("main", "pinops"),
        ("globex", "pinops-globex"),
    ]


def test_max_parallel_needs_the_matrix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    refused = run(capsys, "init", str(tmp_path / "x"), "--max-parallel", "3")
    assert refused.code == 1
    assert "add --matrix" in refused.err
    assert not (tmp_path / "x" / "pinops.yaml").exists()
    with pytest.raises(SystemExit) as exited:
        main(["init", str(tmp_path / "x"), "--matrix", "--max-parallel", "0"])
    assert exited.value.code == 1
    assert "--max-parallel: expected a whole number of 1 or more" in capsys.readouterr().err


def test_the_matrix_reports_every_account_in_one_comment(tmp_path: Path) -> None:
    """The report job's step, run with each job's result as download-artifact leaves it, and a
    `gh` that keeps the comment it is given."""
    options = initrepo.Options(install=installation.requested("."), branch="main", matrix=True)
    initrepo.init(tmp_path / "m", options)
    workflow = yaml.safe_load(
        (tmp_path / "m/.github/workflows/pinops-apply.yml").read_text(encoding="utf-8")
    )
    step = workflow["jobs"]["report"]["steps"][-1]
    work = tmp_path / "runner"
    (work / "pinops-applied/pinops-applied-acme").mkdir(parents=True)
    (work / "pinops-applied/pinops-applied-acme/comment.md").write_text("acme: 3 created\n")
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    gh = bin_folder / "gh"
    gh.write_text(f'#!/bin/sh\ncp body.md "{tmp_path}/posted.md"\n', encoding="utf-8")
    gh.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}",
        "GH_TOKEN": "unused",
        "REPO": "acme/pins",
        "PR_NUMBER": "12",
        "ACCOUNTS": json.dumps([{"name": "acme"}, {"name": "globex"}]),
        "RUN_URL": "https://github.com/acme/pins/actions/runs/1",
        "MERGED_SHA": "e" * 40,
    }
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=work, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    posted = (tmp_path / "posted.md").read_text(encoding="utf-8")
    assert posted.startswith("<!-- pinops-apply -->\n### Account acme\n\nacme: 3 created\n")
    assert "### Account globex\n\n**The apply failed before pinops could run**" in posted


def _passed_secrets(workflow: str) -> dict[str, str]:
    """The apply step's env entries that come from secrets."""
    jobs = yaml.safe_load(workflow)["jobs"]
    step = next(s for s in jobs["apply"]["steps"] if s["name"] == "Apply and commit the state")
    return {k: v for k, v in step["env"].items() if "secrets." in v}


@pytest.mark.parametrize("matrix", [False, True])
def test_the_apply_workflow_passes_the_default_variables_from_one_table(matrix: bool) -> None:
    options = initrepo.Options(install=installation.requested("."), branch="main", matrix=matrix)
    providers = credentials.DEFAULTS if matrix else initrepo.SUGGESTED
    expected = [
        variable
        for provider in providers
        for role, variable in credentials.DEFAULTS[provider].items()
        if role != "token_file"  # a path on the runner, not a secret
    ]
    name = initrepo.MATRIX if matrix else "pinops-apply.yml"
    passed = _passed_secrets(initrepo.workflow(name, options))
    assert passed == {v: f"${{{{ secrets.{v} }}}}" for v in expected}


@pytest.mark.parametrize("matrix", [False, True])
def test_the_apply_workflow_passes_the_variables_each_account_names(
    tmp_path: Path, matrix: bool
) -> None:
    config = (
        b"pins: pins/\nstate: pinops.state.json\naccounts:\n"
        b"  acme:\n    provider: pinterest\n    credentials:\n"
        b"      access_token: ACME_PINTEREST_TOKEN\n      token_file: ACME_TOKEN_FILE\n"
        b"  globex:\n    provider: zernio\n    credentials: {api_key: GLOBEX_ZERNIO_KEY}\n"
        b"  initech:\n    provider: postproxy\n"
    )
    options = initrepo.Options(
        install=installation.requested("."), branch="main", matrix=matrix, config=config
    )
    written = initrepo.init(tmp_path, options)
    assert "pinops.yaml" in written
    assert (tmp_path / "pinops.yaml").read_bytes() == config
    apply = (tmp_path / ".github/workflows/pinops-apply.yml").read_text(encoding="utf-8")
    passed = _passed_secrets(apply)
    for variable in ("ACME_PINTEREST_TOKEN", "GLOBEX_ZERNIO_KEY", "POSTPROXY_API_KEY"):
        assert passed[variable] == f"${{{{ secrets.{variable} }}}}"
    assert "ACME_TOKEN_FILE" not in apply  # a path on the runner: no secret holds it
    assert "PINTEREST_ACCESS_TOKEN" in passed  # the defaults stay for accounts added later
    assert "secrets." not in (tmp_path / ".github/workflows/pinops-plan.yml").read_text("utf-8")


def test_init_says_which_secrets_the_apply_workflow_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    said = run(capsys, "init", str(tmp_path / "pins")).out
    assert "The apply workflow passes the secrets PINTEREST_ACCESS_TOKEN," in said
    assert "`credentials:` in pinops.yaml" in " ".join(said.split())
    assert "as `NAME: ${{ secrets.NAME }}`" in " ".join(said.split())
