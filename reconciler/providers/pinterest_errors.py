"""Pinterest's known failures (NOTES.md §8 and §12) as actionable errors: a table of what each
looks like, the error it is and what the user can do about it, read by `explain`, the hook the
HTTP client calls on every error response (providers/http.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reconciler.errors import AuthError, ProviderError, ProviderRejected, RateLimited, SpamBlocked
from reconciler.providers.faults import Failure
from reconciler.providers.pinterest_oauth import TOKEN_PATH, Credentials

# Pinterest's sandbox API, where apps with Trial access must create their pins.
SANDBOX_BASE_URL = "https://api-sandbox.pinterest.com/v5"

_NOT_FOUND = {
    "40": "the board was deleted or belongs to another account: `pinops boards` lists the "
    "boards there",
    "50": "the pin was deleted outside pinops: `pinops refresh` finds such pins",
    "2031": "the board section was deleted or renamed: `pinops boards` lists the sections",
}


@dataclass(frozen=True)
class _Known:
    """One known failure: when it applies, the error it is, and what the user can do."""

    when: Callable[[Failure], bool]
    error: type[ProviderError]
    hint: str | Callable[[Credentials], str]  # or what to do, from the account's variables
    lead: str = ""  # what was being done, before Pinterest's own words


def _code(code: str) -> Callable[[Failure], bool]:
    return lambda failure: failure.code == code


def _says(code: str, words: str) -> Callable[[Failure], bool]:
    return lambda failure: failure.code == code and words in failure.message.lower()


def _gone(code: str) -> Callable[[Failure], bool]:
    return lambda failure: failure.status == 404 and failure.code == code


def _spam(failure: Failure) -> bool:
    detail = failure.body.get("message_detail") if isinstance(failure.body, dict) else None
    return failure.status == 429 and (
        "spam" in failure.message.lower() or "spam" in str(detail or "").lower()
    )


# Pinterest's known failures (NOTES.md §8 and §12), the first that applies wins.
_KNOWN = (
    _Known(
        lambda f: f.path == TOKEN_PATH and f.status in (400, 401, 403),
        AuthError,
        Credentials.refresh_hint,
        lead="refreshing the access token failed: ",
    ),
    _Known(lambda f: f.status == 401, AuthError, Credentials.token_hint),
    _Known(
        _spam,
        SpamBlocked,
        "Pinterest's anti-spam block stops pin creation for hours: run again "
        "later, and spread pins out with e.g. `pace: 10/hour` in pinops.yaml",
    ),
    _Known(
        lambda f: f.status == 429,
        RateLimited,
        "Pinterest's rate limit (100 writes a minute with Standard access, 300 a day "
        "with Trial): run again later or set a slower `pace` in pinops.yaml",
    ),
    _Known(
        _says("29", "trial"),
        AuthError,
        "apps with Trial access may create pins only in Pinterest's sandbox: set "
        f"base_url: {SANDBOX_BASE_URL} with a sandbox token, or apply for Standard access",
    ),
    _Known(
        lambda f: f.method == "PATCH" and f.status in (403, 404) and f.code not in _NOT_FOUND,
        ProviderRejected,
        "Pinterest's PATCH /pins is in beta and not open to every app: ask Pinterest "
        "for access, and check the token's scopes and that the pin is this account's",
    ),
    _Known(
        lambda f: f.code == "29" or (f.status == 403 and f.code not in ("233", "235")),
        ProviderRejected,
        "the token may lack a scope (boards:read, boards:write, pins:read, "
        "pins:write) or the board or pin belongs to another account",
    ),
    _Known(
        _says("1", "fetch the image"),
        ProviderRejected,
        "Pinterest fetches image URLs itself: the URL must be public https, need no "
        "login and serve an image; this failure is often temporary, so run again later",
    ),
    _Known(_code("1"), ProviderRejected, "check the pin's link: it must be a valid URL"),
    _Known(_code("233"), ProviderRejected, "use a larger image (Pinterest suggests 1000×1500)"),
    _Known(_code("235"), ProviderRejected, "the image is damaged or not a real JPEG or PNG"),
    *(_Known(_gone(code), ProviderRejected, hint) for code, hint in _NOT_FOUND.items()),
)


def explain(failure: Failure, credentials: Credentials) -> ProviderError | None:
    """An actionable error for a known Pinterest failure, None for the default mapping; hints
    about credentials name the variables `credentials` come from."""
    known = next((known for known in _KNOWN if known.when(failure)), None)
    if known is None:
        return None
    said = known.lead + failure.describe("Pinterest")
    hint = known.hint if isinstance(known.hint, str) else known.hint(credentials)
    if known.error is RateLimited:
        return RateLimited(said, retry_after=failure.retry_after, hint=hint)
    return known.error(said, hint=hint)
