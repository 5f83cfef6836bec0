"""Pin templates: Jinja2 in a hardened sandbox, its filters, and the bounds on what it may build.

Manifests come from strangers' pull requests and templates are expanded on machines that hold
publishing credentials. A template may read the values it is given and use a short list of filters;
nothing else. `ImmutableSandboxedEnvironment` refuses underscore attributes and mutation,
`StrictUndefined` makes a misspelt name an error instead of empty text, and `Limits` bounds what a
template can build (strings, numbers, output) so that it cannot exhaust memory (see jinjabounds);
the filters it may use are in jinjafilters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import (
    StrictUndefined,
    Template,
    TemplateSyntaxError,
    Undefined,
    UndefinedError,
    meta,
    nodes,
    pass_context,
)
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import MAX_RANGE, ImmutableSandboxedEnvironment

from reconciler.jinjabounds import (
    BUDGET_VAR,
    LIMITS,
    Budget,
    budget_of,
    size_of,
    too_big,
    too_large,
)
from reconciler.jinjafilters import FIELD_VAR, FILTERS_HINT, filters

# Every {% for %} iterates through this global, which counts against Limits.steps.
LOOP_VAR = "__loop__"

# String methods a template may call; the rest (center, ljust, zfill, format…) can build huge
# strings from a short template.
_STR_METHODS = frozenset(
    {
        "capitalize",
        "casefold",
        "count",
        "endswith",
        "find",
        "isalnum",
        "isalpha",
        "isdigit",
        "lower",
        "lstrip",
        "removeprefix",
        "removesuffix",
        "rsplit",
        "rstrip",
        "split",
        "startswith",
        "strip",
        "title",
        "upper",
    }
)

# Statements that reach beyond the one template, or that a pin field has no use for.
_REFUSED_NODES: dict[type[nodes.Node], str] = {
    nodes.Extends: "{% extends %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from … import %}",
    nodes.Macro: "{% macro %}",
    nodes.CallBlock: "{% call %}",
    nodes.Block: "{% block %}",
    nodes.ScopedEvalContextModifier: "{% autoescape %}",
}
_REFUSED_NAMES = frozenset({"self"})

_FORMAT_SPEC = re.compile(r"%[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


class TemplateFailure(Exception):
    """A template that cannot be expanded: what went wrong and how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class Namespace:
    """Values a template reads as `name.key` or `name['key']`: a pin's fields, a data row.

    Not a Mapping on purpose: Jinja tries attributes before keys, so a Mapping's methods would
    shadow columns named `items` or `keys`. A missing key names the object and what it has."""

    def __init__(self, label: str, noun: str, values: Mapping[str, Any]) -> None:
        self._label = label
        self._noun = noun
        self._values = values

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __str__(self) -> str:
        # Printing the object itself would show a memory address, which differs on every run.
        raise TemplateFailure(
            f"{self._label} cannot be written out whole",
            f"write one {self._noun} of it; it has: {', '.join(sorted(self._values))}",
        )

    def _missing(self, key: object) -> str:
        known = ", ".join(sorted(self._values)) or "nothing"
        return f"{self._label} has no {self._noun} {key!r}; it has: {known}"


class _Undefined(StrictUndefined):
    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        if isinstance(self._undefined_obj, Namespace) and self._undefined_hint is None:
            return self._undefined_obj._missing(self._undefined_name)
        return super()._undefined_message


def _fail_if_undefined(obj: Any) -> None:
    """Reading from an undefined name is the error of that name (`'cycler' is undefined`), not of
    the attribute read from it."""
    if isinstance(obj, Undefined):
        obj._fail_with_undefined_error()


class _CodeGenerator(CodeGenerator):
    """Compiles `a ~ b` to a bounded join: the sandbox intercepts operators, not concatenation."""

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _Environment(ImmutableSandboxedEnvironment):
    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        _fail_if_undefined(obj)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _fail_if_undefined(obj)
        return super().getitem(obj, argument)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """A string method is charged the text it runs over."""
        target = getattr(__obj, "__self__", None)
        if isinstance(target, str):
            budget_of(__context).charge(len(target))
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> None:
        """Refuse str.format and format_map (through is_safe_attribute) instead of running them
        sandboxed: a format width builds a string of any size."""

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr not in _STR_METHODS:
            return False
        return bool(super().is_safe_attribute(obj, attr, value))

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Refuse, before computing it, a result beyond `LIMITS`."""
        numbers = isinstance(left, int) and isinstance(right, int)
        if operator == "+" and size_of(left) + size_of(right) > LIMITS.size:
            raise too_large()
        if operator == "*":
            if isinstance(right, int) and size_of(left) * right > LIMITS.size:
                raise too_large()
            if isinstance(left, int) and size_of(right) * left > LIMITS.size:
                raise too_large()
            if numbers and left.bit_length() + right.bit_length() > LIMITS.number_bits + 1:
                raise too_big()
        if (
            operator == "**"
            and numbers
            and abs(left) > 1
            and (abs(left).bit_length() - 1) * right > LIMITS.number_bits
        ):
            raise too_big()
        if operator == "%" and isinstance(left, str):
            for spec in _FORMAT_SPEC.findall(left):
                if any(n == "*" or (n and int(n) > LIMITS.size) for n in spec):
                    raise too_large()
        return super().call_binop(context, operator, left, right)

    def concat(self, parts: Iterable[Any]) -> str:
        texts = [str(part) for part in parts]
        if sum(map(len, texts)) > LIMITS.size:
            raise too_large()
        return "".join(texts)


@pass_context
def _bounded_loop(context: Context, iterable: Any) -> Iterator[Any]:
    """The items of a loop, counted against the run's budget of iterations."""
    _fail_if_undefined(iterable)
    budget = budget_of(context)
    for item in iterable:
        budget.step()
        yield item


