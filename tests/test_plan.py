"""The pure plan over real targets of the example repository, for provider capabilities the
sandbox does not have: no deletes, native scheduling, asynchronous posts."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler import plan, planjson
from reconciler.changes import Plan
from reconciler.config import Policy
from reconciler.errors import PlanError, ValidationFailed
from reconciler.providers.base import Capabilities
from reconciler.recovery import Finding
from reconciler.state import Record, State
from reconciler.targets import Desired
from reconciler.workspace import Workspace
from tests.conftest import Run, edit

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
CANNOT_DELETE = Capabilities(updatable=frozenset(), can_delete=False)


def published(pinops: Run, repo: Path) -> tuple[Workspace, State]:
    assert pinops("apply", "--yes").code == 0
    workspace = Workspace(repo)
    return workspace, workspace.store.read()


def make(
    workspace: Workspace,
    state: State,
    caps: Capabilities,
    policy: Policy | None = None,
    observed: plan.Observations | None = None,
) -> Plan:
    return plan.make(
        workspace.load_desired(),
        state,
        lambda _provider: caps,
        workspace.config.accounts,
        policy or Policy(),
        NOW,
        observed=observed,
    )


def actions(made: Plan) -> dict[str, tuple[str, str]]:
    return {c.key: (c.action, c.reason) for c in made.changes if c.action != "noop"}


def test_an_edit_the_provider_cannot_make_is_a_plan_error_with_the_ways_out(
    pinops: Run, repo: Path
) -> None:
    workspace, state = published(pinops, repo)
    edit(repo / "pins/recipes/summer-salad.yaml", "Crunchy", "Crisp")
    with pytest.raises(PlanError) as caught:
        make(workspace, state, CANNOT_DELETE)
    assert "these need it: summer-salad" in str(caught.value)
    assert "on_unsupported_change" in caught.value.hint
    assert caught.value.location is not None and caught.value.location.line == 3


def test_republish_publishes_a_new_pin_and_leaves_the_old(pinops: Run, repo: Path) -> None:
    workspace, state = published(pinops, repo)
    edit(repo / "pins/recipes/summer-salad.yaml", "Crunchy", "Crisp")
    made = make(workspace, state, CANNOT_DELETE, Policy(on_unsupported_change="republish"))
    change = next(c for c in made.changes if c.key == "summer-salad")
    assert (change.action, change.remote_id) == ("create", None)
    assert "publishing a new pin, the old one stays" in change.reason


def test_ignore_keeps_the_published_pin(pinops: Run, repo: Path) -> None:
    workspace, state = published(pinops, repo)
    edit(repo / "pins/recipes/summer-salad.yaml", "Crunchy", "Crisp")
    (repo / "pins/home/living-spaces.yaml").unlink()
    policy = Policy(prune=True, on_unsupported_change="ignore")
    found = actions(make(workspace, state, CANNOT_DELETE, policy))
    assert found["summer-salad"][0] == "kept"
    assert found["cozy-living-room"][0] == "kept"
    assert "on_unsupported_change: ignore" in found["cozy-living-room"][1]


def test_a_provider_that_schedules_gets_future_pins_now(repo: Path) -> None:
    workspace = Workspace(repo)
    scheduling = Capabilities(updatable=frozenset(), can_delete=True, schedules=True)
    found = actions(make(workspace, workspace.store.read(), scheduling))
    assert found["calm-bedroom"] == ("create", "scheduled for 2027-03-01T09:00:00Z")


def test_a_paced_wait_says_when_it_is_due_in_its_reason_and_in_json(repo: Path) -> None:
    edit(repo / "pinops.yaml", "    boards: [", "    pace: 2/hour\n    boards: [")
    workspace = Workspace(repo)
    made = make(workspace, workspace.store.read(), Capabilities(frozenset(), True))
    paced = [c for c in made.changes if c.due_at is not None]
    assert len(paced) == 6 and all(c.action == "wait" for c in paced)
    latest = max(paced, key=lambda c: c.due_at or NOW)
    assert latest.due_at == datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    assert latest.reason == "paced at 2/hour: due about 2026-11-21T15:00:00Z"
    saved = {c["key"]: c["due_at"] for c in planjson.plan(made)["changes"]}
    assert saved[latest.key] == "2026-11-21T15:00:00Z"
    assert saved["calm-bedroom"] is None  # waits for its publish_at, paced or not
    # A saved plan is held to which pins wait, not to when: that follows the moment of planning.
    later = tuple(
        replace(c, reason=c.reason.replace(":00:00Z", ":00:01Z")) if c.due_at else c
        for c in made.changes
    )
    assert planjson.checksum(made.lineage, made.serial, later) == made.checksum
    published = tuple(replace(c, action="create") if c is latest else c for c in made.changes)
    assert planjson.checksum(made.lineage, made.serial, published) != made.checksum


def test_the_checksum_is_of_the_whole_plan_as_canonical_json(pinops: Run, repo: Path) -> None:
    """Hashed a piece at a time, it is the digest of the one JSON text, at every length."""
    workspace, state = published(pinops, repo)
    edit(repo / "pins/recipes/summer-salad.yaml", "Crunchy Summer", "Crisp Summer")
    made = make(workspace, state, Capabilities(frozenset({"title"}), True))
    for changes in ((), made.changes, made.changes * 700):
        body = {"serial": 3, "lineage": "é-1", "changes": [planjson._held(c) for c in changes]}
        text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        expected = hashlib.sha256(text.encode()).hexdigest()
        assert planjson.checksum("é-1", 3, changes) == expected


def test_unchanged_content_is_a_noop_and_protection_still_an_update(
    pinops: Run, repo: Path
) -> None:
    """Same content hash: a medium moved with its bytes is no change; protection, which the hash
    leaves out, is still compared."""
    workspace, state = published(pinops, repo)
    salad = repo / "pins/recipes/summer-salad.yaml"
    (repo / "pins/media/salad.jpg").rename(repo / "pins/media/salad-moved.jpg")
    edit(salad, "salad.jpg", "salad-moved.jpg")
    assert "summer-salad" not in actions(make(workspace, state, CANNOT_DELETE))
    edit(salad, "dominant_color:", "protect: true\ndominant_color:")
    made = make(workspace, state, CANNOT_DELETE)
    assert [(c.action, c.changed) for c in made.changes if c.key == "summer-salad"] == [
        ("update", ("protect",))
    ]


def pending_post(state: State, desired: Desired, key: str) -> State:
    target = desired.targets[key]
    record = Record(
        provider="sandbox",
        account="main",
        content_hash=target.content_hash,
        board=target.board,
        fields=target.fields.to_json(),
        status="pending",
        post_id="post_42",
    )
    return replace(state, pins={**state.pins, key: record})


@pytest.mark.parametrize(
    ("finding", "expected"),
    [
        (Finding("found", "999", "published as pin 999"), ("adopt", "published as pin 999")),
        (
            Finding("pending", detail="the service is still publishing it (post post_42)"),
            ("wait", "still being published: the service is still publishing it (post post_42)"),
        ),
        (
            Finding("failed", detail="the service failed to publish it: image too small"),
            ("create", "the service failed to publish it: image too small"),
        ),
        (None, ("wait", "still being published: post post_42, not checked this time")),
    ],
)
def test_posts_still_being_published_are_followed(
    repo: Path, finding: Finding | None, expected: tuple[str, str]
) -> None:
    workspace = Workspace(repo)
    state = pending_post(State(), workspace.load_desired(), "summer-salad")
    observed = plan.Observations(interrupted={"summer-salad": finding} if finding else {})
    found = actions(make(workspace, state, Capabilities(frozenset(), True), observed=observed))
    assert found["summer-salad"] == expected


@pytest.mark.parametrize(
    ("scheduled_at", "expected"),
    [("2026-11-21T11:00:00Z", "adopt"), ("2026-11-21T13:00:00Z", None)],
)
def test_posts_scheduled_with_a_service_are_followed_once_due(
    repo: Path, scheduled_at: str, expected: str | None
) -> None:
    workspace = Workspace(repo)
    state = pending_post(State(), workspace.load_desired(), "summer-salad")
    record = replace(state.pins["summer-salad"], status="scheduled", scheduled_at=scheduled_at)
    state = replace(state, pins={**state.pins, "summer-salad": record})
    observed = plan.Observations(interrupted={"summer-salad": Finding("found", "999", "found")})
    made = make(workspace, state, Capabilities(frozenset(), True), observed=observed)
    assert actions(made).get("summer-salad", (None,))[0] == expected


def test_pins_sharing_a_media_file_each_get_it_by_their_own_path_and_field(repo: Path) -> None:
    # A run resolves and inspects each media file once: pins naming it from other folders, or
    # under another field, still get what their own path and field mean.
    (repo / "pins/same.yaml").write_text(
        "pins:\n"
        "  - {id: near, board: Recipes, title: T, link: 'https://example.com/a',"
        " image: media/pasta.jpg}\n"
    )
    wanted = Workspace(repo).load_desired()
    near, far = wanted.targets["near"], wanted.targets["easy-pasta@Recipes"]
    assert near.fields.to_json()["image"] == far.fields.to_json()["image"]
    assert near.fields.to_json()["image"]["file"] == "pins/media/pasta.jpg"
    assert near.fields.image == far.fields.image
    assert near.fields.image is not None
    assert near.fields.image.path == repo / "pins/media/pasta.jpg"

    # The same words in another folder name another file, which does not exist.
    text = (repo / "pins/same.yaml").read_text().replace("near", "elsewhere")
    (repo / "pins/recipes/same.yaml").write_text(text)
    with pytest.raises(ValidationFailed) as failed:
        Workspace(repo).load_desired()
    errors = [str(p) for p in failed.value.problems if p.severity == "error"]
    assert len(errors) == 1
    assert errors[0].startswith("pins/recipes/same.yaml:2:85: error: media file "), errors
    (repo / "pins/recipes/same.yaml").unlink()

    edit(
        repo / "pins/same.yaml", "image: media/pasta.jpg", "video: media/pasta.jpg, cover_frame: 1"
    )
    with pytest.raises(ValidationFailed) as failed:
        Workspace(repo).load_desired()
    errors = [str(p) for p in failed.value.problems if p.severity == "error"]
    assert len(errors) == 1
    assert errors[0].startswith("pins/same.yaml:2:80: error: video is an image"), errors
