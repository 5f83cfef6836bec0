"""Whole answers of `pinops plan`, remembered across runs while nothing they depend on changes.

An answer (what the plan printed, and its exit code) is keyed on all it was derived from: the
bytes of every file in the repository but `.git/` and `.pinops/` (manifests, `_defaults.yaml`,
data files, media, pinops.yaml, the state file and its journal), the repository's absolute path,
the options asked and whether output goes to a terminal, the whole environment (credentials decide
what is masked, variables where the provider is allowed to connect), and the code (every file of
pinops and its schemas, the libraries it loads, Python). So a stale answer cannot be found: any
change leads to another key.

The check is cheap: the repository's files are listed with their stats (size, inode, device,
modification and change times). A file whose stats are as recorded keeps the digest recorded with
them (filedigests.py); any other is read and hashed again, so a fresh checkout of the same bytes is
still answered.
A plan that asked a provider, or that depends on the clock beyond a known `publish_at` coming due,
is not remembered; one that waits for a `publish_at` is remembered only until then.

Entries live in the cache folder outside the repository (see cache.py), so a pull request cannot
plant one; a damaged or unreadable entry is a miss.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from reconciler.cache import Cache, file_identity, folder, pinops_stamp
from reconciler.filedigests import Digests
from reconciler.redact import redact

if TYPE_CHECKING:
    from reconciler.config import Config
    from reconciler.providers.base import Capabilities
    from reconciler.workspace import Planned

# Not inputs of a plan: git's own files, and the sandbox accounts and the state lock.
_SKIPPED = frozenset({".git", ".pinops"})
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Answer:
    out: str
    err: str
    code: int


class Remembered:
    """The answer to one question about one repository, as its files are now."""

    def __init__(self, root: Path, question: str, store: Cache, files: Cache) -> None:
        self.root = root
        self.question = question
        self._answers = store
        self._files = files
        self._key: str | None = None
        self._seen: dict[str, str] = {}

    @classmethod
    def open(cls, root: Path, question: str) -> Remembered | None:
        """None when the cache is off."""
        base = folder()
        if base is None:
            return None
        return cls(root, question, Cache(base, "answers"), Cache(base, "files"))

    def key(self) -> str | None:
        """The key of the answer for the files as they are; None if they cannot be told apart
        by their bytes (a folder reached through a symbolic link)."""
        if self._key is None:
            listed = _listing(self.root)
            fingerprint = None if listed is None else _fingerprint(self.root, listed, self._files)
            if listed is None or fingerprint is None:
                return None
            self._seen = {name: file_identity(found) for name, found in listed.items()}
            digest = hashlib.sha256(pinops_stamp().encode())
            environment = json.dumps(sorted(os.environ.items()))
            for part in (str(self.root), fingerprint, self.question, environment):
                data = part.encode(errors="surrogateescape")
                digest.update(len(data).to_bytes(8, "big") + data)
            self._key = digest.hexdigest()
        return self._key

    def get(self) -> Answer | None:
        key = self.key()
        found = self._answers.get(key) if key else None
        if not (isinstance(found, tuple) and len(found) == 4):
            return None
        out, err, code, until = found
        if time.time() >= until:
            return None
        return Answer(out, err, code)

    def put(self, answer: Answer, until: float) -> None:
        """Keep `answer` until the time `until` (seconds since the epoch; inf: while the files
        stay as they were when this run began)."""
        key = self.key()
        if key is None or until <= time.time():
            return
        # A file changed while the plan was made: the answer may hold some of its new bytes.
        now = _listing(self.root)
        if now is None or {name: file_identity(found) for name, found in now.items()} != self._seen:
            return
        self._answers.put(key, (answer.out, answer.err, answer.code, until))


def lifetime(
    planned: Planned, config: Config, capabilities: Callable[[str], Capabilities], since: float
) -> float:
    """Until when a plan made at `since` (seconds since the epoch) stays true of the same files:
    inf, or the first moment a `publish_at` comes due or into a provider's reach; `since` when
    the plan depends on more than the files (pacing, publications in flight, which the provider
    is asked about), so that it is not remembered."""
    if any(account.pace for account in config.accounts.values()):
        return since
    if any(r.intent or r.status != "published" for r in planned.state.pins.values()):
        return since
    until = math.inf
    for target in planned.desired.targets.values():
        if target.publish_at is None:
            continue
        due = target.publish_at.timestamp()
        horizon = capabilities(config.accounts[target.account].provider).schedule_horizon
        for moment in (due, due - horizon if horizon is not None else due):
            if moment > since:
                until = min(until, moment)
    return until


@contextmanager
def recording() -> Iterator[Callable[[int], Answer]]:
    """Everything printed inside the block goes out as usual and is also kept; the block's
    value makes the Answer of it with an exit code."""
    out, err = io.StringIO(), io.StringIO()
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Tee(real_out, out), _Tee(real_err, err)
    try:
        # Kept as shown: masked, so that no secret is written to the cache.
        yield lambda code: Answer(redact(out.getvalue()), redact(err.getvalue()), code)
    finally:
        sys.stdout, sys.stderr = real_out, real_err


class _Tee:
    """A text stream that writes to `shown` and keeps a copy in `kept`."""

    def __init__(self, shown: TextIO, kept: io.StringIO) -> None:
        self.shown = shown
        self.kept = kept

    def write(self, text: str) -> int:
        self.kept.write(text)
        return self.shown.write(text)

    def flush(self) -> None:
        self.shown.flush()

    def isatty(self) -> bool:
        return self.shown.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.shown, name)


def _fingerprint(root: Path, listed: dict[str, os.stat_result], files: Cache) -> str | None:
    """A digest of the `listed` files by path and bytes; None if one changed while read."""
    digests = Digests(files, f"files of {root}")
    for name, found in listed.items():
        if digests.get(name, found) is not None:
            continue
        digest = _digest(root / name, found)
        try:
            if file_identity((root / name).stat()) != file_identity(found):
                return None
        except OSError:
            return None
        digests.put(name, found, digest)
    digests.save()
    whole = hashlib.sha256()
    for name in sorted(digests.found):
        whole.update(f"{name}\0{digests.found[name][1]}\n".encode(errors="surrogateescape"))
    return whole.hexdigest()


def _listing(root: Path) -> dict[str, os.stat_result] | None:
    """The stats of every file below `root` by relative path; None if a folder is reached
    through a symbolic link, whose contents could change without any stat here changing."""
    found: dict[str, os.stat_result] = {}
    pending = [("", str(root))]
    while pending:
        prefix, path = pending.pop()
        with os.scandir(path) as entries:
            for entry in entries:
                name = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    if not (prefix == "" and entry.name in _SKIPPED):
                        pending.append((name + "/", entry.path))
                    continue
                try:
                    target = Path(entry.path).stat()
                except OSError:
                    target = entry.stat(follow_symlinks=False)  # a dangling link
                if stat.S_ISDIR(target.st_mode):
                    return None
                found[name] = target
    return found


def _digest(path: Path, found: os.stat_result) -> str:
    if path.is_symlink():
        # Never read through: a link inside the repository names a file listed on its own, and
        # one leading out is refused by the plan (whose errors are never remembered).
        return f"link to {path.readlink()}"
    if not stat.S_ISREG(found.st_mode):
        return f"not a file ({stat.S_IFMT(found.st_mode)})"  # never opened: it may be a FIFO
    digest = hashlib.sha256()
    try:
        with path.open("rb") as file:
            while chunk := file.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        return f"unreadable ({exc.errno})"
    return digest.hexdigest()
