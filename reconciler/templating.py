"""From manifests to pins: the defaults cascade.

Folder `_defaults.yaml` files apply to everything below them, the nearer folder winning; then a
file's own `defaults:`; the pin's own fields win last. Every effective field remembers the place
it was declared, so errors point at the line a user must change and relative media paths resolve
from the file that declared them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.errors import Location
from reconciler.manifest import Manifest, Pin
from reconciler.yamlsafe import JsonPath

Layer = tuple[dict[str, Any], dict[str, Location]]

# Fields that stand for one another: a nearer layer setting one overrides the others too.
ALTERNATIVES = ({"board", "boards"}, {"image", "video"}, {"cover", "cover_frame"})


def expand(manifests: list[Manifest]) -> list[Pin]:
    """Every pin the manifests declare, with defaults applied, in file order."""
    folder_layers = {m.path.parent: _layer(m, ("defaults",)) for m in manifests if m.is_defaults}
    pins: list[Pin] = []
    for manifest in manifests:
        if manifest.is_defaults:
            continue
        inherited = [folder_layers[f] for f in _folders(manifest.path) if f in folder_layers]
        data = manifest.data
        if "id" in data:
            entries: list[JsonPath] = [()]
        else:
            inherited.append(_layer(manifest, ("defaults",)))
            entries = [("pins", i) for i in range(len(data.get("pins", [])))]
        for path in entries:
            fields: dict[str, Any] = {}
            origins: dict[str, Location] = {}
            for layer_fields, layer_origins in [*inherited, _layer(manifest, path)]:
                for group in ALTERNATIVES:
                    if group & layer_fields.keys():
                        for name in group - layer_fields.keys():
                            fields.pop(name, None)
                            origins.pop(name, None)
                fields.update(layer_fields)
                origins.update(layer_origins)
            pin_id = fields.pop("id")
            origins.pop("id")
            pins.append(Pin(pin_id, manifest.document.location((*path, "id")), fields, origins))
    return pins


def _folders(path: Path) -> list[Path]:
    """The folders holding `path`, outermost first."""
    return list(reversed(path.parents))


def _layer(manifest: Manifest, path: JsonPath) -> Layer:
    node: Any = manifest.data
    for part in path:
        node = node.get(part) if isinstance(node, dict) else node[part]
    if not isinstance(node, dict):
        return {}, {}
    return dict(node), {key: manifest.document.location((*path, key)) for key in node}
