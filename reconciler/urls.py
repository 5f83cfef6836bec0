"""Checks of the URLs manifests give: destination links and media that providers fetch.

Manifests come from strangers' pull requests. A link must be a plain https URL to a real host;
a media URL is fetched by Pinterest or a posting service, so it must not point at loopback,
private or otherwise internal addresses either (no request forgery through a pin).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from urllib.parse import urlsplit

_INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet")
# Whitespace (str.isspace's, Unicode included) and control characters; a regex, as this runs for
# every link of every pin.
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


# An https URL whose host is plain letters, digits, dots and hyphens, with no user, password or
# port: what most links are. Its host is read off here, as urlsplit would read it.
_PLAIN_HTTPS = re.compile(r"https://([A-Za-z0-9.-]+)(?:[/?#]|\Z)", re.IGNORECASE)


def problem(value: str, *, fetched: bool) -> tuple[str, str] | None:
    """What is wrong with the URL, and how to fix it; None when it is fine."""
    if _SPACE_OR_CONTROL.search(value):
        return "contains spaces or control characters", "percent-encode them, e.g. %20"
    host = plain_host(value)
    if host is not None:
        return _host_problem(host, fetched=fetched)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        return f"is not a valid URL ({exc})", "write a full https URL"
    if parts.scheme.lower() != "https":
        scheme = parts.scheme or "no scheme"
        return f"uses {scheme}, not https", "use an https:// URL"
    if parts.username is not None or parts.password is not None:
        return "carries credentials (user:password@)", "remove them; links must be public"
    host = (parts.hostname or "").rstrip(".").lower()
    if port == 0 and host:
        return "has port 0", "remove the port"
    return _host_problem(host, fetched=fetched)


def plain_host(value: str) -> str | None:
    """The host of a plain https URL, lower-cased and without a final dot, read as urlsplit
    reads it; None for any other URL, which only urlsplit can read."""
    plain = _PLAIN_HTTPS.match(value)
    return plain.group(1).rstrip(".").lower() if plain else None


def _host_problem(host: str, *, fetched: bool) -> tuple[str, str] | None:
    """What is wrong with an https URL's host (lower-cased, without a final dot)."""
    if not host:
        return "has no host", "write a full https URL, e.g. https://example.com/page"
    is_address, internal = _host_kind(host)
    if fetched and internal:
        return (
            f"points at an internal address ({host}) that the provider would be asked to fetch",
            "serve the media from a public https address",
        )
    if not is_address and "." not in host:
        return f"has the host '{host}', which is not a public domain", "use a full domain name"
    return None


# The links of a repository name a few hosts thousands of times: each is classified once.
@functools.lru_cache(maxsize=4096)
def _host_kind(host: str) -> tuple[bool, bool]:
    """Whether `host` is an IP address, and whether it is internal (not publicly routable)."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False, host == "localhost" or host.endswith(_INTERNAL_SUFFIXES)
    return True, not address.is_global


def loopback(host: str) -> bool:
    """Whether `host` names this machine (local emulators and proxies)."""
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
