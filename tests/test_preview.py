"""`pinops preview`: the plan as pin cards in a static page, checked in a real browser."""

from __future__ import annotations

import io
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageStat
from playwright.sync_api import Browser

from reconciler import thumbnails, timestamps
from reconciler.cache import Cache
from reconciler.pincards import feed_title, word_diff
from tests import browser as chromium
from tests.conftest import Run, edit
from tests.gitrepos import commit_all, git, isolate_git
from tests.mediafiles import write_jpeg, write_png

OLD_TITLE = "Easy 15-Minute Garlic Pasta"
NEW_TITLE = "Easy 15-Minute Lemon Garlic Pasta"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from chromium.launch()


@pytest.fixture
def changed(repo: Path, pinops: Run) -> Path:
    """The example repository published, then edited: an update, a replace and a wait."""
    assert pinops("apply", "--yes").code == 0
    edit(repo / "pins/recipes/pasta.yaml", f"title: {OLD_TITLE}", f"title: {NEW_TITLE}")
    edit(repo / "pins/home/living-spaces.yaml", "image: ../media/living-room.png", "image: new.png")
    write_png(repo / "pins/home/new.png", 600, 900, (20, 120, 200))
    return repo


def preview(pinops: Run, out: Path, *args: str) -> None:
    result = pinops("preview", "--out", str(out), *args)
    assert result.code == 0, result.err
    assert f"to {out / 'index.html'}" in result.out


def card(seen: chromium.Visit, key: str) -> str:
    return seen.page.locator(f"#changes article:has(h4 code:text-is('{key}'))").inner_text()


def assert_clean(seen: chromium.Visit, out: Path) -> None:
    """No console message, no dialog, and no request but the page's own files."""
    assert seen.errors == []
    assert seen.dialogs == []
    own = out.resolve().as_uri() + "/"
    assert seen.requests and all(url.startswith(own) for url in seen.requests), seen.requests
    assert seen.page.evaluate("document.scripts.length") == 0


@pytest.mark.usefixtures("changed")
@pytest.mark.parametrize("width", chromium.WIDTHS)
def test_the_plan_reads_as_pins_in_the_browser(
    pinops: Run, browser: Browser, tmp_path: Path, width: int
) -> None:
    out = tmp_path / "preview"
    preview(pinops, out)
    seen = chromium.visit(browser, (out / "index.html").as_uri(), width)
    assert_clean(seen, out)
    page = seen.page
    # Every thumbnail decodes, and every image has its alt text or says it has none.
    images = page.evaluate(
        "[...document.images].map(i => [i.complete && i.naturalWidth > 0, i.alt])"
    )
    assert images and all(ok and alt for ok, alt in images)
    assert page.evaluate("document.images.length") > 0
    # Readable at this width: nothing sticks out sideways.
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    updated = card(seen, "easy-pasta@Recipes")
    assert OLD_TITLE in updated and "Lemon" in updated
    assert page.locator("#changes ins", has_text="Lemon").count() >= 1
    replaced = page.locator("#changes article:has(h4 code:text-is('cozy-living-room'))")
    assert replaced.locator(".before img").count() == 1
    assert replaced.locator(".after img").count() == 1
    before = replaced.locator(".before img").get_attribute("src")
    assert before != replaced.locator(".after img").get_attribute("src")
    assert "Publishes at 2027-03-01 09:00 UTC" in card(seen, "calm-bedroom")
    timeline = page.locator("#timeline").inner_text()
    assert "2027-03-01 09:00 UTC" in timeline and "calm-bedroom" in timeline
    boards = page.locator("#boards").inner_text()
    assert "Home Decor" in boards and "Recipes" in boards
    headings = page.evaluate("[...document.querySelectorAll('h1,h2,h3,h4')].map(h => h.tagName)")
    levels = [int(tag[1]) for tag in headings]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in itertools.pairwise(levels))


