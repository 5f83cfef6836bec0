"""The package as it is published: an sdist and a wheel that pass `twine check`, and the install
step `pinops init` writes, which installs the very pinops that wrote it.

These build with `python -m build --no-isolation` (setuptools, build and twine come with the
`test` extra) and install into fresh venvs without reaching a package index.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT

pytestmark = pytest.mark.slow


def quiet_env(**extra: str) -> dict[str, str]:
    """The environment without this test run's PYTHONPATH, so that each venv imports its own."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update({"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1", **extra})
    return env


def run(*args: str | Path, cwd: Path | None = None, **extra: str) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=quiet_env(**extra),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An sdist and a wheel of this tree, built as a release would be."""
    out = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("source") / "pinops"
    # A copy of the tree as git tracks it, so that the build leaves nothing in the repository.
    files = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=PROJECT)
    for name in filter(None, files.split("\0")):
        if (PROJECT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT / name, source / name)
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, source)
    return out


def test_the_sdist_and_the_wheel_pass_twine_check(dist: Path) -> None:
    built = sorted(dist.iterdir())
    assert [p.name for p in built] == ["pinops-0.1.0-py3-none-any.whl", "pinops-0.1.0.tar.gz"]
    out = run(sys.executable, "-m", "twine", "check", "--strict", *built)
    assert out.count("PASSED") == 2, out
    with zipfile.ZipFile(built[0]) as wheel:
        names = wheel.namelist()
    for packaged in (
        "reconciler/init_templates/pinops-plan.yml",
        "reconciler/init_templates/example.png",
        "reconciler/schemas/pin-file.schema.json",
    ):
        assert packaged in names


def venv(folder: Path, *args: str) -> Path:
    """A new venv; returns its bin folder."""
    run(sys.executable, "-m", "venv", *args, folder)
    return folder / ("Scripts" if os.name == "nt" else "bin")


def installed_files(bin_folder: Path) -> dict[str, str]:
    """The pinops a venv holds: each file of its RECORD with its hash (scripts, whose first line
    names their own interpreter, and compiled files left out), and where pip says it came from."""
    listing = run(
        bin_folder / "python",
        "-I",  # isolated: not the pinops.egg-info of a source tree in the current folder
        "-c",
        "from importlib import metadata; d = metadata.distribution('pinops'); "
        "print(d.read_text('RECORD')); print('direct_url.json', d.read_text('direct_url.json'))",
    )
    found = {}
    for line in listing.splitlines():
        if line.startswith("direct_url.json "):
            found["direct_url.json"] = line.split(" ", 1)[1]
            continue
        path, digest, _size = line.rsplit(",", 2) if "," in line else ("", "", "")
        if digest and not path.startswith("..") and ".dist-info/" not in path:
            found[path] = digest
    return found


def test_the_workflows_init_writes_install_the_pinops_that_wrote_them(
    dist: Path, tmp_path: Path
) -> None:
    wheel = next(dist.glob("*.whl"))
    # The maintainer's pinops, installed from the wheel; its dependencies and pip are this run's
    # (their folders come after the venv's own in its path).
    maintainer = venv(tmp_path / "maintainer", "--without-pip")
    own = run(maintainer / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    (Path(own.strip()) / "dependencies.pth").write_text(
        "".join(f"{folder}\n" for folder in site.getsitepackages()), encoding="utf-8"
    )
    run(maintainer / "python", "-m", "pip", "install", "--no-deps", "--force-reinstall", wheel)
    said = run(maintainer / "pinops", "init", tmp_path / "content", cwd=tmp_path)
    assert "The workflows install pinops 0.1.0 from a file on this machine" in said
    assert "warning: GitHub's runners cannot reach this machine" in said

    steps = [
        step
        for name in ("pinops-plan.yml", "pinops-apply.yml")
        for job in yaml.safe_load(
            (tmp_path / "content/.github/workflows" / name).read_text(encoding="utf-8")
        )["jobs"].values()
        for step in job["steps"]
        if step["name"] == "Install pinops"
    ]
    assert len(steps) == 2 and steps[0] == steps[1]
    runner = venv(tmp_path / "runner")  # a fresh Python, as on a GitHub runner
    path = f"{runner}{os.pathsep}{os.environ['PATH']}"
    run("bash", "-ec", steps[0]["run"], cwd=tmp_path, PATH=path, PIP_NO_DEPS="1")
    installed = installed_files(runner)
    assert installed == installed_files(maintainer)
    assert "reconciler/init_templates/pinops-plan.yml" in installed
