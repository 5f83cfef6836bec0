"""The parse, media and derivation caches: a changed input is always read again, a damaged entry
is ignored."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler import desired, manifest, providers
from reconciler.cache import UNUSED_DAYS, Cache, installed, pinops_stamp
from reconciler.config import load as load_config
from reconciler.derivations import Derived
from reconciler.errors import ValidationFailed
from reconciler.providers.base import Capabilities
from tests.conftest import Run, edit
from tests.gitrepos import isolate_git, origin_with_content


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


def test_a_manifest_whose_stats_are_as_recorded_is_not_read_again(
    repo: Path, _private_cache: Path
) -> None:
    loading: list[list[str]] = []  # while a load runs: what it opened (a hook stays for good)
    sys.addaudithook(
        lambda event, args: loading[0].append(str(args[0])) if loading and event == "open" else None
    )

    def load() -> list[str]:
        """The manifests the load opened (the defaults files are always read)."""
        loading.append([])
        try:
            desired.load(load_config(repo), providers.capabilities)
        finally:
            opened = loading.pop()
        names = {p.name for p in manifest.discover(repo / "pins")} - {"_defaults.yaml"}
        return sorted({Path(name).name for name in opened} & names)

    everything = load()
    assert "summer-salad.yaml" in everything
    # Files written within the file system's clock tick are hashed again, whatever their stats:
    # another write could have kept them.
    assert load() == everything
    time.sleep(2.1)
    assert load() == everything  # old enough now: their stats are recorded
    assert load() == []
    edit(repo / "pins/recipes/summer-salad.yaml", "Crunchy Summer", "Crisp Summer")
    assert load() == ["summer-salad.yaml"]
    assert titles(repo)["summer-salad"] == "Crisp Summer Salad with Lemon Dressing"
    # A fresh checkout of the same bytes: new stats, so each file is read again.
    shutil.copytree(repo, repo.with_name("copy"))
    shutil.rmtree(repo)
    repo.with_name("copy").rename(repo)
    assert load() == everything


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


# What each manifest file derived to is kept too: a run redoes only what its changes reach, and an
# entry is never used once any input it was derived from has changed.


def targets(repo: Path) -> dict[str, dict[str, object]]:
    wanted = desired.load(load_config(repo), providers.capabilities)
    return {key: target.fields.to_json() for key, target in wanted.targets.items()}


def test_unchanged_files_are_not_derived_again(repo: Path, _private_cache: Path) -> None:
    first = targets(repo)
    derived = entries(_private_cache / "derived")
    assert derived  # one per manifest file (not per _defaults.yaml)
    edit(repo / "pins/recipes/summer-salad.yaml", "Crunchy Summer", "Crisp Summer")
    second = targets(repo)
    # Only the changed file made a new entry; the others were taken as they were.
    assert len(entries(_private_cache / "derived")) == len(derived) + 1
    assert second["summer-salad"]["title"] == "Crisp Summer Salad with Lemon Dressing"
    assert {k: v for k, v in second.items() if k != "summer-salad"} == {
        k: v for k, v in first.items() if k != "summer-salad"
    }


def test_a_changed_defaults_file_reaches_the_files_below_it(repo: Path) -> None:
    assert targets(repo)["summer-salad"]["board"] == "Recipes"
    assert targets(repo)["pasta-howto-video"]["board"] == "Recipes"
    edit(repo / "pins/recipes/_defaults.yaml", "board: Recipes", "board: Weeknight Dinners")
    found = targets(repo)
    assert found["summer-salad"]["board"] == "Weeknight Dinners"
    assert found["pasta-howto-video"]["board"] == "Weeknight Dinners"
    # A defaults file above, and vars the templates read.
    edit(repo / "pins/_defaults.yaml", "brand: Example Kitchen", "brand: Other Kitchen")
    assert "Other Kitchen" in str(targets(repo)["product-sk-10"]["description"])


def test_a_changed_data_file_is_read_again(repo: Path) -> None:
    assert targets(repo)["product-sk-10"]["title"] == "Cast Iron Skillet"
    edit(repo / "pins/shop/products.csv", "Cast Iron Skillet", "Iron Skillet")
    assert targets(repo)["product-sk-10"]["title"] == "Iron Skillet"


def test_media_are_derived_again_when_the_file_behind_a_path_changes(repo: Path) -> None:
    def salad_hash() -> object:
        image = targets(repo)["summer-salad"]["image"]
        assert isinstance(image, dict)
        return image["sha256"]

    first = salad_hash()
    salad = repo / "pins/media/salad.jpg"
    # Another file put in its place, of the same size: the entry's medium is no longer there.
    other = repo / "pins/media/other.jpg"
    data = salad.read_bytes()
    other.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    other.replace(salad)
    assert salad_hash() != first
    # A medium that disappears is an error, not a remembered success.
    salad.unlink()
    with pytest.raises(ValidationFailed) as failed:
        targets(repo)
    assert "salad.jpg" in str(failed.value.problems)


def test_changed_settings_are_derived_again(repo: Path) -> None:
    assert targets(repo)["summer-salad"]["account"] == "main"
    assert "Other" not in str(targets(repo)["product-sk-10"]["description"])
    config = repo / "pinops.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "vars:\n  brand: Other\n")
    # pinops.yaml's vars are overridden by pins/_defaults.yaml's; the file's own win there.
    edit(repo / "pins/_defaults.yaml", "  brand: Example Kitchen\n", "")
    assert "Other" in str(targets(repo)["product-sk-10"]["description"])
    edit(config, "  main:", "  second:")
    assert targets(repo)["summer-salad"]["account"] == "second"


def test_a_changed_state_is_planned_from(pinops: Run, repo: Path) -> None:
    # The state is no input of a file's pins, but the plan made from them follows it.
    assert pinops("apply", "--yes").code == 0
    assert pinops("plan", "--detailed-exitcode").code == 0
    state = repo / "pinops.state.json"
    data = json.loads(state.read_text(encoding="utf-8"))
    del data["pins"]["summer-salad"]
    state.write_text(json.dumps(data), encoding="utf-8")
    result = pinops("plan", "--detailed-exitcode")
    assert result.code == 2
    assert "+ create summer-salad" in result.out


def test_entries_are_keyed_on_the_code_and_the_settings(repo: Path, _private_cache: Path) -> None:
    config = load_config(repo)
    derived = Derived(config, providers.capabilities, Cache(_private_cache, "derived"))
    # Every file of pinops (its version) and of the libraries it uses.
    assert pinops_stamp() in derived.settings
    # A file's bytes, and its defaults files', go into the key by their SHA-256.
    A, B, EMPTY = (hashlib.sha256(text).hexdigest() for text in (b"id: a", b"id: b", b""))
    key = derived.key("pins/a.yaml", A, [])
    assert key != derived.key("pins/a.yaml", B, [])
    assert key != derived.key("pins/a.yaml", A, [("pins/_defaults.yaml", EMPTY)])
    assert derived.key("pins/a.yaml", A, [("pins/_defaults.yaml", None)]) != derived.key(
        "pins/a.yaml", A, [("pins/_defaults.yaml", EMPTY)]
    )
    changed = replace(config, advice_off=frozenset({"alt-text"}))
    other = Derived(changed, providers.capabilities, Cache(_private_cache, "derived"))
    assert other.key("pins/a.yaml", A, []) != key

    def refusing(name: str) -> Capabilities:
        return replace(providers.capabilities(name), url_media=frozenset())

    other = Derived(config, refusing, Cache(_private_cache, "derived"))
    assert other.key("pins/a.yaml", A, []) != key


def test_a_fresh_checkout_at_the_same_place_takes_what_an_earlier_one_derived(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _private_cache: Path
) -> None:
    """A CI runner restores the cache an earlier runner saved, into a new clone of the same commit
    at the same path: every file has a new inode and new times, and each medium is hashed once
    again, but no manifest file is derived again."""
    isolate_git(monkeypatch, tmp_path)
    origin = origin_with_content(tmp_path)
    checkout = origin.clone("checkout")
    first = targets(checkout)
    kept = {entry: entry.stat().st_ino for entry in entries(_private_cache / "derived")}
    media = entries(_private_cache / "media")
    shutil.rmtree(checkout)
    assert origin.clone("checkout") == checkout
    assert targets(checkout) == first
    assert {entry: entry.stat().st_ino for entry in entries(_private_cache / "derived")} == kept
    assert len(entries(_private_cache / "media")) == 2 * len(media)
    # A medium of other bytes on the runner is read as it is, and its files derived again.
    salad = checkout / "pins/media/salad.jpg"
    salad.write_bytes(salad.read_bytes() + b"\0")
    image = targets(checkout)["summer-salad"]["image"]
    assert isinstance(image, dict) and image["sha256"] != first["summer-salad"]["image"]["sha256"]  # type: ignore[index]


def test_a_library_stands_for_the_files_its_installer_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same library installed on two machines stands for the same code; a library installed
    otherwise stands for its file's size, inode and times."""

    def site(name: str, record: str | None) -> str:
        folder = tmp_path / name
        (folder / "pinopslib").mkdir(parents=True)
        (folder / "pinopslib/__init__.py").write_text("", encoding="utf-8")
        if record is not None:
            (folder / "pinopslib-6.0.dist-info").mkdir()
            (folder / "pinopslib-6.0.dist-info/RECORD").write_text(record, encoding="utf-8")
        with monkeypatch.context() as patched:
            patched.syspath_prepend(str(folder))
            return installed("pinopslib", "pinopslib")

    record = "pinopslib/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n"
    one = site("one", record)
    assert site("two", record) == one
    assert site("three", record.replace("47D", "48D")) != one
    # Not installed by an installer, or installed editable (its RECORD names no file of it).
    assert site("four", None) != site("five", None)
    assert site("six", "other/__init__.py,,\n") != site("seven", "other/__init__.py,,\n")


