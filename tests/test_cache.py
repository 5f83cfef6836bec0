"""The parse and media caches: a changed file is always read again, a damaged entry is ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import desired, manifest, providers
from reconciler.cache import Cache
from reconciler.config import load as load_config
from tests.conftest import Run, edit


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def titles(repo: Path) -> dict[str, str]:
    wanted = desired.load(load_config(repo), providers.capabilities)
    return {key: target.fields.to_json()["title"] for key, target in wanted.targets.items()}


def test_a_second_run_reads_the_cache_and_gives_the_same_result(
    repo: Path, _private_cache: Path
) -> None:
    first = desired.load(load_config(repo), providers.capabilities)
    stored = entries(_private_cache / "manifest")
    assert len(stored) == len(manifest.discover(repo / "pins"))
    second = desired.load(load_config(repo), providers.capabilities)
    assert second == first
    assert entries(_private_cache / "manifest") == stored


def test_a_changed_file_is_read_again(repo: Path) -> None:
    assert titles(repo)["summer-salad"] == "Crunchy Summer Salad with Lemon Dressing"
    edit(repo / "pins/recipes/summer-salad.yaml", "Crunchy Summer", "Crisp Summer")
    assert titles(repo)["summer-salad"] == "Crisp Summer Salad with Lemon Dressing"
    # And back: the old entry is still right for the old bytes.
    edit(repo / "pins/recipes/summer-salad.yaml", "Crisp Summer", "Crunchy Summer")
    assert titles(repo)["summer-salad"] == "Crunchy Summer Salad with Lemon Dressing"


def test_a_file_that_becomes_invalid_is_reported(pinops: Run, repo: Path) -> None:
    assert pinops("validate").code == 0
    edit(repo / "pins/recipes/summer-salad.yaml", "title:", "titel:")
    result = pinops("validate")
    assert result.code == 1
    assert "pins/recipes/summer-salad.yaml:4:1: error: unknown field 'titel'" in result.err
    # The problems of an invalid file come from the cache as they were found.
    assert pinops("validate").err == result.err


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[:0],
        lambda blob: blob[:-7],
        lambda blob: blob[:32] + b"\x00" * (len(blob) - 32),
        lambda blob: bytes(32) + blob[32:],
        lambda blob: blob[:40] + bytes([blob[40] ^ 0xFF]) + blob[41:],
    ],
    ids=["empty", "truncated", "zeroed", "bad-checksum", "flipped-byte"],
)
def test_damaged_entries_are_ignored(repo: Path, _private_cache: Path, damage: object) -> None:
    before = titles(repo)
    for entry in entries(_private_cache / "manifest"):
        entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    assert titles(repo) == before


def test_an_entry_forged_under_a_files_key_is_refused_without_its_checksum(
    repo: Path, _private_cache: Path
) -> None:
    store = Cache(_private_cache, "manifest")
    path = repo / "pins/recipes/summer-salad.yaml"
    key = store.key("pins/recipes/summer-salad.yaml", path.read_bytes())
    target = _private_cache / "manifest" / key[:2] / key[2:]
    target.parent.mkdir(parents=True)
    target.write_bytes(bytes(32) + b"not what the file says")
    assert titles(repo)["summer-salad"] == "Crunchy Summer Salad with Lemon Dressing"


def test_an_unwritable_cache_only_costs_speed(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("PINOPS_CACHE_DIR", str(blocker / "cache"))
    assert titles(repo)["summer-salad"] == "Crunchy Summer Salad with Lemon Dressing"


def test_an_empty_setting_turns_the_cache_off(
    repo: Path, _private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINOPS_CACHE_DIR", "")
    titles(repo)
    assert entries(_private_cache) == []


def test_keys_depend_on_the_name_and_every_byte() -> None:
    assert Cache.key("a.yaml", b"x: 1") != Cache.key("b.yaml", b"x: 1")
    assert Cache.key("a.yaml", b"x: 1") != Cache.key("a.yaml", b"x: 2")
    # Parts are length-prefixed: moving bytes between them changes the key.
    assert Cache.key("ab", b"c") != Cache.key("a", b"bc")


def test_media_are_hashed_again_when_their_bytes_change(repo: Path) -> None:
    def salad_hash() -> str:
        wanted = desired.load(load_config(repo), providers.capabilities)
        return str(wanted.targets["summer-salad"].fields.to_json()["image"]["sha256"])

    first = salad_hash()
    assert salad_hash() == first
    salad = repo / "pins/media/salad.jpg"
    salad.write_bytes(salad.read_bytes() + b"\0")  # same type and size class, other bytes
    assert salad_hash() != first
