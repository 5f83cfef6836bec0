"""What every provider must do, asserted alike over all seven (the sandbox, Pinterest and the five
posting services, each over real HTTP against its strict emulator): create, get, find, delete or
refuse to, update or refuse to, map errors to our exception tree, and come through faults (429
with Retry-After, 5xx, timeouts, resets, a response lost after the service acted, an answer off
its document) without posting a pin twice. What differs is read from the provider's
Capabilities; each service's own test file keeps only what is truly its own."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler.answers import checked
from reconciler.config import Account, Pace
from reconciler.errors import (
    AuthError,
    OutcomeUnknown,
    ProviderError,
    ProviderRejected,
    RateLimited,
)
from reconciler.providers import capabilities, open_provider
from reconciler.providers.base import Connection, Media, PinContent, Provider
from reconciler.providers.http import Retry
from reconciler.providers.sandbox import board_id
from tests.conftest import SERVICES, Run, Service, edit, state
from tests.emulators.server import EmulatorServer, Fault
from tests.mediafiles import write_jpeg

PROVIDERS = ("sandbox", "pinterest", "crosspostify", "postpeer", "postproxy", "zernio", "relayapi")
SERVED = PROVIDERS[1:]  # the ones reached over HTTP
POSTING = SERVED[1:]  # the posting services
QUICK = Connection(retry=Retry(backoff=0.01), timeout=2.0, publish_wait=5.0, poll_interval=0.01)


@dataclass
class Subject:
    """One provider opened on its emulator (none for the sandbox), and a pin for it."""

    name: str
    open: Callable[..., Provider]
    api: EmulatorServer | None
    service: Service | None
    board: str
    media: Media

    def content(self, title: str = "Easy Pasta", **fields: Any) -> PinContent:
        text = {"description": "Creamy garlic pasta.", "link": "https://example.com/pasta"}
        return PinContent(board_id=self.board, title=title, media=self.media, **(text | fields))

    def creates(self) -> list[Any]:
        """The create requests the emulator received (faulted ones included)."""
        assert self.api is not None and self.service is not None
        return self.api.requests("POST", self.service.creates)

    def fault(
        self, kind: str, *, method: str = "POST", path: str | None = None, **how: Any
    ) -> None:
        assert self.api is not None and self.service is not None
        where = self.service.creates if path is None else path
        self.api.faults.add(Fault(kind=kind, method=method, path=where, **how))  # type: ignore[arg-type]


def _subject(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Subject]:
    image = write_jpeg(tmp_path / "pasta.jpg", 600, 900)
    digest = hashlib.sha256(image.read_bytes()).hexdigest()
    media = Media(kind="image", path=image, content_type="image/jpeg", sha256=digest, root=tmp_path)
    with ExitStack() as stack:
        service = SERVICES.get(name)
        api = stack.enter_context(service.emulator()) if service else None
        if service is None:
            account = Account("main", "sandbox", boards=("Recipes",))
            board = board_id("Recipes")
        else:
            assert api is not None
            monkeypatch.setenv(service.variable, service.key)
            for variable in ("PINTEREST_REFRESH_TOKEN", "PINTEREST_CLIENT_ID"):
                monkeypatch.delenv(variable, raising=False)
            board = api.add_board("Recipes")  # type: ignore[attr-defined]
            account = Account(
                "main",
                name,
                account_id=service.account_id,
                base_url=api.base_url,
                pace=Pace(100, "second"),  # faster than any test goes
            )

        def opened(variables: dict[str, str] | None = None, **settings: Any) -> Provider:
            """The provider; `variables` (role: variable) as the account's `credentials:`."""
            own = replace(account, credentials=tuple(variables.items())) if variables else account
            provider = open_provider(own, replace(QUICK, folder=tmp_path, **settings))
            stack.callback(provider.close)
            return provider

        yield Subject(name, opened, api, service, board, media)


@pytest.fixture(params=PROVIDERS)
def subject(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Subject]:
    yield from _subject(request.param, tmp_path, monkeypatch)


@pytest.fixture(params=SERVED)
def served(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Subject]:
    yield from _subject(request.param, tmp_path, monkeypatch)


def since() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=1)


# What every provider does


def test_boards_list_the_accounts_boards(subject: Subject) -> None:
    assert [(b.id, b.name) for b in subject.open().boards()] == [(subject.board, "Recipes")]


