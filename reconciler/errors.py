"""The exception tree. Every error a user can cause carries where it happened and how to fix it.

PinopsError                      message, location, hint; exit code 1 (exitcodes.ERROR)
├── InputError                   manifests, config, media, templates: fix the repository
│   └── ValidationFailed         several located problems reported at once
├── StateError                   the state file is corrupt, foreign, or locked
├── PlanError                    a plan that cannot be made or applied (stale, unknown board)
│   └── SafetyBlocked            a safety check stopped the plan; exit code 3 (BLOCKED)
├── ConfirmationRefused          apply without a TTY and without --yes
└── ProviderError                a provider call failed
    ├── StopsRun                 would fail every remaining change alike: stops the run
    │   ├── AuthError            credentials missing, expired or rejected
    │   ├── SpamBlocked          Pinterest's anti-spam block
    │   └── OutOfCredits         a paid service's balance is spent
    ├── ProviderRejected         the provider refused the request (validation, not found)
    ├── RateLimited              429; carries the delay the provider asked for
    ├── TransientError           5xx, timeouts, resets before the request was acted on
    └── OutcomeUnknown           the request may have been acted on; never blindly retried
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler import exitcodes
from reconciler.logline import escape


@dataclass(frozen=True, order=True, slots=True)
class Location:
    """A place in a file of the repository; line and column count from 1."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{escape(self.file)}:{self.line}:{self.column}"
        return escape(self.file)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or worth a warning) in the input."""

    location: Location
    message: str
    hint: str = ""
    severity: str = "error"
    rule: str = ""  # the advice rule that gave this warning, which pinops.yaml can switch off

    def __str__(self) -> str:
        text = f"{self.location}: {self.severity}: {escape(self.message)}"
        text = f"{text} ({escape(self.hint)})" if self.hint else text
        return f"{text} [{self.rule}]" if self.rule else text


class PinopsError(Exception):
    exit_code = exitcodes.ERROR

    def __init__(self, message: str, *, location: Location | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def __str__(self) -> str:
        message = escape(self.message)
        text = f"{self.location}: {message}" if self.location else message
        return f"{text} ({escape(self.hint)})" if self.hint else text

    def line(self) -> str:
        """The error as standard error shows it, in the form of a problem's line when it has a
        location (`FILE:LINE:COLUMN: error: message (hint)`), else `error: message (hint)`."""
        if self.location is None:
            return f"error: {self}"
        return str(Problem(self.location, self.message, self.hint))


class InputError(PinopsError):
    pass


class ValidationFailed(InputError):
    def __init__(self, problems: list[Problem]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"{len(errors)} problem{'' if len(errors) == 1 else 's'} found")
        self.problems = problems


class StateError(PinopsError):
    pass


class PlanError(PinopsError):
    pass


class SafetyBlocked(PlanError):
    exit_code = exitcodes.BLOCKED


class ConfirmationRefused(PinopsError):
    pass


class ProviderError(PinopsError):
    pass


class StopsRun(ProviderError):
    pass


class AuthError(StopsRun):
    pass


class OutOfCredits(StopsRun):
    pass


class ProviderRejected(ProviderError):
    pass


class Undeletable(ProviderRejected):
    """The provider refused to delete a published pin: it remains on Pinterest."""


class RateLimited(ProviderError):
    def __init__(self, message: str, *, retry_after: float | None = None, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class SpamBlocked(StopsRun):
    pass


class TransientError(ProviderError):
    pass


class OutcomeUnknown(ProviderError):
    pass