def test_a_file_naming_a_missing_medium_is_never_remembered(
    repo: Path, _private_cache: Path
) -> None:
    edit(repo / "pins/recipes/summer-salad.yaml", "image: ../media/salad.jpg", "image: nope.jpg")
    for _ in range(2):
        with pytest.raises(ValidationFailed) as failed:
            targets(repo)
        assert "nope.jpg" in str(failed.value.problems)
    stored = entries(_private_cache / "derived")
    assert len(stored) == len(manifest.discover(repo / "pins")) - 3 - 1  # no defaults, no salad
    # Once the file is there, the pin is found with it.
    (repo / "pins/recipes/nope.jpg").write_bytes((repo / "pins/media/salad.jpg").read_bytes())
    assert targets(repo)["summer-salad"]["image"]


def test_a_files_errors_are_remembered_with_it_and_said_again(
    pinops: Run, repo: Path, _private_cache: Path
) -> None:
    salad = repo / "pins/recipes/summer-salad.yaml"
    edit(salad, "image: ../media/salad.jpg", "image: ../media/salad.jpg\ncover: ../media/pasta.jpg")
    first = pinops("validate")
    assert first.code == 1
    assert "summer-salad.yaml:11:8: error: cover is only for video pins" in first.err
    # Every manifest file is remembered, the one with the error too, and says it again as it was.
    stored = entries(_private_cache / "derived")
    assert len(stored) == len(manifest.discover(repo / "pins")) - 3
    assert pinops("validate") == first
    assert entries(_private_cache / "derived") == stored
    edit(salad, "\ncover: ../media/pasta.jpg", "")
    assert pinops("validate").code == 0


