"""Board and section ids: resolved into the plan's changes, written to the state by apply."""

from __future__ import annotations

from pathlib import Path

from reconciler import boards
from reconciler.providers.base import Provider
from reconciler.workspace import Workspace
from tests.conftest import Run


def test_ids_come_from_the_cached_map_at_plan_time_and_the_provider_once_at_apply(
    repo: Path, pinops: Run
) -> None:
    with Workspace(repo) as workspace:
        planned = workspace.plan()
        creates = [c for c in planned.plan.changes if c.publishes]
        assert creates and all(c.board_id is None for c in creates)  # named only, no cache yet
        made = boards.resolve(planned.plan, planned.state.boards, workspace.provider)
        assert planned.state.boards == {}  # resolving writes nothing: apply records made.boards
        assert set(made.boards) == {"main"}
        resolved = [c for c in made.changes if c.publishes]
        assert all(c.board_id == made.boards["main"][c.target.board] for c in resolved if c.target)
        assert made.checksum == planned.plan.checksum
    assert pinops("apply", "--yes").code == 0
    edit = repo / "pins/recipes/summer-salad.yaml"
    edit.write_text(edit.read_text().replace("Crunchy Summer", "Crisp Summer"))

    def no_provider(account: str) -> Provider:
        raise AssertionError(f"the cache knows every board of {account}")

    with Workspace(repo) as workspace:
        planned = workspace.plan()
        (update,) = [c for c in planned.plan.changes if c.publishes]
        assert update.board_id == planned.state.boards["main"]["Recipes"]
        assert boards.resolve(planned.plan, planned.state.boards, no_provider) is planned.plan