def test_a_paced_pin_shows_when_its_slot_comes(
    pinops: Run, repo: Path, browser: Browser, tmp_path: Path
) -> None:
    edit(repo / "pinops.yaml", "    boards: [", "    pace: 2/hour\n    boards: [")
    saved = tmp_path / "plan.json"
    assert pinops("plan", "--out", str(saved)).code == 0
    plan = json.loads(saved.read_text(encoding="utf-8"))
    due = {c["key"]: c["due_at"] for c in plan["changes"] if c["due_at"] is not None}
    assert len(due) == 6
    assert all(c["due_at"] is None for c in plan["changes"] if c["key"] not in due)
    key, at = sorted(due.items(), key=lambda item: item[1])[-1]
    out = tmp_path / "preview"
    preview(pinops, out, str(saved))
    seen = chromium.visit(browser, (out / "index.html").as_uri(), 390)
    assert_clean(seen, out)
    shown = timestamps.shown(timestamps.parse(at))
    assert f"Due about {shown}" in card(seen, key)
    assert f"paced at 2/hour: due about {at}" in card(seen, key)
    assert "Publishes at 2027-03-01 09:00 UTC" in card(seen, "calm-bedroom")
    assert f"{shown}" in seen.page.locator("#timeline li", has_text=key).inner_text()


def test_a_plan_saved_without_due_times_still_previews(
    pinops: Run, repo: Path, tmp_path: Path
) -> None:
    """A plan file of an earlier pinops has no `due_at`: its paced pins show their reason only."""
    edit(repo / "pinops.yaml", "    boards: [", "    pace: 2/hour\n    boards: [")
    saved = tmp_path / "plan.json"
    assert pinops("plan", "--out", str(saved)).code == 0
    plan = json.loads(saved.read_text(encoding="utf-8"))
    for change in plan["changes"]:
        del change["due_at"]
    saved.write_text(json.dumps(plan), encoding="utf-8")
    out = tmp_path / "preview"
    preview(pinops, out, str(saved))
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.count("paced at 2/hour: due about") == 6
    assert "Due about" not in page
    assert "Publishes at <time" in page


