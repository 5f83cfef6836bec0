"""The documentation held to the code: every command-line example in docs/ and README.md runs
against the example repository, every page is in the site's navigation, the commands page names
every command and option, the architecture page names every module, and the tables of what each
posting service takes are the ones the code holds."""

from __future__ import annotations

import argparse
import ast
import itertools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from reconciler import arguments
from reconciler.providers import table

PROJECT = Path(__file__).resolve().parent.parent
DOCS = PROJECT / "docs"
# The Markdown files whose examples are run: the site's pages, and the files GitHub shows.
SOURCES = sorted([*DOCS.rglob("*.md"), PROJECT / "README.md", PROJECT / "SECURITY.md"])

# Examples that cannot run against the example repository, per file: each is marked in its page
# with `<!-- not run: why -->` right before the block. Counted, so that none goes unnoticed.
NOT_RUN = {
    "README.md": 1,
    "docs/agencies.md": 1,
    "docs/development.md": 2,
    "docs/getting-started.md": 1,
}
EXAMPLE_LANGUAGES = {"sh", "console"}
# Languages of shell text that would escape the examples' run: spell them `sh` or `console`.
SHELL_ALIASES = {"bash", "shell", "shell-session", "zsh", "shellsession"}
NOT_RUN_MARK = re.compile(r"<!-- not run: (?P<why>\S.*\S) -->")
# Variables that would reach a real account or GitHub: an example runs with none of them.
OUTSIDE = re.compile(
    r"^(PINTEREST_|CROSSPOSTIFY_|POSTPEER_|POSTPROXY_|ZERNIO_|RELAYAPI_|GITHUB_|GH_|ACTIONS_|"
    r"RUNNER_|PINOPS_ALLOW_HOSTS$)"
)


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    path: Path
    line: int  # of the opening fence, from 1
    language: str
    text: str
    not_run: str | None  # why, when the page marks it as not run

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(PROJECT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    found = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = re.match(r"^ {0,3}(`{3,})(.*)$", lines[index])
        if not opening:
            index += 1
            continue
        fence, info = opening.groups()
        start = index
        index += 1
        body = []
        while index < len(lines) and not lines[index].strip().startswith(fence):
            body.append(lines[index])
            index += 1
        index += 1
        before = [line for line in lines[:start] if line.strip()]
        mark = NOT_RUN_MARK.fullmatch(before[-1].strip()) if before else None
        found.append(
            Block(
                path,
                start + 1,
                info.strip().split(" ")[0],
                "\n".join(body) + "\n",
                mark["why"] if mark else None,
            )
        )
    return found


ALL_BLOCKS = [block for path in SOURCES for block in blocks(path)]
# An example shown in two places (the README and its page) is run once, named by its first place.
EXAMPLES = list(
    {
        (b.language, b.text): b
        for b in reversed(ALL_BLOCKS)
        if b.language in EXAMPLE_LANGUAGES and b.not_run is None
    }.values()
)[::-1]


def script(block: Block) -> tuple[str, list[str]]:
    """The commands of an example, and the output lines it shows (console blocks)."""
    if block.language == "sh":
        return block.text, []
    commands: list[str] = []
    shown: list[str] = []
    continued = False
    for line in block.text.splitlines():
        if continued or line.startswith("$ "):
            commands.append(line if continued else line[2:])
            continued = line.endswith("\\")
        else:
            shown.append(line.rstrip())
    return "\n".join(commands) + "\n", shown


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    root.mkdir()
    shutil.copy(PROJECT / "pinops.yaml", root / "pinops.yaml")
    shutil.copytree(PROJECT / "pins", root / "pins")
    return root


def offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not OUTSIDE.match(k)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH")]))
    env["NO_COLOR"] = "1"
    env.pop("FORCE_COLOR", None)
    return env


@pytest.mark.parametrize("block", EXAMPLES, ids=[b.name for b in EXAMPLES])
def test_every_example_runs_against_the_example_repository(
    block: Block, example_repo: Path
) -> None:
    commands, shown = script(block)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", commands],
        cwd=example_repo,
        env=offline_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{block.name} exits {done.returncode}:\n{done.stdout}"
    assert "Traceback" not in done.stdout, done.stdout
    printed = {line.rstrip() for line in done.stdout.splitlines()}
    missing = [line for line in shown if line and "…" not in line and line not in printed]
    assert not missing, f"{block.name} shows lines the commands do not print: {missing}\n" + (
        done.stdout
    )


def test_examples_that_cannot_run_are_marked_and_counted() -> None:
    counted: dict[str, int] = {}
    for block in ALL_BLOCKS:
        if block.not_run is not None:
            assert block.language in EXAMPLE_LANGUAGES, f"{block.name}: only examples are run"
            name = str(block.path.relative_to(PROJECT))
            counted[name] = counted.get(name, 0) + 1
    assert counted == NOT_RUN
    assert len(EXAMPLES) >= 15, "the examples are found"


def test_every_code_block_names_its_language() -> None:
    for block in ALL_BLOCKS:
        assert block.language, f"{block.name}: say the block's language (text, yaml, sh, …)"
        assert block.language not in SHELL_ALIASES, f"{block.name}: write `sh` or `console`"


def test_the_readme_stays_short_and_shows_the_preview() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    assert "![" in readme and "(docs/preview.png)" in readme
    assert "## Reviewing pins as pins" in readme
    assert "python -m pip install -e . && pinops apply --yes" in readme


def test_the_readme_links_to_files_that_are_there() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [t for t in targets if "://" not in t]
    assert "docs/index.md" in local
    for target in local:
        assert (PROJECT / target).exists(), f"README.md links to {target}, which is not there"


def nav_pages(entries: object) -> list[str]:
    if isinstance(entries, str):
        return [entries]
    if isinstance(entries, list):
        return [page for entry in entries for page in nav_pages(entry)]
    if isinstance(entries, dict):
        return [page for value in entries.values() for page in nav_pages(value)]
    return []


def test_every_page_is_in_the_navigation() -> None:
    site = yaml.safe_load((PROJECT / "mkdocs.yml").read_text(encoding="utf-8"))
    listed = nav_pages(site["nav"])
    pages = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert sorted(listed) == pages
    assert len(set(listed)) == len(listed), "a page is listed twice"


def section(page: str, heading: str) -> str:
    """The text under a heading, up to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = page.splitlines()
    start = lines.index(heading)
    end = next(
        (i for i in range(start + 1, len(lines)) if re.match(rf"^#{{1,{level}}} ", lines[i])),
        len(lines),
    )
    return "\n".join(lines[start + 1 : end])


def table_names(text: str) -> list[str]:
    """The first cells of a Markdown table's rows, where they are `code`."""
    return re.findall(r"^\| `([^`]+)` \|", text, flags=re.M)


def compare(named: list[str], actual: set[str], where: str) -> None:
    missing = sorted(actual - set(named))
    extra = sorted(set(named) - actual)
    assert not missing and not extra, f"{where}: missing {missing}, extra {extra}"
    assert len(set(named)) == len(named), f"{where}: a row is there twice"


def test_the_architecture_table_names_every_module() -> None:
    page = (DOCS / "architecture.md").read_text(encoding="utf-8")
    package = PROJECT / "reconciler"
    actual = {
        str(p.relative_to(package)) + ("/" if p.is_dir() else "")
        for p in package.rglob("*")
        if "__pycache__" not in p.parts
        and (p.suffix == ".py" or (p.is_dir() and p.parent == package))
    }
    named = table_names(section(page, "## The package: `reconciler/`"))
    compare(named, actual, "docs/architecture.md, reconciler/")


def drawn_layers(page: str) -> dict[str, int]:
    """Each module the layers' drawing names, with its layer (0 on top)."""
    drawing = section(page, "## Layers").split("```text\n")[1].split("```")[0]
    layers = re.split(r"\n[\s│]*▼[\s│]*\n", drawing)
    return {
        name.removesuffix(".py").removesuffix("/"): index
        for index, layer in enumerate(layers)
        for name in re.findall(r"\b[a-z_]+(?:\.py\b|/)", layer)
    }


def runtime_imports(path: Path) -> set[str]:
    """The package's modules a module imports when it runs (not those named for types only)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for branch in node.orelse:
                visit(branch)
            return
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reconciler"):
            parts = (node.module or "").split(".")
            found.update([parts[1]] if len(parts) > 1 else [a.name for a in node.names])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def test_the_layers_drawn_are_the_imports_of_the_code() -> None:
    layer = drawn_layers((DOCS / "architecture.md").read_text(encoding="utf-8"))
    package = PROJECT / "reconciler"
    upward = []
    for path in sorted(package.rglob("*.py")):
        module = path.relative_to(package).parts[0].removesuffix(".py")
        for imported in runtime_imports(path) - {module}:
            if module in layer and imported in layer and layer[imported] < layer[module]:
                upward.append(f"{path.relative_to(PROJECT)} imports {imported}, drawn above it")
    assert not upward, "docs/architecture.md, Layers: " + "; ".join(upward)
    assert {"cli", "commands", "plan", "providers", "errors"} <= set(layer)


def test_the_architecture_page_names_every_file_of_the_docs() -> None:
    page = (DOCS / "architecture.md").read_text(encoding="utf-8")
    actual = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*") if p.is_file()}
    named = table_names(section(page, "## The documentation: `docs/`"))
    compare(named, actual, "docs/architecture.md, docs/")


def commands(parser: argparse.ArgumentParser, prefix: str) -> dict[str, argparse.ArgumentParser]:
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[f"{prefix} {name}"] = sub
                found.update(commands(sub, f"{prefix} {name}"))
    return found


GLOBAL = {"-h", "--help", "--debug", "-C", "--state-branch"}


def test_the_commands_page_names_every_command_and_option() -> None:
    page = (DOCS / "commands.md").read_text(encoding="utf-8")
    parser = arguments.parser()
    top = section(page, "## Global options")
    for action in parser._actions:
        for option in action.option_strings:
            assert f"`{option}" in top, f"global option {option}"
    for name, sub in commands(parser, "pinops").items():
        level = "###" if name.count(" ") > 1 else "##"
        heading = f"{level} `{name}`"
        assert heading in page.splitlines(), f"no section {heading!r}"
        text = section(page, heading)
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            if not action.option_strings:
                shown = str(action.metavar or action.dest).upper()
                assert f"`{shown}" in text, f"{name}: argument {shown}"
            for option in set(action.option_strings) - GLOBAL:
                assert f"`{option}" in text, f"{name}: option {option}"


def test_the_service_tables_are_the_ones_the_code_holds() -> None:
    page = (DOCS / "providers" / "limits.md").read_text(encoding="utf-8")
    start = "<!-- provider tables: python -m reconciler.providers.table -->\n"
    end = "<!-- end of provider tables -->"
    shown = page[page.index(start) + len(start) : page.index(end)]
    assert shown == table.markdown(), "run python -m reconciler.providers.table into limits.md"


def test_the_pages_speak_of_pinops_alone() -> None:
    words = re.compile(r"\b(AI|LLM|GPT|Claude|chatbot|assistant|issue \d+)\b")
    for path in [*SOURCES, PROJECT / "mkdocs.yml"]:
        text = path.read_text(encoding="utf-8")
        assert not words.search(text), f"{path.relative_to(PROJECT)}: {words.search(text)}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PROJECT)))
def test_headings_open_with_one_title_and_go_down_one_level_at_a_time(path: Path) -> None:
    """Screen readers and the site's table of contents follow the outline: one top heading,
    then no level skipped on the way down."""
    text = path.read_text(encoding="utf-8")
    tokens = MarkdownIt().parse(text)
    levels = [
        (int(t.tag[1]), t.map[0] + 1 if t.map else 0) for t in tokens if t.type == "heading_open"
    ]
    if not levels and "--8<--" in text:
        return  # a page that includes another file whole: that file is checked itself
    assert [level for level, _ in levels[:1]] == [1], "the page opens with one # title"
    for (above, _), (level, line) in itertools.pairwise(levels):
        assert level <= above + 1, f"line {line}: an h{level} right under an h{above}"
