"""OpenAPI documents as JSON Schema, so that tests can check emulator bodies against them.

    spec = Spec(REFERENCE / "postpeer" / "openapi.json")
    spec.check(body, "PostPayload")                                  # a component schema
    spec.check_request(body, "/v1/posts/", "post")                   # an operation's request
    spec.check_response(body, "/v1/posts/{postId}", "get", 200)      # an operation's response

OpenAPI 3.0 documents are read as JSON Schema draft 4 (with `nullable: true` turned into "or
null"); 3.1 documents are JSON Schema 2020-12 already. $refs resolve inside the document.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator, Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4, DRAFT202012

# Excerpts of the services' own documents, kept in the repository (see tests/reference/README.md).
REFERENCE = Path(__file__).resolve().parents[1] / "reference"


def _nullable_as_null(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` in JSON Schema terms: the value may also be null."""
    if isinstance(node, list):
        return [_nullable_as_null(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _nullable_as_null(value) for key, value in node.items()}
    if converted.get("nullable") is True:
        del converted["nullable"]
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def _pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


class Spec:
    """One OpenAPI document (JSON or YAML), its schemas usable as JSON Schema."""

    def __init__(self, path: Path, *, dialect: str | None = None) -> None:
        """dialect: "3.0" or "3.1" when the schemas are written in another dialect than the
        document's `openapi` field says (RelayAPI's "3.1.0" document writes 3.0 `nullable`)."""
        text = path.read_text(encoding="utf-8")
        # libyaml parses Zernio's 2.3 MB document in seconds where pure Python takes twenty.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=loader)
        self.uri = f"urn:openapi:{path.parent.name}"
        if (dialect or str(document.get("openapi", ""))).startswith("3.0"):
            self.document = _nullable_as_null(document)
            resource = DRAFT4.create_resource(self.document)
            self._validator: type[Draft4Validator | Draft202012Validator] = Draft4Validator
        else:
            self.document = document
            resource = DRAFT202012.create_resource(self.document)
            self._validator = Draft202012Validator
        self._registry = Registry().with_resource(self.uri, resource)

    def errors(self, instance: object, pointer: str) -> list[str]:
        """Where and why `instance` is invalid against the schema at `pointer` in the document."""
        validator = self._validator({"$ref": f"{self.uri}#{pointer}"}, registry=self._registry)
        return [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(instance)]

    def check(self, instance: object, schema: str) -> None:
        """Assert `instance` is valid against the component schema named `schema`."""
        assert self.errors(instance, _pointer("components", "schemas", schema)) == []

    def valid(self, instance: object, schema: str) -> bool:
        return not self.errors(instance, _pointer("components", "schemas", schema))

    def request_errors(self, instance: object, path: str, method: str) -> list[str]:
        media = "application/json"
        pointer = _pointer("paths", path, method, "requestBody", "content", media, "schema")
        return self.errors(instance, pointer)

    def check_request(self, instance: object, path: str, method: str) -> None:
        """Assert `instance` is a valid JSON request body of the operation `method path`."""
        assert self.request_errors(instance, path, method) == []

    def check_response(self, instance: object, path: str, method: str, status: int) -> None:
        """Assert `instance` is valid against an operation's (inline) JSON response schema."""
        media = "application/json"
        pointer = _pointer("paths", path, method, "responses", str(status), "content", media)
        assert self.errors(instance, pointer + "/schema") == []

    def properties(self, schema: str) -> set[str]:
        """The property names a component schema defines, through allOf and $ref."""
        return self._properties(self.document["components"]["schemas"][schema])

    def _properties(self, node: dict[str, Any]) -> set[str]:
        if "$ref" in node:
            return self.properties(node["$ref"].rsplit("/", 1)[1])
        names = set(node.get("properties", {}))
        for part in node.get("allOf", []):
            names |= self._properties(part)
        return names

    def check_fields(self, instance: dict[str, Any], schema: str) -> None:
        """Assert `instance` uses only field names that `schema` defines."""
        assert set(instance) <= self.properties(schema), set(instance) - self.properties(schema)
