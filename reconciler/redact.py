"""Masking credentials in anything that can be printed: errors, logs, echoed response bodies.

Whoever reads a secret registers it (`register(token)`; the HTTP client also registers every auth
header value it sends). `redact(text)` then replaces each registered value, in its plain, URL-,
JSON- and base64-encoded forms, with `[redacted]`. Nothing else is touched: a manifest's
`Basic tips…` or `password=…` is shown exactly as it is published, because what a reviewer reads
must be what is sent. The CLI passes every message it prints through `redact`, and its log
handler carries a `LogFilter`.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from typing import Any, TextIO
from urllib.parse import quote

from reconciler import credentials

MASK = "[redacted]"

# Every credential pinops reads by default; an account's own variables (pinops.yaml's
# `credentials:`) are registered once the configuration is read.
CREDENTIAL_VARIABLES = (
    *credentials.default_secret_variables(),
    # GitHub's own tokens, used to push state and post comments.
    "GITHUB_TOKEN",
    "GH_TOKEN",
)

# Shorter values would mask ordinary words; real credentials are far longer.
_MIN_LENGTH = 4

_secrets: set[str] = set()
_lock = threading.Lock()


def _forms(value: str) -> set[str]:
    """The ways a secret can appear in text: as it is, URL-encoded, JSON-escaped, base64."""
    encoded = base64.b64encode(value.encode()).decode("ascii")
    forms = {value, quote(value, safe=""), quote(value), json.dumps(value)[1:-1], encoded}
    # base64 without its padding, as some clients and logs print it.
    forms.add(encoded.rstrip("="))
    return forms


def register(*values: str | None) -> None:
    """Remember secret values so that `redact` masks them wherever they appear."""
    forms: set[str] = set()
    for value in values:
        if value and len(value) >= _MIN_LENGTH:
            forms |= _forms(value)
    with _lock:
        _secrets.update(forms)


def redact(text: str) -> str:
    """`text` with every registered secret masked, and nothing else changed."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class LogFilter(logging.Filter):
    """Redacts each log record's formatted message (and traceback) before a handler emits it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        return True


class Stream:
    """A text stream that redacts everything written to it: the CLI wraps stdout and stderr in
    it, so no output channel can carry a credential, whatever code wrote the text."""

    def __init__(self, wrapped: TextIO) -> None:
        self.wrapped = wrapped
        self.written = False  # whether anything was written yet

    def write(self, text: str) -> int:
        self.wrapped.write(redact(text))
        self.written = self.written or bool(text)
        return len(text)

    def flush(self) -> None:
        self.wrapped.flush()

    def isatty(self) -> bool:
        return self.wrapped.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)