def test_create_then_get_and_find_the_pin(subject: Subject) -> None:
    provider, content = subject.open(), subject.content()
    caps = capabilities(subject.name)
    earlier = since()
    if caps.findable:
        assert provider.find([content], earlier) == [[]]
    published = checked(provider.create(content, "a" * 32), subject.name, publish_now=True)
    assert published.status == "published"
    assert published.pin_id or published.post_id
    if not caps.findable:  # Crosspostify: no post can be read back; the record holds the post
        assert published.pin_id is None and published.post_id
        with pytest.raises(ProviderError, match="no post listing"):
            provider.find([content], earlier)
        with pytest.raises(ProviderError, match="cannot read a post back"):
            provider.get(published.post_id or "")
        return
    assert published.pin_id is not None
    # Looked for together with a pin never made: each content gets its own matches.
    [(found,), none] = provider.find([content, subject.content("Another pin")], earlier)
    assert none == []
    assert (found.pin_id, found.board_id, found.title, found.description, found.link) == (
        published.pin_id,
        subject.board,
        "Easy Pasta",
        "Creamy garlic pasta.",
        "https://example.com/pasta",
    )
    assert provider.find([content], datetime.now(UTC) + timedelta(minutes=1)) == [[]]
    assert provider.find([], earlier) == []
    assert provider.get(published.pin_id) == found


def test_delete_removes_the_pin_or_is_refused(subject: Subject) -> None:
    provider = subject.open()
    published = provider.create(subject.content(), "b" * 32)
    remote_id = published.pin_id or published.post_id or ""
    if not capabilities(subject.name).can_delete:
        with pytest.raises(ProviderRejected, match="cannot delete a published pin"):
            provider.delete(remote_id)
        return
    writes = len(subject.api.writes()) if subject.api else 0
    provider.delete(remote_id)
    assert provider.get(remote_id) is None
    assert provider.find([subject.content()], since()) == [[]]
    if subject.api is None:
        provider.delete(remote_id)  # already gone: nothing to do
        return
    assert len(subject.api.writes()) == writes + 1  # one call deletes it
    assert remote_id not in subject.api.pins  # type: ignore[attr-defined]
    writes = len(subject.api.writes())
    provider.delete(remote_id)  # already gone: nothing to do, and nothing but a DELETE is sent
    assert {r.method for r in subject.api.writes()[writes:]} <= {"DELETE"}


def test_update_changes_the_pin_in_place_or_is_refused(subject: Subject) -> None:
    provider = subject.open()
    published = provider.create(subject.content(), "c" * 32)
    remote_id = published.pin_id or published.post_id or ""
    changed = subject.content("Easier Pasta")
    if "title" not in capabilities(subject.name).updatable:
        with pytest.raises(ProviderRejected, match="cannot edit a published pin"):
            provider.update(remote_id, changed, frozenset({"title"}))
        return
    updated = provider.update(remote_id, changed, frozenset({"title"}))
    assert updated.pin_id == remote_id
    got = provider.get(remote_id)
    assert got is not None and got.title == "Easier Pasta"


def test_a_scheduled_pin_is_scheduled_or_waits(subject: Subject) -> None:
    """A provider that schedules takes publish_at and answers `scheduled`; the others are never
    sent a future pin (the plan holds it back), so there is nothing to send."""
    later = datetime.now(UTC) + timedelta(days=3)
    if not capabilities(subject.name).schedules:
        return
    published = subject.open().create(subject.content(publish_at=later), "d" * 32)
    assert published.status == "scheduled" and published.pin_id is None and published.post_id


# Errors map to the exception tree


