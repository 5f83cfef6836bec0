"""Editor support: schemas that document every field, modelines in the example manifests, and the
pre-commit hook."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.cli import main
from tests.conftest import PROJECT


def properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every property a document can hold, with its schema, following local references."""
    definitions = schema.get("$defs", {})
    found: list[tuple[str, dict[str, Any]]] = []

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref", "")
        return (
            {**definitions[ref.rsplit("/", 1)[1]], **node} if ref.startswith("#/$defs/") else node
        )

    def walk(node: dict[str, Any], path: str) -> None:
        for name, sub in node.get("properties", {}).items():
            found.append((f"{path}.{name}", resolve(sub)))
            walk(resolve(sub), f"{path}.{name}")
        for key in ("additionalProperties", "items"):
            if isinstance(node.get(key), dict):
                walk(resolve(node[key]), path)

    walk(schema, "")
    for name, definition in definitions.items():
        walk(definition, f"$defs/{name}")
    return found


@pytest.mark.parametrize("name", ["pin-file.schema.json", "config.schema.json"])
def test_every_field_has_a_title_a_description_and_examples(name: str) -> None:
    schema = json.loads((PROJECT / "schemas" / name).read_text())
    found = properties(schema)
    assert len(found) > 10
    missing = [
        (path, key)
        for path, field in found
        for key in ("title", "description", "examples")
        if key not in field
    ]
    assert missing == []


def test_defaults_are_stated_where_a_field_has_one() -> None:
    pins = json.loads((PROJECT / "schemas/pin-file.schema.json").read_text())["$defs"]
    assert pins["fields"]["properties"]["protect"]["default"] is False
    assert pins["pin"]["properties"]["state"]["default"] == "present"
    assert pins["vars"]["default"] == {} and pins["linkParams"]["default"] == {}


def test_new_fields_are_documented_for_editors() -> None:
    pins = json.loads((PROJECT / "schemas/pin-file.schema.json").read_text())["$defs"]
    assert set(pins["pinList"]["properties"]) == {"defaults", "vars", "pins", "generate"}
    assert set(pins["generate"]["properties"]) == {"from", "pin"}
    assert "link_params" in pins["defaults"]["properties"]
    config = json.loads((PROJECT / "schemas/config.schema.json").read_text())
    assert "vars" in config["properties"]


def example_manifests() -> list[Path]:
    return sorted((PROJECT / "pins").rglob("*.yaml"))


@pytest.mark.parametrize("path", example_manifests(), ids=lambda p: p.name)
def test_example_manifests_carry_the_schema_modeline(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    target = path.parent / first.removeprefix(prefix)
    assert target.resolve() == (PROJECT / "schemas/pin-file.schema.json").resolve()


def test_the_pre_commit_hook_runs_pinops_validate(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    [hook] = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "pinops-validate"
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    command, *args = hook["entry"].split()
    scripts = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[command] == "reconciler.cli:main"
    monkeypatch.chdir(repo)
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("Valid: ")
    (repo / "pins/broken.yaml").write_text("id: broken\ntitle: [\n")
    assert main(args) == 1
    assert capsys.readouterr().err.startswith("pins/broken.yaml:3:1: error: invalid YAML")
