"""How much a pin template may build and spend: the bounds (`Limits`), what the templates of
one run have spent (`Budget`), and the refusal of a value beyond them.

`Limits` is the one place those bounds live; the sandbox (jinjasafe) and the filters
(jinjafilters) read it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import pass_context
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context


@dataclass(frozen=True)
class Limits:
    """How large a value a template may build: characters of any string or list, and bits of any
    integer; and what all the templates of one run may spend together, so that nested loops or
    costly filters over large inputs, repeated for thousands of pins, cannot burn the CPU: loop
    iterations, and characters handled (read by filters and string methods, and written out).
    `range()` is also bounded by the sandbox (100,000)."""

    size: int = 100_000
    number_bits: int = 128
    steps: int = 100_000
    characters: int = 50_000_000


LIMITS = Limits()


@dataclass
class Budget:
    """What the templates of one run have spent so far, against `LIMITS`."""

    steps: int = 0
    characters: int = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps > LIMITS.steps:
            raise SecurityError(
                f"the templates run more than {LIMITS.steps:,} loop iterations in all"
            )

    def charge(self, characters: int) -> None:
        self.characters += characters
        if self.characters > LIMITS.characters:
            raise SecurityError(
                f"the templates handle more than {LIMITS.characters:,} characters in all"
            )


# The run's Budget, in the context of every template.
BUDGET_VAR = "__budget__"


class TooLarge(SecurityError):
    """A value beyond `LIMITS`, refused before it is built."""


def too_large() -> TooLarge:
    return TooLarge(f"the template builds a value of more than {LIMITS.size:,} characters")


def too_big() -> TooLarge:
    return TooLarge(f"the template builds a number of more than {LIMITS.number_bits} bits")


def size_of(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


def budget_of(context: Context) -> Budget:
    budget: Budget = context[BUDGET_VAR]
    return budget


def charged(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that is charged the text it is given and the text it returns."""
    passes = getattr(function, "jinja_pass_arg", None)

    @pass_context
    def bounded(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        budget = budget_of(context)
        budget.charge(size_of(value))
        if passes is None:
            result = function(value, *args, **kwargs)
        else:
            first = {
                "context": context,
                "eval_context": context.eval_ctx,
                "environment": context.environment,
            }[passes.name]
            result = function(first, value, *args, **kwargs)
        budget.charge(size_of(result))
        return result

    return bounded
