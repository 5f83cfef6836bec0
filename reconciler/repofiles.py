"""Reading the repository's input files without leaving the repository.

Manifests, `_defaults.yaml`, data files, media and pinops.yaml come from pull requests. A path is
resolved (a symlink that stays inside the repository is fine), confined to the repository's real
root, and then opened one component at a time from that root with O_NOFOLLOW: a symlink swapped
in after the check makes the open fail instead of leading outside. The descriptor is opened
non-blocking (a FIFO never hangs the run) and must be a regular file; sizes are taken from it
before anything is read.

A path written in a manifest (a medium, or the data file of `generate:`) is resolved by
`resolve_repo_file` (a run resolving many: by a `Resolver`), whose refusals say how to write the
path instead.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO, Literal

# Not on every platform: where missing, the component walk still refuses what resolve() saw.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


class MediaPathError(Exception):
    """A path in a manifest (a medium, or a data file) that does not lead to a readable file inside
    the repository."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class OutsideRepository(Exception):
    """A path that leads (through a symlink or `..`) out of the repository."""

    def __init__(self, real: Path) -> None:
        super().__init__(str(real))
        self.real = real


class Unreadable(Exception):
    """A file that cannot be read as asked: missing, not regular, too large, or changed."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def confine(root: Path, path: Path) -> Path:
    """The real path of `path`, which must lie inside the real `root`.

    A symlink loop raises RuntimeError before Python 3.13; later ones leave it to the open.
    """
    real_root = root.resolve()
    real = path.resolve()
    if not real.is_relative_to(real_root):
        raise OutsideRepository(real)
    return real


def open_regular(root: Path, real: Path) -> int:
    """A read-only descriptor of the regular file `real` (a path from `confine`), opened one
    component at a time from `root` without following any symlink. The caller closes it."""
    return _open_within(root.resolve(), real)


def _open_within(real_root: Path, real: Path) -> int:
    parts = real.relative_to(real_root).parts
    if not parts:
        raise Unreadable("the path names the repository folder itself")
    try:
        folder = os.open(real_root, os.O_RDONLY | _DIRECTORY)
        try:
            for part in parts[:-1]:
                inner = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=folder)
                os.close(folder)
                folder = inner
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW, dir_fd=folder)
        finally:
            os.close(folder)
    except OSError as exc:
        # ELOOP here: a symlink appeared after the path was checked.
        raise Unreadable(
            f"cannot read it: {exc.strerror}", "check that the file is readable"
        ) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Unreadable(
            "it is not a regular file (a folder, device, FIFO or socket)", "point it at a file"
        )
    return fd


def open_file(root: Path | None, real: Path) -> BinaryIO:
    """`real` (a path from `confine`) opened with `open_regular` from `root`, or from its own
    folder when no root is known."""
    folder = root or real.parent
    fd = open_regular(folder, real if root else folder.resolve() / real.name)
    return os.fdopen(fd, "rb")


def read_bounded(root: Path, real: Path, limit: int) -> bytes:
    """The bytes of the regular file `real`, refused by its size before any of it is read."""
    return _read_within(root.resolve(), real, limit)


def _read_within(real_root: Path, real: Path, limit: int) -> bytes:
    fd = _open_within(real_root, real)
    with os.fdopen(fd, "rb") as file:
        size = os.fstat(fd).st_size
        if size > limit:
            raise Unreadable(
                f"the file is {size:,} bytes; the limit is {limit:,}", "split it into several files"
            )
        try:
            # A buffer of the file's size, not the limit's (8 MiB allocated for every manifest).
            content = file.read(size + 1)
            if len(content) > size:  # it grew since: read on, up to the limit
                content += file.read(limit + 1 - len(content))
        except OSError as exc:
            raise Unreadable(f"cannot read it: {exc.strerror}") from None
    if len(content) > limit:  # grew while it was read
        raise Unreadable(
            f"the file is larger than {limit:,} bytes; the limit is {limit:,}",
            "split it into several files",
        )
    return content


# How refusals name a repository file a manifest points at, and an example of a good path.
_FILE_KINDS = {
    "media": ("media", "media", "media/pasta.jpg", "an image or video file"),
    "data": ("data", "data files", "products.csv", "a CSV, YAML or JSON file"),
}


def resolve_repo_file(
    repo_root: Path, declaring_file: Path, value: str, kind: Literal["media", "data"] = "media"
) -> Path:
    """The real path of the regular file that `value`, written in `declaring_file`, points to: a
    medium, or the data file of `generate:`.

    The path is relative to the declaring file and, after symlinks are followed, must stay inside
    `repo_root`. Nothing is opened, so a FIFO is refused without blocking.
    """
    return Resolver(repo_root).resolve(declaring_file, value, kind)


class Resolver:
    """resolve_repo_file for the paths of one run: the repository's real root, and the real
    folder of each file that declares a path, are found once, not once per path (a catalog's
    one manifest names thousands of media)."""

    def __init__(self, repo_root: Path) -> None:
        self.root = repo_root.resolve()
        self._folders: dict[Path, Path] = {}  # by declaring file
        self._real: dict[Path, Path] = {}  # by folder

    def read(self, path: Path, limit: int) -> bytes:
        """`read_bounded` of the repository's file `path` (a manifest, say), confined as by
        `confine`: its folder's real path is found once a run, and the file's own only when the
        file is a symlink (a catalogue of one pin per file has thousands in a few folders)."""
        real = self._real_file(path)
        if not real.is_relative_to(self.root):
            raise OutsideRepository(real)
        return _read_within(self.root, real, limit)

    def resolve(
        self, declaring_file: Path, value: str, kind: Literal["media", "data"] = "media"
    ) -> Path:
        return _resolve(self.root, self.folder_of(declaring_file), declaring_file.name, value, kind)

    def folder_of(self, declaring_file: Path) -> Path:
        """The real folder of `declaring_file`, which the paths written in it are relative to."""
        folder = self._folders.get(declaring_file)
        if folder is None:
            # A path in a linked file is relative to where it really is.
            folder = self._folders[declaring_file] = self._real_file(declaring_file).parent
        return folder

    def _real_file(self, path: Path) -> Path:
        """`path.resolve()`, with its folder's real path found once a run: the file's own is
        resolved only when it is a symlink."""
        folder = self._real.get(path.parent)
        if folder is None:
            folder = self._real[path.parent] = path.parent.resolve()
        real = folder / path.name
        return real.resolve() if real.is_symlink() else real


def _resolve(
    root: Path, folder: Path, declared_in: str, value: str, kind: Literal["media", "data"]
) -> Path:
    noun, plural, example, wanted = _FILE_KINDS[kind]
    if Path(value).is_absolute():
        raise MediaPathError(
            f"{noun} path {value!r} is absolute",
            f"write it relative to the manifest that declares it, e.g. {example}",
        )
    written = folder / value
    try:
        real = written.resolve()
    # A symlink loop before Python 3.13; later versions leave it to stat() below to report.
    except RuntimeError:
        raise MediaPathError(
            f"{noun} path {value!r} leads into a symlink loop", "fix or remove the symlink"
        ) from None
    if not real.is_relative_to(root):
        if Path(os.path.normpath(written)).is_relative_to(root):
            raise MediaPathError(
                f"{noun} path {value!r} is a symlink to {real}, outside the repository",
                "copy the file into the repository instead of linking to it",
            )
        raise MediaPathError(
            f"{noun} path {value!r} leads outside the repository",
            f"keep {plural} inside the repository, e.g. next to the manifest: {example}",
        )
    try:
        mode = real.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise MediaPathError(
            f"{noun} file {value!r} does not exist",
            f"the path is relative to {declared_in}; check its spelling and folder",
        ) from None
    except OSError as exc:
        raise MediaPathError(
            f"cannot read {noun} file {value!r}: {exc.strerror}", "check that the file is readable"
        ) from None
    if stat.S_ISDIR(mode):
        raise MediaPathError(
            f"{noun} path {value!r} is a folder", f"name a file inside it, e.g. {example}"
        )
    if not stat.S_ISREG(mode):
        raise MediaPathError(
            f"{noun} path {value!r} is not a regular file (a device, FIFO or socket)",
            f"point it at {wanted}",
        )
    return real
