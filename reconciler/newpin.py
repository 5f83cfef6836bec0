"""`pinops new`: a pin manifest started from a media file.

The id comes from the file name, the board from the _defaults.yaml files above the new manifest,
and the file is checked as validation would check it (type by its bytes, dimensions, length) before
anything is written. An existing file is never overwritten.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reconciler import jinjafilters, manifest, media, mediaprobe, repofiles, templating
from reconciler.config import Config
from reconciler.errors import InputError, Location, Problem, ValidationFailed
from reconciler.providers.base import Capabilities

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
SCHEMA = "schemas/pin-file.schema.json"


@dataclass(frozen=True)
class Scaffold:
    path: Path  # the manifest to write
    name: str  # its path as shown to users
    text: str
    warnings: list[Problem]


def scaffold(
    config: Config,
    media_file: Path,
    capabilities: Callable[[str], Capabilities],
    *,
    pin_id: str | None = None,
    board: str | None = None,
    out: Path | None = None,
) -> Scaffold:
    """The manifest `pinops new` would write for `media_file`; InputError when it cannot."""
    root = config.root.resolve()
    real = media_file.resolve()
    if not real.is_relative_to(root):
        raise InputError(
            f"{media_file} is outside the repository",
            hint="copy it into the repository first, e.g. into pins/media/",
        )
    shown = config.relative(real)
    if not real.is_file():
        raise InputError(f"{shown} is not a file", hint="give the path of an image or video")
    pin_id = pin_id or jinjafilters.slug(real.stem)
    if not _ID.match(pin_id) or len(pin_id) > 100:
        raise InputError(
            f"cannot make a pin id from the file name {real.name!r}",
            hint="pass one with --id, e.g. --id summer-lamp",
        )
    path = (out.resolve() if out else _beside(real, pin_id)).resolve()
    _check_destination(config, path)
    written = Path(os.path.relpath(real, path.parent)).as_posix()
    try:
        info = mediaprobe.inspect_media(
            repofiles.resolve_repo_file(config.root, path, written), config.root
        )
    except (repofiles.MediaPathError, mediaprobe.MediaTypeError) as exc:
        raise InputError(exc.message, location=Location(shown), hint=exc.hint) from None
    manifests, _ = manifest.load(config)
    _check_unused(manifests, config, pin_id)
    defaults, origins = templating.folder_defaults(manifests, path.parent)
    account = defaults.get("account", config.default_account)
    if account not in config.accounts:
        account = config.default_account
    caps = capabilities(config.accounts[account].provider)
    field = "video" if info.kind == "video" else "image"
    found = [
        Problem(Location(shown), p.message + caps.source(p.about), p.hint, p.severity)
        for p in media.media_problems(info, caps.media_limits, field, caps.name)
    ]
    if any(p.severity == "error" for p in found):
        raise ValidationFailed(found)
    lines = [
        f"# yaml-language-server: $schema={os.path.relpath(root / SCHEMA, path.parent)}",
        f"id: {pin_id}",
        f"title: {_title(real.stem)}",
        f"# description: what the pin is about, at most {caps.text_limits.description} characters",
        "# link: https://example.com/the-page-the-pin-leads-to",
        "# alt_text: what the image shows, for people using screen readers",
        f"{field}: {_quoted(written)}",
    ]
    if field == "video":
        lines.append("cover_frame: 0                 # or cover: an image file")
    if board:
        lines.append(f"board: {_quoted(board)}")
    elif "board" in defaults or "boards" in defaults:
        name = "board" if "board" in defaults else "boards"
        lines.append(f"# {name}: {defaults[name]} (from {origins[name].file})")
    else:
        raise InputError(
            f"no board for the pin: no _defaults.yaml above {config.relative(path)} sets one",
            hint="pass --board NAME, or set board: in a _defaults.yaml",
        )
    return Scaffold(path, config.relative(path), "\n".join(lines) + "\n", found)


def write(made: Scaffold) -> None:
    """Create the manifest; refuse if a file of that name appeared meanwhile."""
    made.path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with made.path.open("x", encoding="utf-8") as file:
            file.write(made.text)
    except FileExistsError:
        raise InputError(f"{made.name} already exists", hint="choose another with --out") from None


def _beside(media_file: Path, pin_id: str) -> Path:
    """Next to the media file, or beside the `media/` folder that holds it."""
    folder = media_file.parent
    if folder.name == "media":
        folder = folder.parent
    return folder / f"{pin_id}.yaml"


def _check_destination(config: Config, path: Path) -> None:
    shown = config.relative(path)
    if not path.is_relative_to(config.pins_dir.resolve()):
        raise InputError(
            f"{shown} is not under {config.relative(config.pins_dir)}, where manifests are read",
            hint=f"pass --out {config.relative(config.pins_dir)}/NAME.yaml",
        )
    if path.suffix not in manifest.SUFFIXES or path.name == manifest.DEFAULTS_FILE:
        raise InputError(f"{shown} is not a manifest name", hint="end it in .yaml")
    if path.exists() or path.is_symlink():
        raise InputError(
            f"{shown} already exists; pinops new never overwrites a file",
            hint="edit it, or choose another name with --out",
        )


def _check_unused(manifests: list[manifest.Manifest], config: Config, pin_id: str) -> None:
    pins, _ = templating.expand(manifests, config)
    for pin in pins:
        if pin.id == pin_id:
            raise InputError(
                f"the id '{pin_id}' is already used at {pin.location}",
                hint="choose another with --id",
            )


def _title(stem: str) -> str:
    words = re.sub(r"[-_.\s]+", " ", stem).strip()
    return _quoted(words[:1].upper() + words[1:] if words else stem)


def _quoted(text: str) -> str:
    """`text` as a YAML scalar: plain when that reads back the same, else double-quoted."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ._/-]*", text) and text.lower() not in _YAML_WORDS:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n"})
