"""Many accounts: each account's own credential variables, and choosing accounts per run."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler import config, settings
from tests.conftest import Run, state
from tests.emulators.pinterest import PinterestEmulator
from tests.emulators.server import Fault

# Two Pinterest users' tokens.
ACME_TOKEN = "RECOGNISABLE-acme-token-4b1e97"
GLOBEX_TOKEN = "RECOGNISABLE-globex-token-c03d55"

PIN = """\
pins:
  - id: {name}-pin
    board: Recipes
    account: {name}
    title: A pin of {name}
    description: {description}
    link: https://example.com/{name}
    image: https://cdn.example.com/{name}.jpg
"""

TWO_USERS = """\
accounts:
  acme:
    provider: pinterest
    base_url: {base_url}
    credentials:
      access_token: ACME_PINTEREST_TOKEN
  globex:
    provider: pinterest
    base_url: {base_url}
    credentials:
      access_token: GLOBEX_PINTEREST_TOKEN
"""


def write_pins(repo: Path, names: tuple[str, ...], description: str = "Plain words.") -> None:
    shutil.rmtree(repo / "pins")
    (repo / "pins").mkdir()
    for name in names:
        text = PIN.format(name=name, description=description)
        (repo / "pins" / f"{name}.yaml").write_text(text, encoding="utf-8")


@pytest.fixture
def api() -> Iterator[PinterestEmulator]:
    with PinterestEmulator(access_tokens=(ACME_TOKEN, GLOBEX_TOKEN)) as emulator:
        emulator.add_board("Recipes")
        yield emulator


@pytest.fixture
def agency(repo: Path, api: PinterestEmulator, monkeypatch: pytest.MonkeyPatch) -> Path:
    (repo / "pinops.yaml").write_text(TWO_USERS.format(base_url=api.base_url), encoding="utf-8")
    write_pins(repo, ("acme", "globex"))
    for name in ("ACCESS_TOKEN", "REFRESH_TOKEN", "CLIENT_ID", "CLIENT_SECRET", "TOKEN_FILE"):
        monkeypatch.delenv(f"PINTEREST_{name}", raising=False)
    monkeypatch.setenv("ACME_PINTEREST_TOKEN", ACME_TOKEN)
    monkeypatch.setenv("GLOBEX_PINTEREST_TOKEN", GLOBEX_TOKEN)
    return repo


def test_two_users_publish_each_with_its_own_token(
    agency: Path, api: PinterestEmulator, pinops: Run
) -> None:
    result = pinops("apply", "--yes")
    assert result.code == 0, result.out + result.err
    creates = {
        r.json["title"]: r.headers["authorization"] for r in api.requests("POST", "/v5/pins")
    }
    assert creates == {
        "A pin of acme": f"Bearer {ACME_TOKEN}",
        "A pin of globex": f"Bearer {GLOBEX_TOKEN}",
    }
    # Each account's board lookup, too, went with its own token.
    tokens = {r.headers["authorization"] for r in api.requests("GET", "/v5/boards")}
    assert tokens == {f"Bearer {ACME_TOKEN}", f"Bearer {GLOBEX_TOKEN}"}
    assert {record["account"] for record in state(agency).values()} == {"acme", "globex"}
    assert ACME_TOKEN not in result.out + result.err
    assert GLOBEX_TOKEN not in result.out + result.err


def test_an_unset_variable_is_named_with_its_account_and_no_default_stands_in(
    agency: Path, pinops: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GLOBEX_PINTEREST_TOKEN")
    # The default variable holds another user's token: an account that names its own must not
    # fall back to it.
    monkeypatch.setenv("PINTEREST_ACCESS_TOKEN", ACME_TOKEN)
    result = pinops("apply", "--yes")
    assert result.code == 1
    assert "globex-pin: failed: could not read the boards of account 'globex'" in result.out
    assert "GLOBEX_PINTEREST_TOKEN is not set" in result.out
    assert ACME_TOKEN not in result.out + result.err
    # The other account does not wait for it.
    assert list(state(agency)) == ["acme-pin"]


def test_every_configured_variable_is_masked_even_of_accounts_the_run_never_opens(
    agency: Path, pinops: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_pins(agency, ("acme",), description=f"Leaked {GLOBEX_TOKEN} here.")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
        monkeypatch.delenv(name, raising=False)
    result = pinops("plan")
    assert f"::add-mask::{GLOBEX_TOKEN}" in result.err
    assert f"::add-mask::{ACME_TOKEN}" in result.err
    assert GLOBEX_TOKEN not in result.out
    assert "Leaked [redacted] here." in result.out


def test_a_posting_service_account_reads_its_own_api_key(
    repo: Path, pinops: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "pinops.yaml").write_text(
        "accounts:\n  brand-a:\n    provider: zernio\n    account_id: acc_1\n"
        "    credentials:\n      api_key: BRAND_A_ZERNIO_KEY\n",
        encoding="utf-8",
    )
    write_pins(repo, ("brand-a",))
    monkeypatch.setenv("ZERNIO_API_KEY", "RECOGNISABLE-default-zernio-key")
    monkeypatch.delenv("BRAND_A_ZERNIO_KEY", raising=False)
    result = pinops("apply", "--yes")
    assert result.code != 0
    assert "BRAND_A_ZERNIO_KEY is not set (the API key of account 'brand-a')" in result.err
    assert "RECOGNISABLE-default-zernio-key" not in result.err


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        (
            "api_key: ACME_KEY",
            "pinops.yaml:5:7: error: accounts.acme.credentials.api_key: the pinterest provider has "
            "no credential 'api_key'",
        ),
        (
            "access_token: GITHUB_TOKEN",
            "pinops.yaml:5:7: error: accounts.acme.credentials.access_token names GITHUB_TOKEN, a "
            "variable of the runner or of pinops",
        ),
        ("access_token: acme-token", "pinops.yaml:5:21"),
    ],
)
def test_a_wrong_credential_variable_is_refused_at_its_line(
    repo: Path, pinops: Run, credentials: str, message: str
) -> None:
    (repo / "pinops.yaml").write_text(
        f"accounts:\n  acme:\n    provider: pinterest\n    credentials:\n      {credentials}\n",
        encoding="utf-8",
    )
    result = pinops("validate")
    assert result.code != 0
    assert message in result.err


def test_changing_an_accounts_variables_is_a_setting_in_the_plan(tmp_path: Path) -> None:
    base = config.parse(tmp_path, b"accounts:\n  acme:\n    provider: pinterest\n")
    head = config.parse(
        tmp_path,
        b"accounts:\n  acme:\n    provider: pinterest\n"
        b"    credentials:\n      access_token: ACME_PINTEREST_TOKEN\n",
    )
    (found,) = settings.compare(base, head)
    assert found.name == "accounts.acme.credentials"
    assert found.before is not None and "access_token: PINTEREST_ACCESS_TOKEN" in found.before
    assert found.after == "access_token: ACME_PINTEREST_TOKEN"
    assert "other variables" in found.relaxes
    # Naming the default variables explicitly changes nothing.
    same = config.parse(
        tmp_path,
        b"accounts:\n  acme:\n    provider: zernio\n    credentials:\n"
        b"      api_key: ZERNIO_API_KEY\n",
    )
    plain = config.parse(tmp_path, b"accounts:\n  acme:\n    provider: zernio\n")
    assert settings.compare(plain, same) == ()


def test_apply_for_one_account_needs_only_its_credentials_and_leaves_the_others(
    agency: Path, api: PinterestEmulator, pinops: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GLOBEX_PINTEREST_TOKEN")
    result = pinops("apply", "--yes", "--account", "acme")
    assert result.code == 0, result.out + result.err
    assert [pin["title"] for pin in api.pins.values()] == ["A pin of acme"]
    assert "globex" not in result.out
    assert set(state(agency)) == {"acme-pin"}
    # The other account's job, with only its own token, publishes the rest.
    monkeypatch.delenv("ACME_PINTEREST_TOKEN")
    monkeypatch.setenv("GLOBEX_PINTEREST_TOKEN", GLOBEX_TOKEN)
    assert pinops("apply", "--yes", "--account", "globex").code == 0
    assert set(state(agency)) == {"acme-pin", "globex-pin"}
    assert pinops("plan", "--detailed-exitcode").code == 0


@pytest.mark.usefixtures("agency")
def test_a_plan_for_some_accounts_is_saved_and_applied_as_such(
    api: PinterestEmulator, pinops: Run, tmp_path: Path
) -> None:
    shown = pinops("plan", "--json", "--account", "globex")
    assert shown.code == 0, shown.err
    assert [c["key"] for c in json.loads(shown.out)["changes"]] == ["globex-pin"]
    saved = tmp_path / "plan.json"
    assert pinops("plan", "--account", "globex", "--out", str(saved)).code == 0
    applied = pinops("apply", "--account", "globex", str(saved))
    assert applied.code == 0, applied.out + applied.err
    assert [pin["title"] for pin in api.pins.values()] == ["A pin of globex"]


@pytest.mark.usefixtures("agency")
def test_an_unknown_account_is_refused_with_the_closest_name(
    api: PinterestEmulator, pinops: Run
) -> None:
    result = pinops("apply", "--yes", "--account", "acme", "--account", "globx")
    assert result.code != 0
    assert "there is no account 'globx' in pinops.yaml" in result.err
    assert "did you mean 'globex'?" in result.err
    assert api.pins == {}


def test_the_accounts_are_listed_as_one_line_of_json_for_a_matrix(repo: Path, pinops: Run) -> None:
    (repo / "pinops.yaml").write_text(
        "accounts:\n  acme:\n    provider: pinterest\n    environment: pinops-acme\n"
        "  globex:\n    provider: zernio\n    account_id: acc_1\n",
        encoding="utf-8",
    )
    result = pinops("accounts", "--json")
    assert result.code == 0, result.err
    assert result.out.count("\n") == 1
    assert json.loads(result.out) == [
        {"name": "acme", "provider": "pinterest", "environment": "pinops-acme"},
        {"name": "globex", "provider": "zernio", "environment": "pinops"},
    ]
    listed = pinops("accounts")
    assert listed.out.splitlines() == [
        "acme: pinterest, secrets in environment pinops-acme",
        "globex: zernio, secrets in environment pinops",
    ]


@pytest.mark.usefixtures("agency")
def test_one_accounts_apply_compares_only_its_changes_with_the_reviewed_plan(
    pinops: Run, tmp_path: Path
) -> None:
    reviewed = tmp_path / "reviewed.json"
    assert pinops("plan", "--out", str(reviewed)).code == 0
    result = pinops("apply", "--yes", "--account", "acme", "--reviewed", str(reviewed))
    assert result.code == 0, result.out + result.err
    assert "This is the plan reviewed on the pull request." in result.out
    assert "globex-pin" not in result.out


def test_moving_an_account_to_another_github_environment_is_a_setting(tmp_path: Path) -> None:
    base = config.parse(tmp_path, b"accounts:\n  acme:\n    provider: pinterest\n")
    head = config.parse(
        tmp_path, b"accounts:\n  acme:\n    provider: pinterest\n    environment: elsewhere\n"
    )
    (found,) = settings.compare(base, head)
    assert (found.name, found.before, found.after) == (
        "accounts.acme.environment",
        "pinops",
        "elsewhere",
    )
    assert found.relaxes


def test_a_run_for_one_account_never_asks_another_accounts_provider(
    agency: Path, api: PinterestEmulator, pinops: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.faults.add(Fault(kind="lost_response", method="POST", path="/v5/pins"))
    assert pinops("apply", "--yes", "--account", "globex").code == 1  # its answer was lost
    monkeypatch.delenv("GLOBEX_PINTEREST_TOKEN")
    # The whole plan asks globex's Pinterest about the interrupted create: it needs the token.
    assert "could not look for it: GLOBEX_PINTEREST_TOKEN is not set" in pinops("plan").out
    planned = pinops("plan", "--account", "acme")
    assert "GLOBEX" not in planned.out + planned.err
    result = pinops("apply", "--yes", "--account", "acme")
    assert result.code == 0, result.out + result.err
    assert sorted(pin["title"] for pin in api.pins.values()) == ["A pin of acme", "A pin of globex"]
    monkeypatch.setenv("GLOBEX_PINTEREST_TOKEN", GLOBEX_TOKEN)
    assert "= adopt globex-pin" in pinops("plan").out
    assert "acme-pin" in state(agency)
