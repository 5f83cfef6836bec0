"""`pinops init`: a content repository that validates, plans, and carries the GitHub workflows."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import initrepo
from reconciler.cli import main
from tests.conftest import PROJECT, Result
from tests.gitrepos import git, isolate_git

# How this repository's own workflows are rendered from the templates `pinops init` uses.
THIS_REPOSITORY = initrepo.Options(
    install=".", branch="main", command="pinops --state-branch pinops-state"
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
        "# pinops: the local sandbox, and the state file's lock and journal\n"
        ".pinops/\npinops.state.json.lock\npinops.state.json.lock.holder\npinops.state.json.journal\n"
    )
    assert (
        (folder / "pins/example.yaml")
        .read_text(encoding="utf-8")
        .startswith("# yaml-language-server: $schema=../schemas/pin-file.schema.json\n")
    )
    plan = (folder / ".github/workflows/pinops-plan.yml").read_text(encoding="utf-8")
    assert "python -m pip install --disable-pip-version-check pinops==9.9\n" in plan
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
        "# pinops: the local sandbox, and the state file's lock and journal\n"
        "pinops.state.json.lock\npinops.state.json.lock.holder\npinops.state.json.journal\n"
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