@pytest.mark.usefixtures("changed")
def test_a_saved_plan_previews_exactly_as_planned(
    pinops: Run, browser: Browser, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.json"
    assert pinops("plan", "--out", str(plan)).code == 0
    out = tmp_path / "preview"
    preview(pinops, out, str(plan))
    seen = chromium.visit(browser, (out / "index.html").as_uri(), 1280)
    assert_clean(seen, out)
    assert NEW_TITLE in card(seen, "easy-pasta@Weeknight Dinners")


def test_the_page_follows_the_reader_s_colour_scheme(
    pinops: Run, browser: Browser, tmp_path: Path
) -> None:
    out = tmp_path / "preview"
    preview(pinops, out)
    backgrounds = {}
    for scheme in ("light", "dark"):
        seen = chromium.visit(browser, (out / "index.html").as_uri(), 390, scheme)
        assert_clean(seen, out)
        backgrounds[scheme] = seen.page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert backgrounds == {"light": "rgb(255, 255, 255)", "dark": "rgb(18, 18, 18)"}


def test_all_shows_every_declared_pin(pinops: Run, tmp_path: Path) -> None:
    assert pinops("apply", "--yes").code == 0
    out = tmp_path / "preview"
    preview(pinops, out)
    assert "unchanged" not in (out / "index.html").read_text()
    preview(pinops, out, "--all")
    page = (out / "index.html").read_text()
    assert "Unchanged (8)" in page and "cozy-living-room" in page


def test_a_second_preview_into_the_same_folder_keeps_only_its_own_thumbnails(
    changed: Path, pinops: Run, tmp_path: Path
) -> None:
    out = tmp_path / "preview"
    (out / "media").mkdir(parents=True)
    (out / "media" / "notes.txt").write_text("mine")
    preview(pinops, out, "--all")
    before = {p.name for p in (out / "media").iterdir()}
    (changed / "pins/home/new.png").unlink()
    edit(changed / "pins/home/living-spaces.yaml", "image: new.png", "image: ../media/salad.jpg")
    preview(pinops, out, "--all")
    after = {p.name for p in (out / "media").iterdir()}
    assert "notes.txt" in after and len(before - after) == 1
    page = (out / "index.html").read_text()
    assert all(f"media/{name}" in page for name in after - {"notes.txt"})


def test_all_takes_no_plan_file_and_a_plan_file_must_exist(pinops: Run, tmp_path: Path) -> None:
    result = pinops("preview", "--all", str(tmp_path / "plan.json"))
    assert result.code == 1 and "--all" in result.err
    result = pinops("preview", str(tmp_path / "missing.json"))
    assert result.code == 1 and "no plan at" in result.err and "Traceback" not in result.err


def test_a_replaced_image_at_the_same_path_shows_its_old_version_from_git(
    repo: Path, pinops: Run, browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_git(monkeypatch, tmp_path)
    git(repo, "init", "-q")
    commit_all(repo, "pins")
    assert pinops("apply", "--yes").code == 0
    write_jpeg(repo / "pins/media/salad.jpg", 500, 750, (10, 10, 10))
    out = tmp_path / "preview"
    preview(pinops, out)
    seen = chromium.visit(browser, (out / "index.html").as_uri(), 1280)
    assert_clean(seen, out)
    replaced = seen.page.locator("#changes article.a-replace").first
    sources = [
        replaced.locator(f".{side} img").get_attribute("src") for side in ("before", "after")
    ]
    assert all(sources) and sources[0] != sources[1]


def test_advice_sits_on_its_card(repo: Path, pinops: Run, tmp_path: Path) -> None:
    edit(
        repo / "pins/recipes/pasta.yaml",
        "link: https://example.com/recipes/easy-garlic-pasta\n",
        "link: https://bit.ly/pasta\n",
    )
    out = tmp_path / "preview"
    preview(pinops, out)
    page = (out / "index.html").read_text()
    card = page.split("<code>easy-pasta@Recipes</code>")[1].split("</article>")[0]
    assert "URL shortener bit.ly" in card
    other = page.split("<code>cozy-living-room</code>")[1].split("</article>")[0]
    assert "URL shortener" not in other


def test_advice_on_an_unchanged_pin_stays_off_its_changed_neighbour(
    repo: Path, pinops: Run, tmp_path: Path
) -> None:
    pasta = repo / "pins/recipes/pasta.yaml"
    edit(
        pasta, "link: https://example.com/recipes/easy-garlic-pasta#video", "link: https://bit.ly/v"
    )
    assert pinops("apply", "--yes").code == 0
    edit(pasta, f"title: {OLD_TITLE}", f"title: {NEW_TITLE}")
    out = tmp_path / "preview"
    preview(pinops, out)
    page = (out / "index.html").read_text()
    assert NEW_TITLE in page and "URL shortener" not in page
    preview(pinops, out, "--all")
    page = (out / "index.html").read_text()
    video = page.split("<code>pasta-howto-video</code>")[1].split("</article>")[0]
    assert "URL shortener bit.ly" in video


HOSTILE = {
    "title": "<script>alert('title')</script><img src=https://evil.example/t.png>",
    "description": "</style><style>body{background:url(https://evil.example/bg.png)}</style>",
    "link": "javascript:alert('link')",
    "alt_text": '" onerror="alert(1)" x="',
    "board": "<iframe src=https://evil.example/></iframe>",
    "section": "{{ 7*7 }}",
    "account": "main",
}


def test_hostile_text_in_a_plan_file_stays_inert(
    pinops: Run, browser: Browser, tmp_path: Path
) -> None:
    after = {**HOSTILE, "image": {"url": "https://evil.example/pin.jpg"}}
    before = {**HOSTILE, "title": "x", "image": {"file": "../../../etc/passwd", "sha256": "0"}}
    change = {"key": "evil<b>", "file": "pins/x.yaml", "line": 1, "reason": "<script>x</script>"}
    plan = {
        "format_version": 1,
        "checksum": "",
        "changes": [
            {**change, "action": "create", "after": after, "before": None, "changed": []},
            {**change, "action": "replace", "after": after, "before": before, "changed": ["title"]},
            {**change, "action": "wait", "after": after, "publish_at": "<b>", "changed": []},
            # A time without its zone cannot be placed among the others: it is left out.
            {**change, "action": "wait", "after": after, "due_at": "2027-01-01T00:00:00"},
            {**change, "action": "wait", "after": after, "due_at": "2027-01-02T00:00:00Z"},
        ],
    }
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps(plan))
    out = tmp_path / "preview"
    preview(pinops, out, str(saved))
    seen = chromium.visit(browser, (out / "index.html").as_uri(), 390)
    assert_clean(seen, out)
    page = seen.page
    injected = "iframe, style + style, img[onerror], a:not([href^='#'])"
    assert page.evaluate(f"document.querySelectorAll({json.dumps(injected)}).length") == 0
    assert page.evaluate("getComputedStyle(document.body).backgroundImage") == "none"
    text = page.locator("#changes").text_content() or ""
    assert HOSTILE["title"] in text and HOSTILE["link"] in text and "{{ 7*7 }}" in text
    assert "https://evil.example/pin.jpg" in text and "not fetched" in text
    assert "not in the repository" in text  # the path outside the repository is never read
    assert not (out / "media").exists()  # nothing was read to make a thumbnail of
    assert "Due about 2027-01-02 00:00 UTC" in text and "2027-01-01" not in text


def test_hostile_text_from_a_manifest_stays_inert(
    repo: Path, pinops: Run, browser: Browser, tmp_path: Path
) -> None:
    edit(repo / "pins/recipes/pasta.yaml", f"title: {OLD_TITLE}", f"title: {HOSTILE['title']!r}")
    out = tmp_path / "preview"
    preview(pinops, out)
    seen = chromium.visit(browser, (out / "index.html").as_uri(), 1280)
    assert_clean(seen, out)
    assert HOSTILE["title"] in card(seen, "easy-pasta@Recipes")


def test_the_feed_cuts_long_titles_at_a_word() -> None:
    assert feed_title("Short title") == ("Short title", False)
    cut, was_cut = feed_title("Cozy Living Room Ideas for Small Spaces and Big Families")
    assert was_cut and cut == "Cozy Living Room Ideas for Small Spaces…"
    assert feed_title("x" * 60) == ("x" * 40 + "…", True)


def test_changed_words_are_marked() -> None:
    before, after = word_diff("Easy garlic pasta", "Easy lemon garlic pasta")
    assert after == [("same", "Easy"), ("ins", " lemon"), ("same", " garlic pasta")]
    assert before == [("same", "Easy"), ("same", " garlic pasta")]


def test_tall_images_are_cut_where_the_feed_cuts_them(tmp_path: Path) -> None:
    maker = thumbnails.Maker(tmp_path)
    tall = tmp_path / "tall.jpg"
    write_jpeg(tall, 1000, 4000)
    made = maker.from_bytes(tall.read_bytes())
    assert made.cropped and made.width == thumbnails.WIDTH
    assert made.height == round(thumbnails.WIDTH * thumbnails.TALLEST)
    assert made.name is not None
    with Image.open(tmp_path / made.name) as image:
        assert image.size == (made.width, made.height)
    wide = tmp_path / "wide.png"
    write_png(wide, 900, 300)
    made = maker.from_bytes(wide.read_bytes())
    assert not made.cropped and (made.width, made.height) == (thumbnails.WIDTH, 118)


def _stripes(width: int, height: int) -> Image.Image:
    """Upright stripes two pixels wide, across the picture: fine detail that a JPEG decoded at
    too small a fraction of its size loses."""
    row = bytes(255 * (x // 2 % 2) for x in range(width))
    return Image.frombytes("L", (width, height), row * height).convert("RGB")


def _contrast(folder: Path, made: thumbnails.Thumbnail) -> float:
    assert made.name is not None
    with Image.open(folder / made.name) as image:
        return float(ImageStat.Stat(image.convert("L")).stddev[0])


def test_a_photo_that_stands_turned_keeps_its_detail(tmp_path: Path) -> None:
    """A JPEG is decoded at a fraction of its size that still fills the thumbnail's width; a
    photo stored on its side (EXIF orientation 6) is as wide as the file is tall."""
    maker = thumbnails.Maker(tmp_path)
    upright = _stripes(1000, 1500)
    stored = io.BytesIO()
    upright.save(stored, "JPEG", quality=95)
    plain = maker.from_bytes(stored.getvalue())
    turned = io.BytesIO()
    orientation = Image.Exif()
    orientation[ExifTags.Base.Orientation] = 6  # shown turned a quarter clockwise
    upright.transpose(Image.Transpose.ROTATE_90).save(turned, "JPEG", quality=95, exif=orientation)
    made = maker.from_bytes(turned.getvalue())
    assert (made.width, made.height) == (plain.width, plain.height) == (thumbnails.WIDTH, 531)
    assert _contrast(tmp_path, plain) > 60
    assert _contrast(tmp_path, made) > 60
    wide = io.BytesIO()
    _stripes(3000, 600).save(wide, "JPEG")
    made = maker.from_bytes(wide.getvalue())
    assert (made.width, made.height, made.cropped) == (thumbnails.WIDTH, 71, False)


def _centre(folder: Path, made: thumbnails.Thumbnail) -> tuple[int, ...]:
    assert made.name is not None
    with Image.open(folder / made.name) as image:
        pixel = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    assert isinstance(pixel, tuple)
    return pixel


def _near(colour: tuple[int, ...], wanted: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 8 for a, b in zip(colour, wanted, strict=True))


def test_a_kept_thumbnail_is_used_for_the_same_bytes_only(tmp_path: Path) -> None:
    store = Cache(tmp_path / "cache", "thumbnail")
    picture = tmp_path / "picture.jpg"
    write_jpeg(picture, 800, 1000, (200, 40, 40))
    first = thumbnails.Maker(tmp_path / "one", store).from_bytes(picture.read_bytes())
    assert list((tmp_path / "cache").rglob("*")), "the thumbnail is kept"
    again = thumbnails.Maker(tmp_path / "two", store).from_bytes(picture.read_bytes())
    assert again == first
    assert (tmp_path / "two" / str(again.name)).read_bytes() == (
        tmp_path / "one" / str(first.name)
    ).read_bytes()
    # The same file with other bytes (same name, size and dimensions) is made afresh.
    write_jpeg(picture, 800, 1000, (40, 40, 200))
    changed = thumbnails.Maker(tmp_path / "three", store).from_bytes(picture.read_bytes())
    assert changed.name != first.name
    assert _near(_centre(tmp_path / "three", changed), (40, 40, 200))


def test_a_damaged_kept_thumbnail_is_made_again(tmp_path: Path) -> None:
    store = Cache(tmp_path / "cache", "thumbnail")
    picture = tmp_path / "picture.png"
    write_png(picture, 600, 600, (30, 160, 60))
    thumbnails.Maker(tmp_path / "one", store).from_bytes(picture.read_bytes())
    for entry in (tmp_path / "cache").rglob("*"):
        if entry.is_file():
            entry.write_bytes(entry.read_bytes()[:-10] + b"0123456789")
    made = thumbnails.Maker(tmp_path / "two", store).from_bytes(picture.read_bytes())
    assert (made.width, made.height) == (thumbnails.WIDTH, thumbnails.WIDTH)
    assert _near(_centre(tmp_path / "two", made), (30, 160, 60))


@pytest.mark.usefixtures("changed")
def test_a_preview_fills_the_thumbnail_cache_and_a_second_one_matches_it(
    pinops: Run, tmp_path: Path
) -> None:
    preview(pinops, tmp_path / "one", "--all")
    preview(pinops, tmp_path / "two", "--all")
    one = {p.name: p.read_bytes() for p in (tmp_path / "one" / "media").iterdir()}
    two = {p.name: p.read_bytes() for p in (tmp_path / "two" / "media").iterdir()}
    assert one == two and one
    assert list((Path(os.environ["PINOPS_CACHE_DIR"]) / "thumbnail").rglob("*"))


def test_bytes_that_are_no_image_give_a_reason_not_an_error(tmp_path: Path) -> None:
    made = thumbnails.Maker(tmp_path).from_bytes(b"<svg onload=alert(1)>")
    assert made.name is None and "not an image" in made.problem


def test_the_template_ships_with_the_package() -> None:
    from importlib import resources

    folder = resources.files("reconciler") / "preview_page"
    assert (folder / "preview.html").is_file() and (folder / "preview.css").is_file()
