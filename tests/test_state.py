from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.errors import StateError
from reconciler.state import Record, State
from reconciler.statefile import StateFile


def record(pin_id: str = "1") -> Record:
    return Record(provider="sandbox", account="main", content_hash="a" * 64, pin_id=pin_id)


def test_round_trip(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "pinops.state.json")
    state = store.read()
    assert state.serial == 0 and not state.pins
    state.pins["a"] = record()
    state.boards["main"] = {"Recipes": "123"}
    store.write(state)
    again = store.read()
    assert again == state
    assert again.serial == 1


def test_a_read_holds_each_recurring_text_once(tmp_path: Path) -> None:
    """Texts the caller holds (a plan's manifests) are the records' own, and values that records
    repeat are one string; nothing read differs from a plain read."""
    store = StateFile(tmp_path / "pinops.state.json")
    state = store.read()
    text = "Crème brûlée 東京 " * 40
    for n in range(3):
        fields = {"account": "main", "board": "Recipes", "description": text, "title": f"T{n}"}
        state.pins[f"p{n}"] = replace(record(str(n)), board="Recipes", fields=fields)
    store.write(state)
    held = {text: text, "T1": "T1"}
    shared = store.read(held=held)
    assert shared == store.read()
    first, second, third = shared.pins.values()
    assert all(r.fields["description"] is text for r in (first, second, third))
    assert second.fields["title"] is held["T1"]
    assert first.board is second.board is third.fields["board"]
    assert first.content_hash is third.content_hash  # recurring: one string
    assert first.pin_id is not None and first.pin_id not in held  # not recurring: left alone


def test_missing_state_is_new_and_not_written(tmp_path: Path) -> None:
    StateFile(tmp_path / "s.json").read()
    assert not (tmp_path / "s.json").exists()


def test_a_failure_while_writing_leaves_the_previous_state_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = StateFile(tmp_path / "pinops.state.json")
    state = store.read()
    state.pins["a"] = record()
    store.write(state)
    before = store.path.read_bytes()

    def disk_full(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    state.pins["b"] = record("2")
    with pytest.raises(StateError, match="cannot write the state file: No space left") as caught:
        store.write(state)
    monkeypatch.undo()
    assert str(caught.value).startswith("pinops.state.json: ")
    assert "a re-run is safe" in caught.value.hint
    assert store.path.read_bytes() == before
    assert state.serial == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pinops.state.json"]


def test_journal_is_replayed_after_a_crash_and_a_torn_line_ignored(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "pinops.state.json")
    state = store.read()
    store.write(state)
    store.begin(state)
    store.record(state, {"op": "record", "key": "a", "record": record("11").to_json()})
    store.record(state, {"op": "record", "key": "b", "record": record("12").to_json()})
    # The process dies here: no finish(). A half-written line is at the end of the journal.
    with store.journal.path.open("a") as journal:
        journal.write('{"op": "record", "key": "c", "rec')
    recovered = StateFile(store.path).read()
    assert sorted(recovered.pins) == ["a", "b"]
    assert recovered.pins["b"].pin_id == "12"


def test_the_room_a_journal_keeps_ahead_of_its_lines_reads_as_nothing(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "pinops.state.json")
    state = store.read()
    store.begin(state)
    store.put(state, "a", record("11"))
    store.put(state, "b", replace(record("12"), intent={"operation": "create"}))
    lines = store.journal.path.read_bytes().split(b"\n")
    assert len(lines) == 4 and not lines[-1].strip(b"\0")  # three lines, then only zeros
    recovered = StateFile(store.path).read()
    assert sorted(recovered.pins) == ["a", "b"]
    assert recovered.pins["b"].intent == {"operation": "create"}


def test_a_journal_without_room_to_grow_ahead_takes_its_lines_all_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = StateFile(tmp_path / "pinops.state.json")
    state = store.read()
    write = os.write

    def disk_nearly_full(fd: int, data: bytes) -> int:
        if len(data) > 100_000:
            raise OSError(28, "No space left on device")
        return write(fd, data)

    monkeypatch.setattr(os, "write", disk_nearly_full)
    store.begin(state)
    store.put(state, "a", record("11"))
    store.put(state, "b", record("12"))
    monkeypatch.undo()
    text = store.journal.path.read_text()
    assert text.endswith("\n") and "\0" not in text
    assert sorted(StateFile(store.path).read().pins) == ["a", "b"]


def test_a_journal_written_again_after_an_error_goes_on_after_its_last_whole_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = StateFile(tmp_path / "pinops.state.json")
    state = store.read()
    store.begin(state)
    store.put(state, "a", record("11"))
    write = os.write

    def torn(fd: int, data: bytes) -> int:
        write(fd, data[:10])
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "write", torn)
    with pytest.raises(StateError, match="cannot write the state journal"):
        store.put(state, "b", record("12"))
    monkeypatch.undo()
    store.put(state, "c", record("13"))
    assert sorted(StateFile(store.path).read().pins) == ["a", "c"]


