"""pinops state and pinops import: the state file listed and shown, and edited by hand (import,
mv, resolve, forget, unlock). Nothing here publishes or deletes a pin."""

from __future__ import annotations

from dataclasses import dataclass, replace

from reconciler import boards, pinfields, recovery, report
from reconciler.errors import PlanError, StateError
from reconciler.logline import escape
from reconciler.state import Record, State
from reconciler.statefile import StateFile
from reconciler.workspace import Workspace


@dataclass(frozen=True)
class Request:
    """What `pinops state SUBCOMMAND` or `pinops import` is asked (options of the same names)."""

    command: str  # state | import
    state_command: str = ""  # list | show | forget | mv | resolve | unlock
    key: str = ""
    pin_id: str = ""
    old: str = ""
    new: str = ""
    published: str | None = None


def run(workspace: Workspace, request: Request) -> str:
    """Do what was asked; what to print about it."""
    editor = StateEditor(workspace)
    key = request.key
    if request.command == "import":
        record = editor.import_pin(key, request.pin_id)
        return f"Imported pin {record.pin_id} as '{key}'; nothing was published.\n"
    match request.state_command:
        case "list":
            return listing(workspace.store)
        case "show":
            return shown(workspace.store, key)
        case "forget":
            editor.forget(key)
            return f"Forgot '{key}'; the pin itself was not touched.\n"
        case "mv":
            editor.move(request.old, request.new)
            return f"Moved '{request.old}' to '{request.new}'; nothing was published.\n"
        case "resolve":
            editor.resolve(key, request.published)
            settled = f"published as {request.published}" if request.published else "not published"
            return f"Resolved '{key}': {settled}.\n"
        case _:
            return workspace.store.unlock() + "\n"


def listing(store: StateFile) -> str:
    """One line a record (key, pin id, board, status), then the count and serial."""
    state = store.read()
    lines = []
    for key, record in sorted(state.pins.items()):
        status = "interrupted" if record.intent else record.status
        shown = escape(f"{key:<32} {record.pin_id or '-':>20}  {record.board or '-'}")
        lines.append(f"{shown}  [{status}]\n")
    lines.append(f"{len(state.pins)} records, serial {state.serial}\n")
    return "".join(lines)


def shown(store: StateFile, key: str) -> str:
    """One record as JSON."""
    found = store.read().pins.get(key)
    if found is None:
        raise StateError(f"no record '{key}' in the state", hint="see: pinops state list")
    return report.json_text(found.to_json(), sort_keys=True)


class StateEditor:
    """Deliberate edits of the state by a person: import, move, resolve, forget.

    Each takes the lock and writes the whole state once; none publishes or deletes a pin.
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.store = workspace.store

    def _record(self, state: State, key: str) -> Record:
        if key not in state.pins:
            raise StateError(f"no record '{key}' in the state", hint="see: pinops state list")
        return state.pins[key]

    def forget(self, key: str) -> None:
        with self.store.lock("state forget"):
            state = self.store.read()
            self._record(state, key)
            del state.pins[key]
            self.store.write(state)

    def move(self, old: str, new: str) -> None:
        with self.store.lock("state mv"):
            state = self.store.read()
            record = self._record(state, old)
            if new in state.pins:
                raise StateError(f"'{new}' is already in the state", hint="forget it first")
            del state.pins[old]
            state.pins[new] = record
            self.store.write(state)

    def resolve(self, key: str, published_pin: str | None) -> None:
        """Settle an interrupted create: it published `published_pin`, or (None) nothing."""
        with self.store.lock("state resolve"):
            state = self.store.read()
            record = self._record(state, key)
            if not recovery.interrupted(record):
                raise StateError(f"'{key}' has no interrupted create to resolve")
            if published_pin is None:
                previous = record.intent.get("previous") if record.intent else None
                if previous:
                    state.pins[key] = Record.from_json(previous)
                else:
                    del state.pins[key]
            else:
                state.pins[key] = replace(
                    record, pin_id=published_pin, status="published", intent=None
                )
            self.store.write(state)

    def import_pin(self, key: str, pin_id: str) -> Record:
        """Adopt a pin that exists on the provider as the published form of a declared pin."""
        workspace = self.workspace
        with self.store.lock("import"):
            wanted = workspace.load_desired()
            target = wanted.targets.get(key)
            if target is None:
                raise PlanError(
                    f"'{key}' is not declared in the manifests",
                    hint="declare the pin first; name it by its id, or id@board on several boards",
                )
            state = self.store.read()
            if key in state.pins:
                raise StateError(
                    f"'{key}' is already managed as pin {state.pins[key].pin_id}",
                    hint="forget it first to import another pin",
                )
            state.boards.update(boards.refresh([target], state.boards, workspace.provider))
            remote = workspace.provider(target.account).get(pin_id)
            if remote is None:
                raise PlanError(f"pin {pin_id} was not found in account '{target.account}'")
            # The record holds what the pin really shows, so the next plan updates what differs.
            fields = target.fields.to_json()
            for name in ("title", "description", "link", "alt_text"):
                found = getattr(remote, name)
                if found:
                    fields[name] = found
                else:
                    fields.pop(name, None)
            if remote.board_id != boards.ids(target, state.boards)[0]:
                fields["board"] = remote.board_id  # planned as a move back to the declared board
            media = target.fields.medium
            record = Record(
                provider=workspace.provider_name(target.account),
                account=target.account,
                content_hash=pinfields.content_hash(fields),
                pin_id=remote.pin_id,
                url=remote.url,
                board=target.board,
                board_id=remote.board_id,
                section_id=remote.section_id,
                media_hash=media.sha256 if media else None,
                fields=fields,
                published_at=remote.created_at,
                protect=target.protect,
            )
            state.pins[key] = record
            self.store.write(state)
            return record