def test_a_mediums_error_is_remembered_only_while_the_medium_stays_as_it_is(
    pinops: Run, repo: Path
) -> None:
    salad = repo / "pins/media/salad.jpg"
    image = salad.read_bytes()
    salad.write_bytes(b"not a picture at all")
    first = pinops("validate")
    assert first.code == 1 and "salad.jpg" in first.err
    assert pinops("validate") == first
    salad.write_bytes(image)
    assert pinops("validate").code == 0


def test_an_error_a_defaults_file_holds_is_said_once_whatever_was_remembered(
    pinops: Run, repo: Path
) -> None:
    # Both files of pins/recipes/ take the board of its _defaults.yaml: one error, at its place.
    edit(repo / "pins/recipes/_defaults.yaml", "board: Recipes", "board: Nowhere")
    first = pinops("validate")
    assert first.code == 1
    assert first.err.count("board 'Nowhere' does not exist") == 1
    assert pinops("validate") == first


def test_a_defaults_file_reaches_folders_below_folders_without_manifests(repo: Path) -> None:
    deep = repo / "pins/deep/er"
    deep.mkdir(parents=True)
    (repo / "pins/deep/_defaults.yaml").write_text("defaults:\n  board: Recipes\n")
    text = (repo / "pins/recipes/summer-salad.yaml").read_text(encoding="utf-8")
    text = text.replace("id: summer-salad", "id: deep").replace("../media", "../../media")
    (deep / "pin.yaml").write_text(text)
    assert targets(repo)["deep"]["board"] == "Recipes"
    edit(repo / "pins/deep/_defaults.yaml", "Recipes", "Home Decor")
    assert targets(repo)["deep"]["board"] == "Home Decor"