def _environment() -> _Environment:
    env = _Environment(
        undefined=_Undefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals = {"range": env.globals["range"], LOOP_VAR: _bounded_loop}
    env.filters = filters()
    return env


_ENV = _environment()


def is_template(text: str) -> bool:
    # Jinja's three opening markers, spelled out: this runs for every field of every pin.
    return "{" in text and ("{{" in text or "{%" in text or "{#" in text)


@lru_cache(maxsize=2048)
def _compile(source: str) -> Template:
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        where = f" (line {exc.lineno} of the template)" if "\n" in source.strip() else ""
        raise TemplateFailure(
            f"template syntax error{where}: {exc.message}",
            "a template looks like {{ name }} or {% if name %}…{% endif %}",
        ) from None
    for node in tree.find_all(nodes.Node):
        if type(node) in _REFUSED_NODES:
            raise TemplateFailure(
                f"{_REFUSED_NODES[type(node)]} is not allowed in pin templates",
                "use {{ … }}, {% if %}, {% for %} and {% set %} over vars, pin and row",
            )
        if isinstance(node, nodes.Name) and node.name in _REFUSED_NAMES:
            raise TemplateFailure(
                f"'{node.name}' is not available in pin templates",
                "use vars, pin and row",
            )
    for loop in tree.find_all(nodes.For):
        loop.iter = nodes.Call(nodes.Name(LOOP_VAR, "load"), [loop.iter], [], None, None)
    try:
        template = _ENV.from_string(tree)
    # Compiling finds what parsing cannot, such as a filter that does not exist.
    except TemplateSyntaxError as exc:
        raise TemplateFailure(f"template error: {exc.message}", FILTERS_HINT) from None
    # Each render copies the globals into a new context: from jinja's ChainMap that was half of
    # a render's time (a catalogue renders a template per field per row); from a dict, a tenth.
    template.globals = dict(template.globals)
    return template


def uses(source: str, name: str) -> bool:
    """Whether the template reads the variable `name`; raise TemplateFailure if it is invalid."""
    _compile(source)
    return name in meta.find_undeclared_variables(_ENV.parse(source))


def render(source: str, context: dict[str, Any], field: str) -> str:
    """Expand one template for the manifest field `field`; raise TemplateFailure on any error.

    The context's BUDGET_VAR is the run's Budget, shared by all its templates."""
    template = _compile(source)
    chunks: list[str] = []
    total = 0
    budget = context.get(BUDGET_VAR) or Budget()
    try:
        for chunk in template.generate({**context, FIELD_VAR: field, BUDGET_VAR: budget}):
            total += len(chunk)
            if total > LIMITS.size:
                raise too_large()
            budget.charge(len(chunk))
            chunks.append(chunk)
    except TemplateFailure:
        raise
    except UndefinedError as exc:
        raise TemplateFailure(str(exc), _undefined_hint(str(exc))) from None
    except (SecurityError, OverflowError) as exc:
        if "MAX_RANGE" in str(exc):  # the sandbox's own words name its constant
            said = f"range() may count at most {MAX_RANGE:,} numbers"
            raise TemplateFailure(f"template refused: {said}", "use a smaller range") from None
        raise TemplateFailure(
            f"template refused: {exc}", "templates may read vars, pin and row and use filters"
        ) from None
    except RecursionError:
        raise TemplateFailure("the template nests too deeply", "simplify it") from None
    # The template is a program from the manifest: whatever it raises is reported at its place.
    except Exception as exc:
        raise TemplateFailure(f"template error: {exc}", "check the expression") from None
    return "".join(chunks)


def _undefined_hint(message: str) -> str:
    if message.endswith(" is undefined"):
        return "define it under vars: in this file, a _defaults.yaml above it, or pinops.yaml"
    return "check the spelling"
