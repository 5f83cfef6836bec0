"""`pinops init`: a new content repository, reviewed on pull requests and published on merge.

It writes pinops.yaml (a sandbox account, the state on its own branch), an example pin with its
image, the JSON Schemas the editor modelines point at, the two GitHub workflows (plan on pull
requests, apply on merge), which install pinops as the running one was installed
(installation.py), and .gitignore entries for pinops' local files. With `matrix`, the apply
workflow runs one job per account, each in the GitHub environment that holds its secrets. It
never overwrites a file: if one exists, nothing is written. The templates ship inside the package
(reconciler/init_templates/); the repository's own workflows are rendered from the same templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from reconciler import config, credentials, schema
from reconciler.errors import InputError
from reconciler.installation import Install

# The state file is a working copy of the one on the state branch: git keeps it there.
GITIGNORE = (
    ".pinops/",
    "pinops.state.json",
    "pinops.state.json.lock",
    "pinops.state.json.lock.holder",
    "pinops.state.json.journal",
)
WORKFLOWS = ("pinops-plan.yml", "pinops-apply.yml")
# `init --matrix`: the apply workflow as one job per account, written as pinops-apply.yml.
MATRIX = "pinops-apply-matrix.yml"
MAX_PARALLEL = 4
# The providers whose default variables the single apply workflow passes: the sandbox account of
# the new pinops.yaml makes way for Pinterest (as its comment says). A matrix passes every one.
SUGGESTED = ("pinterest",)
# A role a workflow passes no secret for: a path on the machine that runs pinops.
_LOCAL_ROLES = frozenset({"token_file"})


@dataclass(frozen=True)
class Options:
    install: Install  # how the workflows install pinops
    branch: str  # the branch whose merges are published
    command: str = "pinops"  # how the workflows run pinops, global options included
    matrix: bool = False  # apply in one job per account
    max_parallel: int = MAX_PARALLEL  # how many of those jobs run at once
    # The pinops.yaml written, whose accounts' variables the apply workflow passes.
    config: bytes = field(default_factory=lambda: _template("pinops.yaml"))


def _template(name: str) -> bytes:
    return resources.files("reconciler").joinpath("init_templates", name).read_bytes()


def secret_variables(text: bytes, *, matrix: bool) -> list[str]:
    """The variables the apply workflow passes from the environment's secrets: the defaults of
    the suggested providers (every provider's for a matrix) and of each account of the pinops.yaml
    `text`, and every variable an account names in its `credentials:` (names the schema keeps to
    letters, digits and underscores). From credentials.DEFAULTS, the table pinops reads them by."""
    accounts = config.parse(Path(), text).accounts.values()
    providers = list(credentials.DEFAULTS) if matrix else list(SUGGESTED)
    roles = [credentials.DEFAULTS[p] for p in providers] + [a.variables for a in accounts]
    found = [v for each in roles for role, v in each.items() if role not in _LOCAL_ROLES]
    return list(dict.fromkeys(found))


def _secrets_env(names: list[str]) -> str:
    """The env lines of the apply step that pass the secrets named, and only those."""
    return "".join(f"          {name}: ${{{{ secrets.{name} }}}}\n" for name in names)


def workflow(name: str, options: Options) -> str:
    """A workflow template with its placeholders filled in."""
    text = _template(name).decode("utf-8")
    secrets = _secrets_env(secret_variables(options.config, matrix=name == MATRIX))
    return (
        text.replace("@INSTALL@", options.install.step())
        .replace("@PINOPS@", options.command)
        .replace("@BRANCH@", options.branch)
        .replace("@MAX_PARALLEL@", str(options.max_parallel))
        .replace("          @SECRETS@\n", secrets)
    )


def files(options: Options) -> dict[str, bytes]:
    """Every file `pinops init` writes, by path relative to the new repository."""
    written = {
        "pinops.yaml": options.config,
        "pins/example.yaml": _template("example-pin.yaml"),
        "pins/media/example.png": _template("example.png"),
        f"schemas/{schema.PIN_FILE}": schema.schema_text(schema.PIN_FILE).encode("utf-8"),
        f"schemas/{schema.CONFIG}": schema.schema_text(schema.CONFIG).encode("utf-8"),
    }
    for name in WORKFLOWS:
        template = MATRIX if options.matrix and name == "pinops-apply.yml" else name
        written[f".github/workflows/{name}"] = workflow(template, options).encode("utf-8")
    return written


def init(folder: Path, options: Options) -> list[str]:
    """Scaffold `folder`; returns what was written. Refuses, writing nothing, if a file exists."""
    planned = files(options)
    existing = [name for name in planned if (folder / name).exists()]
    if existing:
        raise InputError(
            f"refusing to overwrite {', '.join(existing)} in {folder}",
            hint="run pinops init in a new folder, or move those files away first",
        )
    for name, content in planned.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    ignore = folder / ".gitignore"
    present = ignore.read_text(encoding="utf-8").splitlines() if ignore.exists() else []
    missing = [entry for entry in GITIGNORE if entry not in present]
    if missing:
        lead = "\n" if present and present[-1].strip() else ""
        block = lead + "# pinops: the local sandbox, and the state file (kept on its branch)\n"
        with ignore.open("a", encoding="utf-8") as out:
            out.write(block + "".join(f"{entry}\n" for entry in missing))
        planned[".gitignore"] = b""
    return list(planned)
