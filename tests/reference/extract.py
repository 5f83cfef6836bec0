"""Refresh the excerpts of the providers' OpenAPI documents that the tests check bodies against.

    python tests/reference/extract.py PATH/TO/reference

PATH/TO/reference holds the unmodified documents (pinterest-v5/openapi.json, postpeer/openapi.json,
relayapi/openapi.json, zernio/openapi.yaml). For each, only the nodes the tests name below are kept,
with every schema they reach through `$ref`, so the excerpt validates exactly as the whole document
does. The tests read the excerpts only; this script is for maintainers updating them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent

# The nodes the tests validate against, by JSON pointer. Add one here when a test needs it.
RESPONSE = "content/application~1json/schema"
REQUEST = "requestBody/content/application~1json/schema"
POINTERS: dict[str, tuple[str, list[str]]] = {
    "pinterest-v5": (
        "openapi.json",
        [
            *(
                f"/components/schemas/{name}"
                for name in [
                    "Board",
                    "BoardBase",
                    "BoardMedia",
                    "BoardSection",
                    "Error",
                    "Media",
                    "MediaUpload",
                    "MediaUploadCreate",
                    "MediaUploadParameters",
                    "OauthAccessTokenRequestRefresh",
                    "OauthAccessTokenResponse",
                    "OauthAccessTokenResponseRefresh",
                    "Pin",
                    "PinCreate",
                    "PinMediaWithImage",
                    "PinMediaWithVideo",
                    "PinUpdate",
                ]
            ),
            f"/paths/~1boards/get/responses/200/{RESPONSE}",
            f"/paths/~1boards~1{{board_id}}~1pins/get/responses/200/{RESPONSE}",
            f"/paths/~1boards~1{{board_id}}~1sections/get/responses/200/{RESPONSE}",
        ],
    ),
    "postpeer": (
        "openapi.json",
        [
            "/components/schemas/ErrorResponse",
            f"/paths/~1v1~1media~1upload/post/{REQUEST}",
            f"/paths/~1v1~1media~1upload/post/responses/200/{RESPONSE}",
            f"/paths/~1v1~1pinterest~1boards/get/responses/200/{RESPONSE}",
            f"/paths/~1v1~1posts~1/get/responses/200/{RESPONSE}",
            f"/paths/~1v1~1posts~1/post/{REQUEST}",
            f"/paths/~1v1~1posts~1/post/responses/400/{RESPONSE}",
            f"/paths/~1v1~1posts~1{{postId}}/delete/responses/200/{RESPONSE}",
            f"/paths/~1v1~1posts~1{{postId}}/get/responses/200/{RESPONSE}",
            f"/paths/~1v1~1posts~1{{postId}}/get/responses/404/{RESPONSE}",
        ],
    ),
    "relayapi": (
        "openapi.json",
        [
            "/components/schemas/PinterestTargetOptions",
            "/components/schemas/PostMediaItem",
            f"/paths/~1v1~1accounts~1{{id}}~1pinterest-boards/get/responses/200/{RESPONSE}",
            f"/paths/~1v1~1media~1confirm/post/responses/200/{RESPONSE}",
            f"/paths/~1v1~1media~1confirm/post/responses/404/{RESPONSE}",
            f"/paths/~1v1~1media~1presign/post/responses/200/{RESPONSE}",
            f"/paths/~1v1~1posts/get/responses/200/{RESPONSE}",
            f"/paths/~1v1~1posts/get/responses/401/{RESPONSE}",
            f"/paths/~1v1~1posts/post/{REQUEST}",
            f"/paths/~1v1~1posts/post/responses/201/{RESPONSE}",
            f"/paths/~1v1~1posts/post/responses/400/{RESPONSE}",
            f"/paths/~1v1~1posts~1{{id}}/get/responses/200/{RESPONSE}",
            f"/paths/~1v1~1posts~1{{id}}/get/responses/404/{RESPONSE}",
            f"/paths/~1v1~1posts~1{{id}}~1unpublish/post/responses/200/{RESPONSE}",
        ],
    ),
    "zernio": (
        "openapi.yaml",
        [
            f"/components/responses/NotFound/{RESPONSE}",
            f"/components/responses/Unauthorized/{RESPONSE}",
            "/components/schemas/ErrorResponse",
            "/components/schemas/MediaItem",
            "/components/schemas/PinterestPlatformData",
            f"/paths/~1v1~1accounts~1{{accountId}}~1pinterest-boards/get/responses/200/{RESPONSE}",
            f"/paths/~1v1~1media~1presign/post/responses/200/{RESPONSE}",
            f"/paths/~1v1~1media~1presign/post/responses/400/{RESPONSE}",
            f"/paths/~1v1~1posts/get/responses/200/{RESPONSE}",
            f"/paths/~1v1~1posts/post/{REQUEST}",
            f"/paths/~1v1~1posts/post/responses/201/{RESPONSE}",
            f"/paths/~1v1~1posts/post/responses/400/{RESPONSE}",
            f"/paths/~1v1~1posts/post/responses/409/{RESPONSE}",
            f"/paths/~1v1~1posts~1{{postId}}/delete/responses/200/{RESPONSE}",
            f"/paths/~1v1~1posts~1{{postId}}/get/responses/200/{RESPONSE}",
            f"/paths/~1v1~1posts~1{{postId}}~1unpublish/post/responses/200/{RESPONSE}",
        ],
    ),
}


def _parts(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"][1:]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def excerpt(document: dict[str, Any], pointers: list[str]) -> dict[str, Any]:
    """The document's header and the nodes at `pointers`, closed over `$ref`."""
    out: dict[str, Any] = {key: document[key] for key in ("openapi", "info") if key in document}
    pending, seen = list(pointers), set()
    while pending:
        pointer = pending.pop()
        if pointer in seen:
            continue
        seen.add(pointer)
        source, target, parts = document, out, _parts(pointer)
        for part in parts[:-1]:
            source = source[part]
            target = target.setdefault(part, {})
        target[parts[-1]] = source[parts[-1]]
        pending.extend(_refs(source[parts[-1]]))
    return out


def main(reference: Path) -> None:
    for name, (filename, pointers) in POINTERS.items():
        path = reference / name / filename
        text = path.read_text(encoding="utf-8")
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document = json.loads(text) if filename.endswith(".json") else yaml.load(text, loader)
        target = HERE / name / "openapi.json"
        target.parent.mkdir(exist_ok=True)
        body = json.dumps(excerpt(document, pointers), indent=1, sort_keys=True, default=str)
        target.write_text(body + "\n", encoding="utf-8")
        print(f"{target.relative_to(HERE)}: {len(body):,} bytes from {len(text):,}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
