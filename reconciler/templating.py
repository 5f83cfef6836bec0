"""From manifests to pins: the defaults cascade, `vars`, `generate:`, templates, link parameters.

Folder `_defaults.yaml` files apply to everything below them, the nearer folder winning; then a
file's own `defaults:`; the pin's own fields win last. `vars:` cascade the same way, starting from
pinops.yaml. Then each pin's templates are expanded (see jinjasafe) over the vars, the pin's own
fields as `pin` and, for a pin made by `generate:`, its data row as `row`; a value that came from a
template is checked as if it had been written out. `link_params` from defaults are added last.

Every effective field remembers the place it (or its template) was declared, so errors point at the
line a user must change and relative media paths resolve from the file that declared them.
"""

from __future__ import annotations

import fnmatch
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from reconciler import generate, jinjabounds, jinjasafe, manifest, schema
from reconciler.config import Config
from reconciler.errors import Location, Problem
from reconciler.manifest import Manifest, Pin
from reconciler.yamlsafe import JsonPath

# Fields that stand for one another: a nearer layer setting one overrides the others too.
ALTERNATIVES = ({"board", "boards"}, {"image", "video"}, {"cover", "cover_frame"})
LINK_PARAMS = "link_params"

Report = Callable[[Problem, str], None]


@dataclass(frozen=True)
class _Layer:
    """The fields one place declares (a defaults block, a pin), with where each was written."""

    fields: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, Location] = field(default_factory=dict)
    params: dict[str, tuple[Any, Location]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Declared:
    """A pin after the cascade, before its templates are expanded."""

    location: Location
    fields: dict[str, Any]  # `id` included
    origins: dict[str, Location]
    params: dict[str, tuple[Any, Location]]
    context: dict[str, Any]  # what its templates can read besides `pin`
    source: str = ""


def load(config: Config) -> tuple[list[Pin], list[Problem]]:
    """Read, schema-check and expand every manifest; problems are collected, not raised."""
    manifests, problems = manifest.load(config)
    pins, found = expand(manifests, config)
    return pins, problems + found


def matching(pins: list[Pin], patterns: list[str]) -> list[Pin]:
    """The pins whose ids match any of the shell-style `patterns`; all of them when none given."""
    if not patterns:
        return pins
    return [pin for pin in pins if any(fnmatch.fnmatchcase(pin.id, p) for p in patterns)]


def expand(
    manifests: list[Manifest], config: Config, budget: jinjabounds.Budget | None = None
) -> tuple[list[Pin], list[Problem]]:
    """Every pin the manifests declare or generate, expanded, in file order; and the problems of
    those that could not be expanded (which are left out). The templates spend `budget` (by
    default a new one): one budget for every template of a run."""
    folders = {m.path.parent: m for m in manifests if m.is_defaults}
    pins: list[Pin] = []
    problems: list[Problem] = []

    def report(problem: Problem, _source: str) -> None:
        problems.append(problem)

    if budget is None:
        budget = jinjabounds.Budget()

    for source in manifests:
        if source.is_defaults:
            continue
        chain = [folders[f] for f in _folders(source.path) if f in folders]
        layers = [_layer(m, ("defaults",)) for m in chain]
        scope = dict(config.vars)
        for m in chain:
            scope.update(_vars(m))
        data = source.data
        if "id" in data:
            entries: list[JsonPath] = [()]
        else:
            layers.append(_layer(source, ("defaults",)))
            scope.update(_vars(source))
            entries = [("pins", i) for i in range(len(data.get("pins", [])))]
        scope[jinjabounds.BUDGET_VAR] = budget
        for path in entries:
            location = source.document.location((*path, "id"))
            declared = _cascade([*layers, _layer(source, path)], location, scope)
            _add(pins, _Expansion(declared, report).pin())
        if isinstance(data.get("generate"), dict):
            generated, found = _generate(config, source, layers, scope)
            pins += generated
            problems += found
    return pins, problems


def folder_defaults(
    manifests: list[Manifest], folder: Path
) -> tuple[dict[str, Any], dict[str, Location]]:
    """The defaults (as written, with their places) that a new manifest in `folder` would get from
    the _defaults.yaml files at and above it."""
    folders = {m.path.parent: m for m in manifests if m.is_defaults}
    chain = [folders[f] for f in _folders(folder / manifest.DEFAULTS_FILE) if f in folders]
    declared = _cascade([_layer(m, ("defaults",)) for m in chain], Location(""), {})
    return declared.fields, declared.origins


def _add(pins: list[Pin], pin: Pin | None) -> None:
    if pin is not None:
        pins.append(pin)


def _generate(
    config: Config, source: Manifest, layers: list[_Layer], scope: dict[str, Any]
) -> tuple[list[Pin], list[Problem]]:
    spec = source.data["generate"]
    document = source.document
    id_template = spec["pin"]["id"]
    id_location = document.location(("generate", "pin", "id"))
    hint = 'e.g. id: "product-{{ row.sku }}"'
    try:
        over_row = jinjasafe.is_template(id_template) and jinjasafe.uses(id_template, "row")
    except jinjasafe.TemplateFailure as exc:
        return [], [Problem(id_location, f"id: {exc.message}", exc.hint)]
    if not over_row:
        message = "the id of generated pins must be a template over the row"
        return [], [Problem(id_location, message, f"make each row's id unique, {hint}")]
    data = generate.read(config, source.path, spec["from"], document.location(("generate", "from")))
    if isinstance(data, Problem):
        return [], [data]
    location = document.location(("generate",), key=True)
    template = _layer(source, ("generate", "pin"))
    repeated = _Repeated()
    pins: list[Pin] = []
    for row in data.rows:
        label = data.row_label(row)
        context = {**scope, "row": jinjasafe.Namespace("the row", "column", row.values)}
        declared = _cascade([*layers, template], location, context, label)
        _add(pins, _Expansion(declared, repeated.add).pin())
    return pins, repeated.problems()


class _Repeated:
    """Problems of generated pins, each reported once with the first row it occurred in and how
    many more: a typo in a template must not print a line per row."""

    def __init__(self) -> None:
        self.seen: dict[Problem, tuple[str, int]] = {}

    def add(self, problem: Problem, source: str) -> None:
        first, count = self.seen.get(problem, (source, 0))
        self.seen[problem] = (first, count + 1)

    def problems(self) -> list[Problem]:
        found = []
        for problem, (first, count) in self.seen.items():
            more = f" and {count - 1} more row{'' if count == 2 else 's'}" if count > 1 else ""
            found.append(
                Problem(problem.location, f"{first}{more}: {problem.message}", problem.hint)
            )
        return found


def _cascade(
    layers: list[_Layer], location: Location, context: dict[str, Any], source: str = ""
) -> _Declared:
    fields: dict[str, Any] = {}
    origins: dict[str, Location] = {}
    params: dict[str, tuple[Any, Location]] = {}
    for layer in layers:
        for group in ALTERNATIVES:
            if group & layer.fields.keys():
                for name in group - layer.fields.keys():
                    fields.pop(name, None)
                    origins.pop(name, None)
        fields.update(layer.fields)
        origins.update(layer.origins)
        for name, (value, origin) in layer.params.items():
            if value is None:
                params.pop(name, None)
            else:
                params[name] = (value, origin)
    return _Declared(location, fields, origins, params, context, source)


class _Failed(jinjasafe.TemplateFailure):
    """A field that failed to expand, already reported where it failed."""

    def __init__(self) -> None:
        super().__init__("already reported")


class _Expansion:
    """Expands one pin's templates, each field once and in whatever order they need one another:
    a template reading `pin.title` expands title first. A loop between fields is an error."""

    def __init__(self, declared: _Declared, report: Report) -> None:
        self.declared = declared
        self.report = report
        self.done: dict[str, Any] = {}
        self.failed: set[str] = set()
        self.active: list[str] = []
        self.templated: set[str] = set()

    @cached_property
    def context(self) -> dict[str, Any]:
        """What the pin's templates read, made for the first of them: most pins have none."""
        return {
            **self.declared.context,
            "pin": jinjasafe.Namespace("the pin", "field", _PinFields(self)),
        }

    def problem(self, location: Location, message: str, hint: str) -> None:
        self.report(Problem(location, message, hint), self.declared.source)

    def pin(self) -> Pin | None:
        declared = self.declared
        expanded = True
        for name, raw in declared.fields.items():
            if name in self.done:
                continue
            if not isinstance(raw, (str, list)) or (
                isinstance(raw, str) and not jinjasafe.is_template(raw)
            ):
                self.done[name] = raw  # written out in full: nothing to expand
                continue
            try:
                self.value(name)
            except _Failed:
                expanded = False
        if not expanded:
            return None
        fields = {name: self.done[name] for name in declared.fields}
        origins = dict(declared.origins)
        if declared.params and isinstance(fields.get("link"), str):
            params = self._params()
            if params is None:
                return None
            fields["link"] = with_params(fields["link"], params)
            self.templated.add("link")
        problems = [
            problem
            for name in sorted(self.templated)
            for problem in schema.check_expanded(name, fields[name], origins[name])
        ]
        for problem in problems:
            self.problem(problem.location, problem.message, problem.hint)
        if problems:
            return None
        pin_id = str(fields.pop("id"))
        origins.pop("id")
        return Pin(pin_id, declared.location, fields, origins, declared.source)

    def value(self, name: str) -> Any:
        """The expanded value of field `name`; _Failed if it failed (and was reported)."""
        if name in self.done:
            return self.done[name]
        if name in self.failed:
            raise _Failed
        if name in self.active:
            loop = " → ".join([*self.active[self.active.index(name) :], name])
            raise jinjasafe.TemplateFailure(
                f"templates refer to each other in a loop: {loop}",
                "write one of them out in full",
            )
        self.active.append(name)
        try:
            result = self._expand(name, self.declared.fields[name])
        except _Failed:
            self.failed.add(name)
            raise
        except jinjasafe.TemplateFailure as exc:
            self.failed.add(name)
            self.problem(self.declared.origins[name], f"{name}: {exc.message}", exc.hint)
            raise _Failed from None
        finally:
            self.active.pop()
        self.done[name] = result
        return result

    def _expand(self, name: str, raw: Any) -> Any:
        if isinstance(raw, list):
            return [self._expand(name, item) for item in raw]
        if isinstance(raw, str) and jinjasafe.is_template(raw):
            self.templated.add(name)
            return jinjasafe.render(raw, self.context, name)
        return raw

    def _params(self) -> dict[str, str] | None:
        params: dict[str, str] = {}
        for key, (raw, origin) in self.declared.params.items():
            text = str(raw)
            try:
                params[key] = (
                    jinjasafe.render(text, self.context, LINK_PARAMS)
                    if jinjasafe.is_template(text)
                    else text
                )
            except _Failed:
                return None
            except jinjasafe.TemplateFailure as exc:
                self.problem(origin, f"{LINK_PARAMS}.{key}: {exc.message}", exc.hint)
                return None
        return params


class _PinFields(Mapping[str, Any]):
    """A pin's fields as its templates read them: expanded on first use."""

    def __init__(self, expansion: _Expansion) -> None:
        # Weakly: the expansion holds this in its context, and a cycle would keep every pin's
        # expansion (its fields, origins and context) alive until the collector found it.
        self.expansion = weakref.proxy(expansion)

    def __getitem__(self, name: str) -> Any:
        if name not in self.expansion.declared.fields:
            raise KeyError(name)
        return self.expansion.value(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.expansion.declared.fields)

    def __len__(self) -> int:
        return len(self.expansion.declared.fields)


def with_params(link: str, params: Mapping[str, str]) -> str:
    """`link` with the query parameters it lacks appended, in order; a parameter the link already
    has keeps the link's value. The link is otherwise left exactly as written."""
    present = {key for key, _ in parse_qsl(urlsplit(link).query, keep_blank_values=True)}
    added = urlencode([(key, value) for key, value in params.items() if key not in present])
    if not added:
        return link
    base, hash_mark, fragment = link.partition("#")
    if "?" not in base:
        separator = "?"
    elif base.endswith(("?", "&")):
        separator = ""
    else:
        separator = "&"
    return f"{base}{separator}{added}{hash_mark}{fragment}"


def _folders(path: Path) -> list[Path]:
    """The folders holding `path`, outermost first."""
    return list(reversed(path.parents))


def _vars(source: Manifest) -> dict[str, Any]:
    found = source.data.get("vars")
    return dict(found) if isinstance(found, dict) else {}


def _layer(source: Manifest, path: JsonPath) -> _Layer:
    node: Any = source.data
    for part in path:
        node = node.get(part) if isinstance(node, dict) else node[part]
    if not isinstance(node, dict):
        return _Layer()
    fields = dict(node)
    params = fields.pop(LINK_PARAMS, None)
    location = source.document.location
    return _Layer(
        fields,
        {key: location((*path, key)) for key in fields},
        {
            key: (value, location((*path, LINK_PARAMS, key)))
            for key, value in (params.items() if isinstance(params, dict) else ())
        },
    )