def test_finish_folds_the_journal(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "pinops.state.json")
    state = store.read()
    store.begin(state)
    store.record(state, {"op": "record", "key": "a", "record": record().to_json()})
    store.finish(state)
    assert not store.journal.path.exists()
    assert StateFile(store.path).read().pins.keys() == {"a"}


def test_a_journal_already_folded_is_not_replayed(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "pinops.state.json")
    state = store.read()
    store.begin(state)
    store.record(state, {"op": "record", "key": "a", "record": record().to_json()})
    journal = store.journal.path.read_bytes()
    store.finish(state)
    # A crash between the rename and the journal's removal leaves the old journal behind.
    store.journal.path.write_bytes(journal)
    state = store.read()
    state.pins.pop("a")
    store.write(state)
    store.journal.path.write_bytes(journal)
    assert "a" not in StateFile(store.path).read().pins


def test_corrupt_state_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "pinops.state.json"
    path.write_text('{"version": 1,\n  "lineage": oops}\n')
    with pytest.raises(StateError) as caught:
        StateFile(path, "pinops.state.json").read()
    assert str(caught.value).startswith("pinops.state.json:2:14: the state file is not valid JSON")


def test_foreign_json_is_not_a_state_file(tmp_path: Path) -> None:
    path = tmp_path / "pinops.state.json"
    path.write_text(json.dumps({"name": "my-package"}))
    with pytest.raises(StateError, match="is not a pinops state file"):
        StateFile(path).read()


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ({"provider": "sandbox"}, "'account' is required here"),
        (5, "b must be an object, not a number"),
    ],
)
def test_a_record_that_is_not_one_is_named(tmp_path: Path, bad: object, says: str) -> None:
    path = tmp_path / "pinops.state.json"
    data = State(lineage="0b5de5b0-6dab-48eb-b801-3e4f921fefc3").to_json()
    data["pins"] = {"a": record().to_json(), "b": bad}
    path.write_text(json.dumps(data))
    with pytest.raises(StateError, match="is not a pinops state file") as caught:
        StateFile(path).read()
    assert says in str(caught.value)


def test_newer_state_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pinops.state.json"
    state = State(lineage="0b5de5b0-6dab-48eb-b801-3e4f921fefc3")
    data = state.to_json() | {"version": 9}
    path.write_text(json.dumps(data))
    with pytest.raises(StateError, match="newer pinops"):
        StateFile(path).read()


def test_lock_names_its_holder(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "pinops.state.json")
    with store.lock("apply"), pytest.raises(StateError) as caught, store.lock("apply"):
        pass
    assert "locked by pinops apply (pid" in str(caught.value)
    with store.lock("apply"):
        pass  # released when the holder is done


def test_reading_folds_a_journal_left_behind_into_the_state_file(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "pinops.state.json")
    state = store.read()
    store.write(state)
    store.begin(state)
    store.record(state, {"op": "record", "key": "a", "record": record("11").to_json()})
    # The final write failed (or the process died): the journal alone knows pin 11.
    StateFile(store.path).read()
    assert not store.journal.path.exists()
    on_disk = json.loads(store.path.read_text())
    assert on_disk["pins"]["a"]["pin_id"] == "11"
    assert on_disk["serial"] == 2


def test_reading_leaves_the_journal_of_a_running_apply_alone(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "pinops.state.json")
    state = store.read()
    with store.lock("apply"):
        store.begin(state)
        store.record(state, {"op": "record", "key": "a", "record": record().to_json()})
        other = StateFile(store.path)
        assert "a" in other.read().pins
        assert store.journal.path.exists()  # the apply holding the lock folds it itself
    assert not store.path.exists()


@pytest.mark.parametrize("line", [1, 3])
def test_a_damaged_journal_line_is_a_located_error(tmp_path: Path, line: int) -> None:
    store = StateFile(tmp_path / "pinops.state.json", "content/pinops.state.json")
    state = store.read()
    store.write(state)
    store.begin(state)
    store.record(state, {"op": "record", "key": "a", "record": record().to_json()})
    store.record(state, {"op": "record", "key": "b", "record": record("2").to_json()})
    lines = store.journal.path.read_text().splitlines(keepends=True)
    lines[line - 1] = "\x00\x00garbage\n"
    store.journal.path.write_text("".join(lines))
    before = store.path.read_bytes()
    with pytest.raises(StateError) as caught:
        StateFile(store.path, "content/pinops.state.json").read()
    assert str(caught.value).startswith(
        f"content/pinops.state.json.journal:{line}:1: this line of the state journal is damaged"
    )
    assert "a re-run is safe" in caught.value.hint
    assert store.path.read_bytes() == before


def test_a_lock_path_that_is_a_folder_is_a_located_error(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "pinops.state.json")
    store.lock_path.mkdir()
    with pytest.raises(StateError) as caught, store.lock("apply"):
        pass
    assert str(caught.value).startswith("pinops.state.json.lock: cannot open the state lock file")
    assert "a re-run is safe" in caught.value.hint
