"""A target's published fields: one record for the review and for the provider's request."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Run
from tests.emulators.posting import point_repo_at
from tests.emulators.postproxy import API_KEY, PROFILE_ID, PostproxyEmulator

CDN = "https://cdn.example.com/"


@pytest.fixture
def api() -> Iterator[PostproxyEmulator]:
    with PostproxyEmulator() as emulator:
        for name in ("Recipes", "Weeknight Dinners", "Home Decor"):
            emulator.add_board(name)
        yield emulator


def test_a_file_name_with_a_space_has_one_url_in_the_review_and_in_the_request(
    repo: Path, pinops: Run, api: PostproxyEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTPROXY_API_KEY", API_KEY)
    point_repo_at(repo, "postproxy", api.base_url, PROFILE_ID, media_base_url=CDN)
    (repo / "pins/media/salad.jpg").rename(repo / "pins/media/summer salad#1.jpg")
    manifest = repo / "pins/recipes/summer-salad.yaml"
    manifest.write_text(
        manifest.read_text().replace("../media/salad.jpg", '"../media/summer salad#1.jpg"')
    )
    review = pinops("plan", "--format", "markdown")
    assert review.code == 0, review.err
    url = f"{CDN}pins/media/summer%20salad%231.jpg"
    shown = re.findall(r'<img src="([^"]+)"', review.out)
    assert url in shown
    assert pinops("apply", "--yes").code == 0
    sent = [request.json["media"] for request in api.requests("POST", "/api/posts")]
    assert [url] in sent
