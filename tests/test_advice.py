"""Advice in bulk: each rule's first few warnings and a count, and rules switched off by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Run, edit

CATALOG = "pins/catalog.yaml"


def catalog(repo: Path, count: int) -> None:
    """A catalog of `count` pins without alt text, all from one generate block."""
    rows = "".join(f"lamp-{n}\n" for n in range(count))
    (repo / "pins/catalog.csv").write_text("sku\n" + rows, encoding="utf-8")
    (repo / CATALOG).write_text(
        "generate:\n"
        "  from: catalog.csv\n"
        "  pin:\n"
        "    id: '{{ row.sku }}'\n"
        "    board: Recipes\n"
        "    title: 'Lamp {{ row.sku }}'\n"
        "    description: 'Lamp {{ row.sku }}, a warm light.'\n"
        "    image: media/pasta.jpg\n",
        encoding="utf-8",
    )


def test_a_rule_warns_about_the_first_few_and_counts_the_rest(repo: Path, pinops: Run) -> None:
    catalog(repo, 62)
    result = pinops("validate")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    alt = [line for line in lines if line.endswith("[alt-text]")]
    assert len(alt) == 4
    assert all(line.startswith(f"{CATALOG}:") for line in alt[:3])
    assert alt[3] == (
        "pinops.yaml: warning: 59 more pins without alt_text (62 in all; pinops validate --json "
        "lists every one) (to switch the rule off, write in pinops.yaml: advice: {alt-text: off})"
        " [alt-text]"
    )
    assert lines[-1].endswith(", 62 warnings.")
    listed = json.loads(pinops("validate", "--json").out)["problems"]
    assert sum(p["rule"] == "alt-text" for p in listed) == 62


def test_annotations_are_grouped_too(
    repo: Path, pinops: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog(repo, 62)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    result = pinops("plan")
    assert result.code == 0, result.err
    annotations = [line for line in result.err.splitlines() if line.startswith("::warning")]
    assert len(annotations) == 4
    assert annotations[-1].startswith("::warning file=pinops.yaml,title=pinops::59 more pins")


def test_a_rule_switched_off_in_pinops_yaml(repo: Path, pinops: Run) -> None:
    catalog(repo, 5)
    with (repo / "pinops.yaml").open("a", encoding="utf-8") as config:
        config.write("advice:\n  alt-text: off\n  title-lead: on\n")
    result = pinops("validate")
    assert result.code == 0, result.err
    assert result.out.endswith(", 0 warnings.\n")  # and title-lead, on, finds nothing here


def test_an_unknown_rule_name_is_a_located_error(repo: Path, pinops: Run) -> None:
    with (repo / "pinops.yaml").open("a", encoding="utf-8") as config:
        config.write("advice:\n  alt-txt: off\n")
    result = pinops("validate")
    assert result.code == 1
    assert result.err.startswith("pinops.yaml:")
    assert "alt-txt" in result.err and "did you mean 'alt-text'?" in result.err


def test_a_switch_is_off_or_on(repo: Path, pinops: Run) -> None:
    with (repo / "pinops.yaml").open("a", encoding="utf-8") as config:
        config.write("advice:\n  alt-text: sometimes\n")
    result = pinops("validate")
    assert result.code == 1
    assert result.err.startswith("pinops.yaml:")
    assert "alt-text" in result.err
    edit(repo / "pinops.yaml", "alt-text: sometimes", "alt-text: false")
    assert pinops("validate").code == 0
