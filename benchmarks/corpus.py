"""A deterministic corpus of content repositories for the benchmarks.

    python benchmarks/corpus.py DIR --pins 10000 --per-file 100 [--errors 100] [--state]
    python benchmarks/corpus.py DIR --pins 10000 --per-file 1000 --generated

Each corpus is a content repository like the example one: pinops.yaml (a sandbox account with a
few boards), pins/media/ (the example's real media files), folders of manifests with a
`_defaults.yaml` each, and optionally a state file that matches the manifests exactly, so that a
plan has no changes. The same arguments always give the same bytes.

Pins look like real ones: titles up to 100 characters and descriptions up to 800, with accented
and non-Latin text, links with query strings, alt text, colours, a few on several boards, a few
videos with covers and a few with `publish_at`. `--errors N` spreads N located mistakes over the
files (too long, unknown fields, bad links and colours, missing or absent media). `--generated`
writes a shop's catalogue instead: per manifest, a CSV of `--per-file` products and a `generate:`
block whose templates make a pin of each row.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from reconciler import desired, providers  # noqa: E402
from reconciler.config import find_root  # noqa: E402
from reconciler.config import load as load_config  # noqa: E402
from reconciler.providers import sandbox  # noqa: E402
from reconciler.state import Record, State  # noqa: E402
from reconciler.statefile import StateFile  # noqa: E402

# Bumped whenever the output changes, so that cached corpora are rebuilt.
GENERATOR_VERSION = 1
BOARDS = (
    "Recipes",
    "Weeknight Dinners",
    "Desserts",
    "Home Decor",
    "Small Spaces",
    "Garden Ideas",
    "Travel Europe",
    "Travel Japan",
    "DIY Projects",
    "Style Guide",
)
IMAGES = ("pasta.jpg", "salad.jpg", "bedroom.jpg", "living-room.png")
VIDEO, COVER = "pasta-howto.mp4", "pasta-howto-cover.jpg"
FOLDER_SIZE = 1000  # manifests per folder
PUBLISHED_AT = "2026-01-15T09:30:00Z"

_TEXT = (
    "garlic pasta salad lemon butter basil crème brûlée café jalapeño piñata smörgåsbord "
    "crêpes gâteau naïve façade Zürich São Paulo Kraków Malmö Ærø Göteborg fjäll "
    "東京 ラーメン 抹茶 京都 桜 餃子 서울 비빔밥 김치 Москва борщ пельмени Αθήνα σαλάτα "
    "living room bedroom linen oak walnut terracotta sage olive cosy warm bright calm quick "
    "easy weeknight family budget seasonal autumn winter spring summer rustic modern minimal "
    "cottage coastal boho vintage handmade garden balcony herbs tomatoes courgette aubergine "
    "sourdough focaccia ramen dumplings curry tacos salsa guacamole pavlova tiramisu "
    "step-by-step guide ideas tips tricks checklist before after refresh makeover"
)
WORDS = _TEXT.split()


@dataclass(frozen=True)
class Spec:
    pins: int
    per_file: int
    errors: int = 0
    # Images as https URLs (a catalogue on a CDN) instead of files in the repository.
    image_urls: bool = False
    # Pins generated from CSV rows by templates (a shop's catalogue), not written out.
    generated: bool = False

    @property
    def name(self) -> str:
        errors = f"-{self.errors}errors" if self.errors else ""
        urls = "-urls" if self.image_urls else ""
        rows = "-generated" if self.generated else ""
        return f"{self.pins}pins-{self.per_file}perfile{errors}{urls}{rows}-v{GENERATOR_VERSION}"


def _sentence(rng: random.Random, limit: int) -> str:
    words: list[str] = []
    target = rng.randint(limit // 3, limit)
    while True:
        word = rng.choice(WORDS)
        if len(" ".join([*words, word])) > target:
            break
        words.append(word)
    text = " ".join(words) or rng.choice(WORDS)
    return text[0].upper() + text[1:]


def _pin(rng: random.Random, number: int, image_urls: bool) -> dict[str, Any]:
    pin: dict[str, Any] = {
        "id": f"pin-{number:06d}",
        "title": _sentence(rng, 100),
        "description": _sentence(rng, 800),
        "link": (
            f"https://shop.example.com/{rng.choice(WORDS[:20])}/{number}"
            f"?utm_source=pinterest&utm_medium=social&utm_campaign=c{number % 97}"
            f"&ref={rng.randrange(16**8):08x}"
        ),
        "alt_text": _sentence(rng, 200),
    }
    roll = rng.random()
    if image_urls:
        pin["image"] = f"https://cdn.example.com/catalogue/{number:06d}.jpg?w=1000&h=1500"
    elif roll < 0.02:
        pin["video"] = f"../media/{VIDEO}"
        pin["cover"] = f"../media/{COVER}"
    else:
        pin["image"] = f"../media/{rng.choice(IMAGES)}"
    if rng.random() < 0.3:
        pin["dominant_color"] = f"#{rng.randrange(16**6):06X}"
    if rng.random() < 0.05:
        pin["boards"] = rng.sample(BOARDS, 2)
    elif rng.random() < 0.5:
        pin["board"] = rng.choice(BOARDS)
    if rng.random() < 0.03:
        pin["publish_at"] = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T12:00:00Z"
    return pin


def _break(rng: random.Random, pin: dict[str, Any], kind: int) -> None:
    """Make one located mistake in `pin`."""
    match kind % 6:
        case 0:
            pin["title"] = (pin["title"] + " " + _sentence(rng, 100))[:100] + "!" * 20
        case 1:
            pin["titel"] = pin.pop("title")
        case 2:
            pin["link"] = "http://" + pin["link"].removeprefix("https://")
        case 3:
            pin["dominant_color"] = "red"
        case 4:
            pin.pop("image", None)
            pin.pop("video", None)
            pin.pop("cover", None)
        case _:
            pin.pop("video", None)
            pin.pop("cover", None)
            pin["image"] = "../media/missing.jpg"


def _quoted(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _yaml_pin(pin: dict[str, Any], indent: str, first: str) -> list[str]:
    lines: list[str] = []
    for key, value in pin.items():
        if key == "description":
            # Folded block scalars, as people write long text.
            lines.append(f"{key}: >-")
            lines += [f"  {chunk}" for chunk in _wrap(value)]
        elif isinstance(value, list):
            lines.append(f"{key}: [{', '.join(_quoted(v) for v in value)}]")
        elif key in ("id", "publish_at"):
            lines.append(f"{key}: {value}")
        else:
            lines.append(f"{key}: {_quoted(value)}")
    return [(first if i == 0 else indent) + line for i, line in enumerate(lines)]


def _wrap(text: str, width: int = 90) -> list[str]:
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line]


CONFIG = """\
# A benchmark corpus made by benchmarks/corpus.py.
pins: pins/
state: pinops.state.json
accounts:
  main:
    provider: sandbox
    boards: [{boards}]
