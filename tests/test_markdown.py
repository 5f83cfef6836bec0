"""The plan as reviewers see it on a pull request, and GitHub's size limits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler import ghactions, markdown, markdown_results
from reconciler.changes import Change, Plan
from reconciler.cli import main
from reconciler.errors import Location, PlanError, Problem
from reconciler.pinfields import PinFields
from reconciler.providers.base import Media, TextLimits
from reconciler.state import Record
from reconciler.targets import Target
from tests.conftest import Result
from tests.mediafiles import write_jpeg

CDN = "https://cdn.example.com/"
CONFIG = f"""\
pins: pins/
state: pinops.state.json
media_base_url: {CDN}
accounts:
  main:
    provider: sandbox
    boards: [Recipes, Desserts]
policy:
  prune: true
  max_deletes: 100%
  max_replaces: 100%
"""

PINS = """\
defaults:
  board: Recipes
pins:
  - id: alpha
    title: "Chef's Alpha | Pin #1"
    description: Ask @chef about *this* <b>dish</b>
    link: https://example.com/alpha
    image: media/one.jpg
  - id: beta
    title: Beta
    link: https://example.com/beta
    image: media/one.jpg
  - id: omega
    title: Omega
    image: media/one.jpg
  - id: delta
    title: Delta
    image: media/one.jpg
    publish_at: 2099-01-01T09:30:00Z
