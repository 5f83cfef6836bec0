"""Credentials go only to a provider's documented hosts, to this machine, or to a host allowed by
the environment the workflow sets: never where a pull request's pinops.yaml points them."""

from __future__ import annotations

import importlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from reconciler.config import PROVIDER_HOSTS
from tests.conftest import Run, edit


def _point(repo: Path, provider: str, base_url: str) -> None:
    edit(
        repo / "pinops.yaml",
        "provider: sandbox ",
        f"provider: {provider}\n    base_url: {base_url}\n    #",
    )


@pytest.mark.parametrize(
    ("provider", "base_url"),
    [
        ("pinterest", "https://evil.example/v5"),
        ("postpeer", "https://api.postpeer.dev.evil.example/v1"),
        # A Cyrillic а: looks like the documented host, is another one.
        ("pinterest", "https://api.pinterest.cоm/v5"),
        ("relayapi", "http://api.relayapi.dev"),
    ],
)
def test_base_url_outside_the_documented_hosts_is_a_located_error(
    pinops: Run, repo: Path, provider: str, base_url: str
) -> None:
    _point(repo, provider, base_url)
    for command in (("validate",), ("plan",), ("apply", "--yes")):
        result = pinops(*command)
        assert result.code == 1, result
        assert "Traceback" not in result.err
        assert "pinops.yaml:8:15: error: accounts.main.base_url " in result.err, result.err
    assert not (repo / "pinops.state.json").exists()


def test_the_error_names_the_way_out(pinops: Run, repo: Path) -> None:
    _point(repo, "pinterest", "https://evil.example/v5")
    result = pinops("plan")
    assert "accounts.main.base_url sends the pinterest credentials to evil.example" in result.err
    assert "api.pinterest.com" in result.err
    assert "PINOPS_ALLOW_HOSTS=evil.example" in result.err


def test_the_environment_can_allow_another_host(
    pinops: Run, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _point(repo, "pinterest", "https://proxy.example/v5")
    monkeypatch.setenv("PINOPS_ALLOW_HOSTS", "other.example, proxy.example")
    assert pinops("validate").code == 0


@pytest.mark.parametrize(
    "base_url",
    [
        "https://api-sandbox.pinterest.com/v5",
        "https://api.pinterest.com/v5",
        "http://127.0.0.1:8080/v5",
        "http://localhost:9/v5",
        "http://[::1]:9/v5",
    ],
)
def test_documented_and_loopback_hosts_are_fine(pinops: Run, repo: Path, base_url: str) -> None:
    _point(repo, "pinterest", base_url)
    assert pinops("validate").code == 0


@pytest.mark.parametrize("provider", sorted(PROVIDER_HOSTS))
def test_each_providers_own_address_is_a_documented_host(provider: str) -> None:
    module = importlib.import_module(f"reconciler.providers.{provider}")
    assert urlsplit(module.DEFAULT_BASE_URL).hostname in PROVIDER_HOSTS[provider]