"""

HEADER = "# yaml-language-server: $schema=../../schemas/pin-file.schema.json\n"


def generate(spec: Spec, root: Path) -> None:
    """Write the corpus for `spec` into `root` (which must not exist yet)."""
    rng = random.Random(f"pinops-corpus:{spec.pins}:{spec.per_file}")
    errors = random.Random(f"pinops-errors:{spec.errors}")
    root.mkdir(parents=True)
    (root / "pinops.yaml").write_text(
        CONFIG.format(boards=", ".join(BOARDS)), encoding="utf-8", newline="\n"
    )
    media = root / "pins" / "media"
    media.mkdir(parents=True)
    for name in (*IMAGES, VIDEO, COVER):
        shutil.copyfile(PROJECT / "pins" / "media" / name, media / name)
    files = -(-spec.pins // spec.per_file)
    # One mistake in each stretch of pins // errors pins, so that with 100 pins per file and one
    # error per 100 pins every file has one: a schema error in a file hides the file's other pins
    # from the later checks, and each mistake should be reported.
    stride = spec.pins // spec.errors if spec.errors else 0
    broken = {i * stride + errors.randrange(stride) for i in range(spec.errors)}
    number = 0
    for index in range(files):
        folder = root / "pins" / f"g{index // FOLDER_SIZE:03d}"
        if not folder.exists():
            folder.mkdir()
            (folder / "_defaults.yaml").write_text(
                HEADER + f"defaults:\n  board: {_quoted(BOARDS[index % len(BOARDS)])}\n",
                encoding="utf-8",
                newline="\n",
            )
        pins = []
        for _ in range(min(spec.per_file, spec.pins - number)):
            pin = _pin(rng, number, spec.image_urls)
            if number in broken:
                _break(errors, pin, number)
            pins.append(pin)
            number += 1
        if spec.generated:
            text = _catalogue(folder / f"f{index:05d}.csv", pins)
        elif spec.per_file == 1:
            text = HEADER + "\n".join(_yaml_pin(pins[0], "", "")) + "\n"
        else:
            board = BOARDS[(index * 7) % len(BOARDS)]
            body = [
                f"defaults:\n  board: {_quoted(board)}\n  alt_text: {_quoted('A pin image')}",
                "pins:",
            ]
            for pin in pins:
                body += _yaml_pin(pin, "    ", "  - ")
                body.append("")
            text = HEADER + "\n".join(body)
        (folder / f"f{index:05d}.yaml").write_text(text, encoding="utf-8", newline="\n")


# A catalogue's manifest: every field of a pin is a template over its row.
CATALOGUE = """\
vars:
  shop: https://shop.example.com
