"""Make the README's screenshot of `pinops preview` from the example pins.

    python scripts/preview_screenshot.py [OUT.png]     # default: docs/preview.png

It copies the example repository to a temporary folder, publishes it to the sandbox, then edits
it the way a pull request would (a title changed, an image replaced), previews the plan and takes
a screenshot of the page in Debian's headless Chromium (`apt-get install chromium`) through
Playwright. The picture is reduced to 256 colours to keep the repository small.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from reconciler.cli import main  # noqa: E402
from tests.browser import ARGS, CHROMIUM  # noqa: E402


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def make(out: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "content"
        root.mkdir()
        shutil.copy(PROJECT / "pinops.yaml", root)
        shutil.copytree(PROJECT / "pins", root / "pins")
        if main(["-C", str(root), "apply", "--yes"]) != 0:
            sys.exit("publishing the example pins to the sandbox failed")
        pasta = root / "pins/recipes/pasta.yaml"
        _edit(
            pasta, "title: Easy 15-Minute Garlic Pasta", "title: Easy 15-Minute Lemon Garlic Pasta"
        )
        _edit(
            root / "pins/home/living-spaces.yaml",
            "image: ../media/living-room.png",
            "image: ../media/bedroom.jpg",
        )
        site = Path(scratch) / "preview"
        if main(["-C", str(root), "preview", "--out", str(site)]) != 0:
            sys.exit("pinops preview failed")
        shot = Path(scratch) / "shot.png"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1500})
            page.goto((site / "index.html").as_uri())
            page.screenshot(path=str(shot))
            browser.close()
        with Image.open(shot) as image:
            small = image.convert("RGB").quantize(256)
            out.parent.mkdir(parents=True, exist_ok=True)
            small.save(out, optimize=True)
    print(f"Wrote {out} ({out.stat().st_size // 1024} kB)")


if __name__ == "__main__":
    make(Path(sys.argv[1]) if len(sys.argv) > 1 else PROJECT / "docs" / "preview.png")
