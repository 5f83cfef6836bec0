"""A real browser for tests: Debian's headless Chromium, driven through Playwright.

Playwright's own browser download is not used (it is not reachable everywhere tests run); the
system Chromium is (`apt-get install chromium`, which `.ci/run` does). Without it the browser tests
are skipped on a developer's machine, and fail in CI, where it must be there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Request, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Nothing of Chromium's own may reach out while a page is tested: every request must be the page's.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WIDTHS = (390, 1280)


def launch() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visit:
    """A page opened at one width, with everything it logged, requested and tried to open."""

    page: Page
    console: list[ConsoleMessage] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [m.text for m in self.console if m.type in ("error", "warning")]


def visit(
    browser: Browser, url: str, width: int, scheme: Literal["light", "dark"] = "light"
) -> Visit:
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    seen = Visit(page)

    def logged(message: ConsoleMessage) -> None:
        seen.console.append(message)

    def requested(request: Request) -> None:
        seen.requests.append(request.url)

    def opened(dialog: Dialog) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("console", logged)
    page.on("request", requested)
    page.on("dialog", opened)
    page.goto(url, wait_until="load")
    return seen