"""


def run(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> Result:
    capsys.readouterr()
    code = main(["-C", str(root), *args])
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


@pytest.fixture
def content(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """Alpha, beta and omega published; then alpha retitled, beta's image changed, omega
    removed, gamma added; delta waits for 2099."""
    root = tmp_path / "content"
    (root / "pins/media").mkdir(parents=True)
    (root / "pinops.yaml").write_text(CONFIG, encoding="utf-8")
    write_jpeg(root / "pins/media/one.jpg", 1000, 1500)
    write_jpeg(root / "pins/media/two.jpg", 1000, 1500, (20, 120, 200))
    manifest = root / "pins/food.yaml"
    manifest.write_text(PINS, encoding="utf-8")
    assert run(capsys, root, "apply", "--yes").code == 0
    text = PINS.replace("Alpha | Pin #1", "Alpha | Pin #1, in #C8553D")
    text = text.replace(
        "    link: https://example.com/beta\n    image: media/one.jpg",
        ("    link: https://example.com/beta\n    image: media/two.jpg"),
    )
    text = text.replace(
        "  - id: omega\n    title: Omega\n    image: media/one.jpg\n",
        ("  - id: gamma\n    board: Desserts\n    title: Gamma\n    image: media/two.jpg\n"),
    )
    manifest.write_text(text, encoding="utf-8")
    return root


# The comment for that plan, its checksum written as CHECKSUM.
EXPECTED = (Path(__file__).parent / "golden" / "plan-comment.md").read_text(encoding="utf-8")


def test_plan_markdown_for_reviewers(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved_to = content / "plan.json"
    result = run(capsys, content, "plan", "--format", "markdown", "--out", str(saved_to))
    assert result.code == 0, result.err
    saved = saved_to.read_text(encoding="utf-8")
    checksum = re.search(r'"checksum": "([0-9a-f]{64})"', saved)
    assert checksum is not None
    assert result.out == EXPECTED.replace("CHECKSUM", checksum.group(1))
    assert f"Saved the plan to {saved_to}" in result.err  # standard output is only the comment


def test_manifest_text_cannot_format_link_or_mention() -> None:
    assert markdown.escape("a|b <script>*x*_y_ `c` [l](u) @team ~~s~~ #12\nnext") == (
        "a&#124;b &lt;script&gt;&#42;x&#42;&#95;y&#95; &#96;c&#96; &#91;l&#93;(u) @&#8203;team "
        "&#126;&#126;s&#126;&#126; #&#8203;12<br>next"
    )
    # One pass: what an entity is made of is never escaped again; web addresses stay as written.
    assert markdown.escape("Chef's #C8553D https://a.example/b_c#d") == (
        "Chef's #C8553D https://a.example/b_c#d"
    )
    assert markdown.code("easy-pasta@Recipes") == "<code>easy-pasta@Recipes</code>"


def bulk_plan(deletes: int, replaces: int, creates: int) -> Plan:
    """A plan of that many pins, each with a long description, as a big repository makes."""

    def target(number: int, key: str) -> Target:
        file = f"pins/media/{number}.jpg"
        image = Media("image", file=file, sha256=f"{number:064d}", served=CDN + file)
        fields = PinFields(
            account="main",
            board="Recipes",
            title=f"Pin number {number}",
            description="A long description of this pin. " * 10,
            link=f"https://example.com/pins/{number}",
            image=image,
        )
        location = Location("pins/bulk.yaml", 2 + 6 * number, 5)
        return Target(key, key, location, fields, None, "h")

    def record(number: int) -> Record:
        fields = {"board": "Recipes", "title": f"Old pin {number}"}
        return Record("sandbox", "main", "h", pin_id=str(number), board="Recipes", fields=fields)

    changes: list[Change] = []
    for number in range(deletes):
        key = f"d{number:04}"
        changes.append(Change("delete", key, record=record(number), remote_id=str(number)))
    for number in range(replaces):
        key = f"r{number:04}"
        old = record(number)
        changes.append(
            Change("replace", key, target(number, key), old, ("image",), "image changed", "9")
        )
    for number in range(creates):
        key = f"c{number:04}"
        changes.append(Change("create", key, target(number, key)))
    return Plan("lineage", 7, tuple(sorted(changes, key=lambda c: c.key)), checksum="c" * 64)


CONTEXT = markdown.Context(lambda _account: TextLimits())


def test_a_5000_pin_plan_is_cut_to_fit_a_comment_keeping_deletes_and_replaces() -> None:
    made = bulk_plan(deletes=20, replaces=10, creates=4970)
    text = markdown.plan(made, CONTEXT)
    assert len(text) <= markdown.COMMENT_LIMIT
    assert len(text.encode("utf-8")) <= markdown.COMMENT_LIMIT
    assert text.count("<b>delete</b>") == 20
    assert text.count("<b>replace</b>") == 10
    shown = text.count("<b>create</b>")
    assert 20 < shown < 4970
    assert text.startswith(
        "<!-- pinops-plan -->\n## pinops plan\n\n"
        "**Plan: 4970 to create, 0 to update, 10 to replace, 20 to delete.**\n\n"
        "> [!WARNING]\n> 10 pins are replaced: the existing pin and its saves are deleted.\n\n"
        "### Deletes (20)\n\n"
    )
    assert f"### Creates (showing {shown:,} of 4,970)\n\n" in text
    assert text.endswith(
        "</details>\n\n"
        "> [!NOTE]\n> Left out to stay within GitHub's limit of 65,535 characters: "
        f"{4970 - shown:,} creates. `pinops plan` shows everything; so does this run's job "
        "summary.\n\n"
        f"<sub>Plan checksum <code>{'c' * 64}</code>, against state serial 7. The merge run "
        "plans again and compares its plan with this one.</sub>\n"
        f"<!-- pinops-checksum: {'c' * 64} -->\n"
    )
    whole = markdown.plan(made, CONTEXT, limit=markdown.SUMMARY_LIMIT)
    assert len(whole.encode("utf-8")) <= markdown.SUMMARY_LIMIT
    assert whole.count("<b>create</b>") > shown


def test_what_does_not_fit_is_left_out_from_the_lowest_priority_first() -> None:
    made = bulk_plan(deletes=3, replaces=2, creates=2)
    whole = markdown.plan(made, CONTEXT)
    tight = markdown.plan(made, CONTEXT, limit=len(whole.encode("utf-8")) - 1)
    assert "<b>create</b>" in tight
    assert tight.count("<b>create</b>") == 1
    assert "### Creates (showing 1 of 2)" in tight
    assert ": 1 creates." in tight


def test_problems_in_markdown_and_as_annotations() -> None:
    problem = Problem(Location("pins/a.yaml", 3, 5), "title is 120 characters", "shorten it, 20%")
    text = markdown_results.problems([problem])
    assert "**Validation failed: 1 problem.** Nothing is planned until they are fixed." in text
    assert (
        "| <code>pins/a.yaml:3:5</code> | error: title is 120 characters (shorten it, 20%) |"
        in text
    )
    assert ghactions.annotation(problem, "site/") == (
        "::error file=site/pins/a.yaml,line=3,col=5,title=pinops::"
        "title is 120 characters (shorten it, 20%25)"
    )
    warning = Problem(Location("pins/a, b.yaml"), "line one\nline two", severity="warning")
    assert ghactions.annotation(warning) == (
        "::warning file=pins/a%2C b.yaml,title=pinops::line one%0Aline two"
    )


def test_a_failed_plan_is_a_comment_with_the_error_where_it_is(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan that fails writes the comment all the same, located and annotated, so that the
    sticky comment never goes on showing an older plan."""
    summary = repo / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    for name in ("GITHUB_EVENT_PATH", "GITHUB_SHA", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    (repo / "pinops.yaml").write_text("accounts: [main]\n", encoding="utf-8")
    capsys.readouterr()
    code = main(["-C", str(repo), "plan", "--format", "markdown"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.startswith("<!-- pinops-plan -->\n## pinops plan\n\n")
    assert "<code>pinops.yaml:1:11</code>" in out
    assert "::error file=pinops.yaml,line=1,col=11,title=pinops::" in err
    assert summary.read_text(encoding="utf-8") == out


def test_a_failure_shows_where_what_and_the_fix() -> None:
    error = PlanError(
        "board 'Recipies' does not exist",
        location=Location("pins/recipes/_defaults.yaml", 4, 10),
        hint="did you mean 'Recipes'?",
    )
    assert markdown_results.failure(error, "plan").splitlines()[:7] == [
        "<!-- pinops-plan -->",
        "## pinops plan",
        "",
        f"**Failed:** {markdown.code('pins/recipes/_defaults.yaml:4:10')}: "
        + markdown.escape("board 'Recipies' does not exist"),
        "",
        "To fix: " + markdown.escape("did you mean 'Recipes'?"),
        "",
    ]
    assert not markdown_results.failure(error, "apply").startswith(markdown.MARKER)
    run = ghactions.Run("a" * 40, "https://github.com/acme/pins/actions/runs/7")
    assert markdown_results.provenance(run, "Applied") == (
        f"\n<sub>Applied at commit {'a' * 40} · "
        "[workflow run](https://github.com/acme/pins/actions/runs/7)</sub>\n"
    )
    assert markdown_results.provenance(None) == ""
