"""How the running pinops was installed, and the workflow step that installs the same pinops.

pip records where a package came from in its `direct_url.json` (PEP 610): a VCS URL and commit, an
archive, or a local folder; a package from an index has none. `pinops init` writes workflows that
install pinops the same way, so a content repository runs the pinops its maintainer ran: the same
index version, the same git commit, or, from a local checkout of a GitHub repository, that
repository's composite action (action.yml) at the checked-out commit. What a GitHub runner cannot
fetch (a file on this machine) is said so.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:
    from importlib import metadata

DISTRIBUTION = "pinops"
PIP = "python -m pip install --disable-pip-version-check"
_GITHUB = re.compile(r"(?:https://|ssh://git@|git@)github\.com[/:]([\w-]+)/([\w.-]+?)(?:\.git)?/?")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_SAME = ", as this pinops was installed"


@dataclass(frozen=True)
class Install:
    """What the workflows' install step installs, and in words where that comes from."""

    source: str  # for `pinops init`'s output: "pinops 0.1.0 from the package index"
    requirement: str = ""  # what the step pip-installs, or
    action: str = ""  # the composite action the step uses: OWNER/REPO@COMMIT
    caveat: str = ""  # why the step may not work on GitHub as it is, and what to do

    def step(self) -> str:
        """The install step's body: a `uses:` or a `run:` line."""
        if self.action:
            return f"uses: {self.action} # pinops' action: installs pinops"
        return f"run: {PIP} {shlex.quote(self.requirement)}"


# A local folder's git origin URL, its checked-out commit, and whether that commit is pushed.
Checkout = Callable[[Path], "tuple[str, str, bool] | None"]


def version() -> str:
    """The version of pinops installed, or "unknown" in a source tree never installed."""
    from importlib import metadata  # slow to import: only when a version is asked for

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def requested(requirement: str) -> Install:
    """What `pinops init --install SPEC` asks for."""
    return Install(source=f"{requirement}, as asked with --install", requirement=requirement)


def running() -> Install:
    """The install that matches how this pinops was installed."""
    found = _distribution()
    if found is None:
        return Install(
            source="the newest pinops from the package index",
            requirement=DISTRIBUTION,
            caveat="this pinops is not installed as a package: pin a version with --install",
        )
    recorded = found.read_text("direct_url.json")
    return from_record(found.version, json.loads(recorded) if recorded else None, git_checkout)


def _distribution() -> metadata.Distribution | None:
    """The installed pinops; before one pip installed, any other (a source tree's egg-info)."""
    from importlib import metadata

    found = list(metadata.distributions(name=DISTRIBUTION))
    installed = [d for d in found if d.read_text("INSTALLER") is not None]
    for candidate in installed + found:
        return candidate
    return None


def from_record(version: str, record: dict[str, Any] | None, checkout: Checkout) -> Install:
    """The install that matches a `direct_url.json` record; None: installed from an index."""
    if record is None:
        return Install(
            source=f"pinops {version} from the package index{_SAME}",
            requirement=f"{DISTRIBUTION}=={version}",
        )
    url = str(record.get("url", ""))
    subdirectory = record.get("subdirectory")
    fragment = f"#subdirectory={subdirectory}" if subdirectory else ""
    vcs = record.get("vcs_info")
    if isinstance(vcs, dict):
        commit = str(vcs.get("commit_id", ""))
        return _from_vcs(str(vcs.get("vcs", "git")), url, commit, fragment)
    local = url.startswith("file:")
    if "dir_info" in record and local:
        found = checkout(Path(unquote(urlparse(url).path)))
        if found is not None:
            return _from_checkout(*found, subdirectory)
    hashes = record.get("archive_info", {}).get("hashes", {})
    pinned = f"#sha256={hashes['sha256']}" if "sha256" in hashes and not fragment else fragment
    where = url
    if local:
        where = "a folder on this machine" if "dir_info" in record else "a file on this machine"
    return Install(
        source=f"pinops {version} from {where}{_SAME}",
        requirement=f"{DISTRIBUTION} @ {url}{pinned}",
        caveat="GitHub's runners cannot reach this machine: install pinops from an "
        "index or a git URL and run pinops init again, or pass --install SPEC"
        if local
        else "",
    )


def _from_vcs(vcs: str, url: str, commit: str, fragment: str) -> Install:
    at = f" at {commit[:12]}" if commit else ""
    return Install(
        source=f"pinops from {url}{at}{_SAME}",
        requirement=f"{DISTRIBUTION} @ {vcs}+{url}{'@' + commit if commit else ''}{fragment}",
        caveat="GitHub's runners cannot reach a repository on this machine: pass --install SPEC"
        if url.startswith("file:")
        else "",
    )


def _from_checkout(remote: str, commit: str, pushed: bool, subdirectory: str | None) -> Install:
    """A local git checkout: its GitHub repository's action, or its remote, at its commit."""
    github = _GITHUB.fullmatch(remote)
    caveat = (
        ""
        if pushed
        else f"commit {commit[:12]} is not on {remote} yet, or this checkout has changes not "
        "committed: the workflows install that commit as it is pushed"
    )
    if github and not subdirectory:
        owner, name = github.groups()
        return Install(
            source=f"pinops through its GitHub Action, {owner}/{name} at commit {commit[:12]}, "
            "as this pinops is that checkout",
            action=f"{owner}/{name}@{commit}",
            caveat=caveat,
        )
    fragment = f"#subdirectory={subdirectory}" if subdirectory else ""
    https = f"https://github.com/{github.group(1)}/{github.group(2)}.git" if github else remote
    return Install(
        source=f"pinops from {https} at commit {commit[:12]}, as this pinops is that checkout",
        requirement=f"{DISTRIBUTION} @ git+{https}@{commit}{fragment}",
        caveat=caveat,
    )


def git_checkout(folder: Path) -> tuple[str, str, bool] | None:
    """A folder's origin URL, checked-out commit, and whether the commit is on a remote branch
    with nothing changed since; None when it is not a git checkout with an origin."""
    import git  # GitPython: only for an install from a local folder

    try:
        repo = git.Repo(folder)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    with repo:
        try:
            remote = next(iter(repo.remote("origin").urls))
            commit = repo.head.commit.hexsha
            pushed = bool(str(repo.git.branch("-r", "--contains", commit)).strip())
            clean = not repo.is_dirty(untracked_files=False)
        except (ValueError, StopIteration, git.GitCommandError):
            return None
    return (remote, commit, pushed and clean) if _COMMIT.fullmatch(commit) else None
