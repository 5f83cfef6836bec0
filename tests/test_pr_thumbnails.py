"""Pins in the pull request: thumbnails of the pull request's own media, pinned to its head
commit, and a link to the preview the plan workflow keeps as an artifact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler import ghactions, markdown
from reconciler.cli import main
from reconciler.providers.base import Media
from tests.test_markdown import CONTEXT, bulk_plan
from tests.test_markdown import content as content  # the fixture

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A runner's environment for a pull request from the fork `fork/pins` at SHA."""
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps({"pull_request": {"head": {"sha": SHA, "repo": {"full_name": "fork/pins"}}}})
    )
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo/pins")
    monkeypatch.setenv("GITHUB_RUN_ID", "77")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    return summary


def test_the_comment_shows_each_pin_from_the_head_commit(
    content: Path,
    actions: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_WORKSPACE", str(content.parent))  # pinops lives in content/
    capsys.readouterr()
    code = main(
        ["-C", str(content), "plan", "--format", "markdown", "--preview-artifact", "pinops-preview"]
    )
    comment = capsys.readouterr().out
    assert code == 0
    raw = f"https://raw.githubusercontent.com/fork/pins/{SHA}/content/pins/media/"
    assert f'<summary><img src="{raw}two.jpg" alt="" height="48"> ' in comment
    assert f'<img src="{raw}one.jpg"' in comment  # the retitled pin
    # The delete has no target, so no picture; only pins with media in the repository have one.
    assert comment.count('height="48"') == 4
    run = "https://github.com/octo/pins/actions/runs/77"
    assert f"**[Preview the pins as Pinterest shows them]({run})**" in comment
    assert "<code>pinops-preview</code> artifact" in comment
    summary = actions.read_text(encoding="utf-8")
    assert f'<img src="{raw}two.jpg"' in summary and run in summary


@pytest.mark.usefixtures("actions")
def test_no_thumbnails_outside_a_pull_request_or_from_a_strange_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "content"
    root.mkdir()
    assert (
        ghactions.pinned_media_base(root) == f"https://raw.githubusercontent.com/fork/pins/{SHA}/"
    )
    event = tmp_path / "odd.json"
    payloads: list[dict[str, Any]] = [
        {"push": {}},
        {"pull_request": {"head": {"sha": "main", "repo": {"full_name": "fork/pins"}}}},
        {"pull_request": {"head": {"sha": SHA, "repo": {"full_name": "x/y/../../z"}}}},
    ]
    for payload in payloads:
        event.write_text(json.dumps(payload))
        monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
        assert ghactions.pinned_media_base(root) is None
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://git.example.com")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(tmp_path / "event.json"))
    assert ghactions.pinned_media_base(root) == f"https://git.example.com/fork/pins/raw/{SHA}/"


def test_thumbnails_stay_within_the_comment_limit() -> None:
    pinned = f"https://raw.githubusercontent.com/octo/pins/{SHA}/"
    context = markdown.Context(
        CONTEXT.limits, pinned_media_url=pinned, preview=("pinops-preview", "https://x/1")
    )
    text = markdown.plan(bulk_plan(deletes=5, replaces=5, creates=3000), context)
    assert len(text.encode("utf-8")) <= markdown.COMMENT_LIMIT
    assert f'<img src="{pinned}pins/media/0.jpg"' in text
    assert "### Creates (showing" in text


def test_a_file_name_is_quoted_in_its_url() -> None:
    url = markdown.public_url(Media("image", file="pins/a b#c.jpg", sha256="0"), "https://h/r/")
    assert url == "https://h/r/pins/a%20b%23c.jpg"