@pytest.mark.parametrize("planted", ["symlink", "hardlink"])
def test_an_entry_is_never_written_through_a_file_planted_in_its_place(
    tmp_path: Path, _private_cache: Path, planted: str
) -> None:
    store = Cache(_private_cache, "manifest")
    key = Cache.key("planted")
    entry = _private_cache / "manifest" / key[:2] / key[2:]
    entry.parent.mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n", encoding="utf-8")
    if planted == "symlink":
        entry.symlink_to(victim)
    else:
        os.link(victim, entry)
    store.put(key, "value")
    assert victim.read_text(encoding="utf-8") == "keep me\n"
    assert store.get(key) == "value"


def test_entries_no_run_used_for_a_month_are_removed_once_a_day(_private_cache: Path) -> None:
    store = Cache(_private_cache, "manifest")
    day = 24 * 3600

    def path(name: str) -> Path:
        key = Cache.key(name)
        return _private_cache / "manifest" / key[:2] / key[2:]

    def age(target: Path, days: float) -> None:
        moment = time.time() - days * day
        os.utime(target, (moment, moment))

    for name in ("old", "used", "recent"):
        store.put(Cache.key(name), name)
    left = path("old").parent / ".abandoned.tmp"  # an earlier version's write, killed midway
    left.write_bytes(b"partial")
    for name, days in (("old", UNUSED_DAYS + 10), ("used", UNUSED_DAYS + 10), ("recent", 10)):
        age(path(name), days)
    age(left, 2)
    age(_private_cache / "pruned", 2)  # the last pruning
    assert store.get(Cache.key("used")) == "used"  # a run uses it: it is kept
    store = Cache(_private_cache, "manifest")  # the next run
    store.put(Cache.key("new"), "new")
    assert not path("old").exists() and not left.exists()
    assert [store.get(Cache.key(n)) for n in ("used", "recent", "new")] == ["used", "recent", "new"]
    # Pruned today: not again before tomorrow.
    age(path("recent"), UNUSED_DAYS + 1)
    store = Cache(_private_cache, "manifest")
    store.put(Cache.key("newer"), "newer")
    assert path("recent").exists()