def test_a_wrong_credential_is_an_auth_error_that_never_shows_it(
    served: Subject, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert served.service is not None
    wrong = "wrong-" + served.service.key[::-1]
    monkeypatch.setenv(served.service.variable, wrong)
    with pytest.raises(AuthError) as caught:
        served.open().boards()
    assert wrong not in str(caught.value) + caught.value.hint
    assert "answered 401" in str(caught.value)
    assert served.service.variable in caught.value.hint  # what to check, by name


def test_a_refused_credential_names_the_variable_the_account_reads(
    served: Subject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An account that names its own variables (credentials:) is told to check those, never
    the provider's defaults, which it does not read."""
    assert served.service is not None
    role = "access_token" if served.name == "pinterest" else "api_key"
    monkeypatch.setenv("ACME_SECRET", "wrong-" + served.service.key[::-1])
    with pytest.raises(AuthError) as caught:
        served.open({role: "ACME_SECRET"}).boards()
    assert "ACME_SECRET" in caught.value.hint
    assert served.service.variable not in caught.value.hint
    assert "PINTEREST_REFRESH_TOKEN" not in caught.value.hint


def test_a_refused_create_is_provider_rejected_and_nothing_is_sent_again(
    served: Subject,
) -> None:
    served.fault("status", status=400)
    with pytest.raises(ProviderRejected):
        served.open().create(served.content(), "e" * 32)
    assert len(served.creates()) == 1


# Faults


def test_429_with_retry_after_is_waited_and_the_create_sent_again(served: Subject) -> None:
    served.fault("status", status=429, retry_after=0.01)
    published = served.open().create(served.content(), "f" * 32)
    assert published.pin_id or published.post_id
    assert [bool(r.fault) for r in served.creates()] == [True, False]


def test_429_that_never_ends_is_rate_limited(served: Subject) -> None:
    served.fault("status", status=429, retry_after=0.01, times=None)
    with pytest.raises(RateLimited):
        served.open().create(served.content(), "g" * 32)


@pytest.mark.parametrize("kind", ["status", "delay", "reset"])
def test_a_read_that_fails_once_is_retried(served: Subject, kind: str) -> None:
    """A 503, a timeout or a reset on a read: reads are safe to send again."""
    assert served.service is not None
    faults: dict[str, dict[str, Any]] = {"status": {"status": 503}, "delay": {"seconds": 1.0}}
    how = faults.get(kind, {})
    served.fault(kind, method="GET", path=served.service.boards, **how)
    boards = served.open(timeout=0.5).boards()
    assert [b.name for b in boards] == ["Recipes"]
    assert served.api is not None
    reads = served.api.requests("GET", served.service.boards)
    assert [r.fault is not None for r in reads[:2]] == [True, False]


@pytest.mark.parametrize("kind", ["status", "reset", "lost_response"])
def test_a_create_that_may_have_been_acted_on_is_never_posted_twice(
    served: Subject, kind: str
) -> None:
    """A 5xx, a reset or a lost response to a create: a provider with an idempotency key sends it
    again under the same key, and the service answers with the one post; one without it never
    sends it again, and says the outcome is unknown."""
    served.fault(kind, status=502)
    keyed = capabilities(served.name).idempotency_window > 0
    if keyed:
        published = served.open().create(served.content(), "h" * 32)
        assert published.pin_id or published.post_id
        creates = served.creates()
        assert len(creates) == 2 and creates[0].fault is not None
        return
    with pytest.raises(OutcomeUnknown, match=r"may have been acted on|answered 502"):
        served.open().create(served.content(), "h" * 32)
    assert len(served.creates()) == 1
    if kind == "lost_response" and capabilities(served.name).findable:
        # The service did act: the next plan finds the pin instead of posting it again.
        assert [len(found) for found in served.open().find([served.content()], since())] == [1]


def test_an_answer_off_the_document_is_never_recorded(served: Subject) -> None:
    """A create answered with ids of the wrong shape is refused before anything is recorded."""
    ids = {"id", "_id", "postId", "post_id", "platformPostId", "platform_post_id"}

    def off_spec(body: Any) -> Any:
        if isinstance(body, dict):
            return {k: "not an id!" if k in ids else off_spec(v) for k, v in body.items()}
        if isinstance(body, list):
            return [off_spec(item) for item in body]
        return body

    served.fault("rewrite", rewrite=off_spec)
    with pytest.raises(ProviderError):
        checked(served.open().create(served.content(), "i" * 32), served.name, publish_now=True)


# The example repository through each posting service


@pytest.mark.parametrize("service", POSTING, indirect=True)
def test_a_missing_key_is_a_clear_error_and_writes_no_state(
    configured: Path, pinops: Run, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(service.variable)
    result = pinops("apply", "--yes")
    assert result.code == 1 and f"{service.variable} is not set" in result.err
    assert not (configured / "pinops.state.json").exists()


@pytest.mark.parametrize("service", POSTING, indirect=True)
def test_a_wrong_key_or_no_account_id_is_a_clear_error_that_never_shows_the_key(
    configured: Path, pinops: Run, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "wrong-" + service.key[::-1]
    monkeypatch.setenv(service.variable, wrong)
    result = pinops("apply", "--yes")
    assert result.code == 1
    name = capabilities(service.provider).name
    assert f"{name} answered 401" in result.err and f"check {service.variable}" in result.err
    assert wrong not in result.out + result.err
    monkeypatch.setenv(service.variable, service.key)
    config = configured / "pinops.yaml"
    config.write_text(config.read_text().replace(f'    account_id: "{service.account_id}"\n', ""))
    assert pinops("plan").code == 0  # a plan needs no account: a pull request has no secrets
    result = pinops("apply", "--yes")
    assert result.code == 1 and "account 'main' has no account_id" in result.err


@pytest.mark.parametrize("service", POSTING, indirect=True)
def test_a_past_publish_at_publishes_at_once(configured: Path, pinops: Run) -> None:
    """A pin first created after its publish_at (a late merge, a paced wait) is published now:
    the services refuse a schedule in the past."""
    edit(
        configured / "pins/home/living-spaces.yaml", "2027-03-01T09:00:00Z", "2020-03-01T09:00:00Z"
    )
    result = pinops("apply", "--yes")
    assert result.code == 0, result.out + result.err
    assert "scheduled for" not in result.out
    assert state(configured)["calm-bedroom"]["status"] == "published"


@pytest.mark.parametrize("service", POSTING, indirect=True)
def test_a_rerun_sends_no_write_and_the_key_is_never_shown(
    configured: Path, pinops: Run, api: EmulatorServer, service: Service
) -> None:
    result = pinops("apply", "--yes")
    assert result.code == 0, result.err
    writes = len(api.writes())
    again = pinops("apply", "--yes")
    assert again.code == 0, again.err
    assert "No changes" in again.out
    assert len(api.writes()) == writes
    shown = result.out + result.err + again.out + again.err
    assert service.key not in shown + (configured / "pinops.state.json").read_text()