generate:
  from: {data}
  pin:
    id: "{{{{ row.sku }}}}"
    title: "{{{{ row.name }}}}"
    description: "{{{{ row.blurb }}}} Shipped from the {{{{ shop | replace('https://', '') }}}}."
    link: "{{{{ shop }}}}/{{{{ row.section }}}}/{{{{ row.name | slug }}}}?utm_source=pinterest"
    alt_text: "{{{{ row.alt }}}}"
    image: "../media/{{{{ row.image }}}}"
"""


def _catalogue(data: Path, pins: list[dict[str, Any]]) -> str:
    """Write `pins` as the rows of a CSV file at `data`; the manifest that generates them."""
    with data.open("w", encoding="utf-8", newline="") as out:
        rows = csv.writer(out)
        rows.writerow(["sku", "name", "blurb", "section", "alt", "image"])
        for pin in pins:
            section = pin["link"].split("/")[3]
            blurb = pin["description"][:760]  # room for the sentence the template adds
            image = pin.get("image", f"../media/{IMAGES[0]}").rsplit("/", 1)[1]
            rows.writerow([pin["id"], pin["title"], blurb, section, pin["alt_text"], image])
    return HEADER + CATALOGUE.format(data=data.name)


def write_state(root: Path) -> int:
    """A state file that records every declared pin as published just as declared.

    Built through the public State/Record API rather than by applying to the sandbox, whose
    single JSON file makes 100,000 creates slow and says nothing about plan speed.
    """
    config = load_config(find_root(root))
    wanted = desired.load(config, providers.capabilities)
    account = config.default_account
    rng = random.Random(f"pinops-state:{len(wanted.targets)}")
    state = State(
        lineage=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        boards={account: {name: sandbox.board_id(name) for name in BOARDS}},
    )
    for number, (key, target) in enumerate(sorted(wanted.targets.items())):
        medium = target.fields.medium
        pin_id = sandbox.pin_id(account, number + 1)
        state.pins[key] = Record(
            provider=config.accounts[target.account].provider,
            account=target.account,
            content_hash=target.content_hash,
            pin_id=pin_id,
            url=f"https://www.pinterest.com/pin/{pin_id}/",
            board=target.board,
            board_id=sandbox.board_id(target.board),
            media_hash=medium.sha256 if medium else None,
            fields=target.fields.to_json(),
            published_at=PUBLISHED_AT,
            protect=target.protect,
        )
    StateFile(config.state_path).write(state)
    return len(state.pins)


def ensure(spec: Spec, base: Path, *, state: bool) -> Path:
    """The corpus for `spec` under `base`, generated once and reused while the generator is the
    same version; a half-written one (no `.complete` marker) is made again."""
    root = base / spec.name
    marker = root / ".complete"
    if marker.exists():
        return root
    if root.exists():
        shutil.rmtree(root)
    # Made in a process of its own: Linux counts the memory of the process a command is started
    # from in that command's peak (ru_maxrss), so a benchmark that held a 100,000-pin corpus
    # would report it as pinops' own.
    options = [f"--pins={spec.pins}", f"--per-file={spec.per_file}", f"--errors={spec.errors}"]
    options += ["--image-urls"] * spec.image_urls + ["--generated"] * spec.generated
    options += ["--state"] * state
    subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), str(root), *options],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    marker.write_text("", encoding="utf-8")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="where to write the corpus (must not exist)")
    parser.add_argument("--pins", type=int, default=10_000)
    parser.add_argument("--per-file", type=int, default=100, help="pins per manifest (1 or more)")
    parser.add_argument("--errors", type=int, default=0, help="mistakes to spread over the pins")
    parser.add_argument("--image-urls", action="store_true", help="images as https URLs")
    parser.add_argument("--generated", action="store_true", help="pins from CSV rows by templates")
    parser.add_argument("--state", action="store_true", help="also write a matching state file")
    args = parser.parse_args()
    spec = Spec(args.pins, args.per_file, args.errors, args.image_urls, args.generated)
    generate(spec, args.directory)
    if args.state:
        print(f"state: {write_state(args.directory)} records")


if __name__ == "__main__":
    main()
