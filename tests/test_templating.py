"""Defaults, vars and templates: the cascade and its precedence, templates over vars and the pin's
own fields, located template errors, the sandbox, and link parameters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler import jinjasafe
from reconciler.templating import with_params
from tests.conftest import Run, edit


def write(repo: Path, name: str, text: str) -> None:
    path = repo / "pins" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def add_vars(repo: Path, entries: str) -> None:
    """Add `entries` (indented `name: value` lines) to pinops.yaml's vars."""
    config = repo / "pinops.yaml"
    lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if line.startswith("vars:")), None)
    if at is None:
        lines += ["vars:\n"]
        at = len(lines) - 1
    lines.insert(at + 1, entries)
    config.write_text("".join(lines), encoding="utf-8")


def rendered(pinops: Run, *ids: str) -> dict[str, dict[str, Any]]:
    result = pinops("render", "--json", *ids)
    assert result.code == 0, result.err
    return {pin["id"]: pin for pin in json.loads(result.out)}


def origin(pin: dict[str, Any], name: str) -> str:
    found = pin["origins"][name]
    return f"{found['file']}:{found['line']}"


PIN = """\
pins:
  - id: {id}
    title: "{title}"
    link: https://example.com/x
    alt_text: A bowl of pasta
    image: media/pasta.jpg
    board: Recipes
"""


def errors(pinops: Run) -> list[str]:
    result = pinops("validate")
    assert result.code == 1, result.out
    assert "Traceback" not in result.err
    return result.err.splitlines()[:-1]


# The cascade


def test_defaults_and_vars_cascade_nearest_wins(pinops: Run, repo: Path) -> None:
    add_vars(repo, "  label: Global\n  tone: plain\n")
    write(
        repo,
        "shop/_defaults.yaml",
        "defaults:\n"
        "  board: Home Decor\n"
        "  alt_text: A product photo\n"
        '  title: "{{ label }} {{ tone }} {{ season }}"\n'
        "vars:\n"
        "  label: Shop\n"
        "  season: spring\n",
    )
    write(
        repo,
        "shop/deep/_defaults.yaml",
        "defaults:\n  board: Recipes\nvars:\n  season: summer\n",
    )
    write(
        repo,
        "shop/deep/items.yaml",
        "vars:\n"
        "  tone: bold\n"
        "defaults:\n"
        '  link: "{{ site }}/shop/{{ pin.id }}"\n'
        "  dominant_color: '#112233'\n"
        "pins:\n"
        "  - id: lamp\n"
        "    image: ../../media/salad.jpg\n"
        "  - id: mug\n"
        "    title: Our own title\n"
        "    board: Home Decor\n"
        "    image: ../../media/salad.jpg\n",
    )
    pins = rendered(pinops, "lamp", "mug")
    lamp, mug = pins["lamp"], pins["mug"]
    assert lamp["fields"] == {
        "board": "Recipes",  # the nearer folder wins over the farther one
        "alt_text": "A product photo",
        "title": "Shop bold summer",  # vars: pinops.yaml < folder < nearer folder < file
        "link": "https://example.com/shop/lamp",  # the pin's own id, read by a default's template
        "dominant_color": "#112233",
        "image": "../../media/salad.jpg",
    }
    assert (lamp["file"], lamp["line"]) == ("pins/shop/deep/items.yaml", 7)
    assert origin(lamp, "board") == "pins/shop/deep/_defaults.yaml:2"
    assert origin(lamp, "alt_text") == "pins/shop/_defaults.yaml:3"
    assert origin(lamp, "title") == "pins/shop/_defaults.yaml:4"
    assert origin(lamp, "link") == "pins/shop/deep/items.yaml:4"
    # The pin itself wins last.
    assert (mug["fields"]["title"], origin(mug, "title")) == (
        "Our own title",
        "pins/shop/deep/items.yaml:10",
    )
    assert (mug["fields"]["board"], origin(mug, "board")) == (
        "Home Decor",
        "pins/shop/deep/items.yaml:11",
    )
    assert pinops("validate").code == 0


def test_a_nearer_board_replaces_boards(pinops: Run, repo: Path) -> None:
    write(repo, "multi/_defaults.yaml", "defaults:\n  boards: [Recipes, Home Decor]\n")
    write(repo, "multi/one.yaml", PIN.format(id="one", title="One").replace("media/", "../media/"))
    assert rendered(pinops, "one")["one"]["fields"]["board"] == "Recipes"
    assert "boards" not in rendered(pinops, "one")["one"]["fields"]


def test_templates_read_the_pins_own_fields_in_any_order(pinops: Run, repo: Path) -> None:
    write(
        repo,
        "own.yaml",
        "pins:\n"
        "  - id: own\n"
        '    alt_text: "Photo: {{ pin.title }}"\n'
        '    title: "{{ pin.description | truncate(20) }}"\n'
        "    description: Garlic pasta with basil and a squeeze of lemon\n"
        "    board: Recipes\n"
        "    image: \"media/{{ pin.id | replace('own', 'pasta') }}.jpg\"\n",
    )
    fields = rendered(pinops, "own")["own"]["fields"]
    assert fields["title"] == "Garlic pasta with…"
    assert fields["alt_text"] == "Photo: Garlic pasta with…"
    assert fields["image"] == "media/pasta.jpg"


def test_templates_are_expanded_before_hashing(pinops: Run, repo: Path) -> None:
    add_vars(repo, "  dish: Garlic Pasta\n")
    write(repo, "t.yaml", PIN.format(id="templated", title="Easy {{ dish }}"))
    assert pinops("apply", "--yes").code == 0
    # Another template with the same result changes nothing.
    edit(repo / "pins/t.yaml", "Easy {{ dish }}", "{{ 'Easy ' ~ dish }}")
    assert "No changes" in pinops("plan").out
    # A var changing the effective value is an update showing the values, not the templates.
    edit(repo / "pinops.yaml", "dish: Garlic Pasta", "dish: Lemon Pasta")
    plan = pinops("plan").out
    assert "  ~ update templated  (pins/t.yaml:2)" in plan
    assert 'title:          "Easy Garlic Pasta" → "Easy Lemon Pasta"' in plan


# Template errors are located


def test_an_undefined_name_is_located(pinops: Run, repo: Path) -> None:
    write(repo, "t.yaml", PIN.format(id="t", title="{{ sitee }} pasta"))
    assert errors(pinops) == [
        "pins/t.yaml:3:12: error: title: 'sitee' is undefined (define it under vars: in this"
        " file, a _defaults.yaml above it, or pinops.yaml)"
    ]


def test_a_missing_pin_field_says_what_the_pin_has(pinops: Run, repo: Path) -> None:
    write(repo, "t.yaml", PIN.format(id="t", title="{{ pin.section }}"))
    [line] = errors(pinops)
    assert line.startswith("pins/t.yaml:3:12: error: title: the pin has no field 'section';")
    assert "it has: alt_text, board, id, image, link, title" in line


def test_a_syntax_error_is_located(pinops: Run, repo: Path) -> None:
    write(repo, "t.yaml", PIN.format(id="t", title="{{ dish "))
    [line] = errors(pinops)
    assert line.startswith("pins/t.yaml:3:12: error: title: template syntax error: ")


def test_a_loop_between_fields_is_an_error(pinops: Run, repo: Path) -> None:
    text = PIN.format(id="t", title="{{ pin.alt_text }}").replace(
        "alt_text: A bowl of pasta", 'alt_text: "{{ pin.title }}"'
    )
    write(repo, "t.yaml", text)
    assert errors(pinops) == [
        "pins/t.yaml:5:15: error: alt_text: templates refer to each other in a loop:"
        " title → alt_text → title (write one of them out in full)"
    ]


def test_every_template_error_is_reported_at_once(pinops: Run, repo: Path) -> None:
    write(repo, "a.yaml", PIN.format(id="a", title="{{ one }}"))
    write(repo, "b.yaml", PIN.format(id="b", title="{{ two }}"))
    assert [line.split(": error: ")[1][:20] for line in errors(pinops)] == [
        "title: 'one' is unde",
        "title: 'two' is unde",
    ]


def test_an_expanded_value_is_checked_like_a_written_one(pinops: Run, repo: Path) -> None:
    add_vars(repo, "  insecure: http://example.com\n  colour: red\n  long: " + "x" * 95 + "\n")
    write(
        repo,
        "t.yaml",
        "pins:\n"
        "  - id: t\n"
        '    title: "{{ long }} pasta"\n'
        '    link: "{{ insecure }}/pasta"\n'
        '    dominant_color: "{{ colour }}"\n'
        "    alt_text: A bowl of pasta\n"
        "    image: media/pasta.jpg\n"
        "    board: Recipes\n",
    )
    assert errors(pinops) == [
        "pins/t.yaml:3:12: error: title is 101 characters; the limit is 100 (shorten it by 1)",
        "pins/t.yaml:4:11: error: link 'http://example.com/pasta' is not valid"
        " (use a full https URL, e.g. https://example.com/page)",
        "pins/t.yaml:5:21: error: dominant_color 'red' is not valid"
        " (write it as #RRGGBB, e.g. #6E7874)",
    ]


def test_var_names_are_checked(pinops: Run, repo: Path) -> None:
    write(repo, "t.yaml", "vars:\n  pin: x\n  two-words: y\npins: []\n")
    assert errors(pinops) == [
        "pins/t.yaml:2:3: error: vars: the name 'pin' is taken (choose another name)",
        "pins/t.yaml:3:3: error: vars: the name 'two-words' is not valid"
        " (use letters, digits and '_', starting with a letter)",
    ]


# The sandbox


@pytest.mark.parametrize(
    ("template", "refusal"),
    [
        ("{{ ''.__class__.__mro__ }}", "access to attribute '__class__' of 'str' object is unsafe"),
        ("{{ cycler.__init__.__globals__ }}", "'cycler' is undefined"),
        ("{{ lipsum() }}", "'lipsum' is undefined"),
        ("{{ self }}", "'self' is not available in pin templates"),
        ("{{ self.__init__.__globals__ }}", "'self' is not available in pin templates"),
        ("{% include 'pinops.yaml' %}", "{% include %} is not allowed in pin templates"),
        ("{% extends 'x' %}", "{% extends %} is not allowed in pin templates"),
        ("{% macro m() %}{{ m() }}{% endmacro %}", "{% macro %} is not allowed"),
        ("{{ range(10**9) }}", "range() may count at most 100,000 numbers (use a smaller"),
        ("{{ range(10**9) | list }}", "range() may count at most 100,000 numbers"),
        ("{{ 'x' * 10**9 }}", "more than 100,000 characters"),
        ("{{ 10 ** 10 ** 10 }}", "a number of more than 128 bits"),
        ("{{ '%999999999d' % 1 }}", "more than 100,000 characters"),
        ("{{ 'x'.center(10**9) }}", "access to attribute 'center' of 'str' object is unsafe"),
        ("{{ '{:>999999999}'.format(1) }}", "access to attribute 'format'"),
        ("{{ 'x' | center(10**9) }}", "No filter named 'center'"),
        ("{% set a = 'x' * 99999 %}{{ a ~ a }}", "more than 100,000 characters"),
        ("{% set a = 'x' * 99999 %}{{ a + a }}", "more than 100,000 characters"),
        ("{{ range(100000) | join('xx') }}", "more than 100,000 characters"),
        ("{{ 'ab' | replace('', 'y' * 60000) }}", "more than 100,000 characters"),
        ("{% for i in range(60000) %}xy{% endfor %}", "more than 100,000 characters"),
        ("{{ [1].append(2) }}", "unsafe"),
        ("{{ 1 / 0 }}", "division by zero"),
        ("{{ pin }}", "the pin cannot be written out whole"),
    ],
)
def test_sandbox_escapes_and_bombs_are_refused(
    pinops: Run, repo: Path, template: str, refusal: str
) -> None:
    write(repo, "evil.yaml", PIN.format(id="evil", title=template.replace('"', '\\"')))
    [line] = errors(pinops)
    assert line.startswith("pins/evil.yaml:3:12: error: title: ")
    assert refusal in line


def test_truncate_fits_the_field_it_is_in(pinops: Run, repo: Path) -> None:
    add_vars(repo, f"  long: {'word ' * 300}\n")
    write(
        repo,
        "t.yaml",
        PIN.format(id="t", title="{{ long | truncate }}").replace(
            "alt_text: A bowl of pasta", 'alt_text: "{{ long | truncate }}"'
        )
        + '    description: "{{ long | truncate }}"\n',
    )
    fields = rendered(pinops, "t")["t"]["fields"]
    assert [len(fields[n]) for n in ("title", "description", "alt_text")] == [100, 800, 500]
    assert fields["title"].endswith("word…")
    assert pinops("validate").code == 0


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ 'Crème Brûlée, for 2!' | slug }}", "creme-brulee-for-2"),
        ("{{ 'salt & pepper/herbs' | urlencode }}", "salt%20%26%20pepper/herbs"),
        ("{{ 'short' | truncate(10) }}", "short"),
        ("{{ 'one two three four' | truncate(12) }}", "one two…"),
        ("{{ 'abcdefghijklmnop' | truncate(8, end='...') }}", "abcde..."),
        ("{{ ['a', 'b'] | join(', ') }}", "a, b"),
        ("{{ '%s and %05.1f' % ('x', 2.5) }}", "x and 002.5"),
        ("{{ 2 ** 10 * 3 }}", "3072"),
        ("{% if row.price %}{{ row.price }} €{% endif %}", "12 €"),
        ("{{ row.missing | default('none') }}", "none"),
        ("{{ row['name'] | upper }}", "LAMP"),
    ],
)
def test_filters_and_expressions(template: str, expected: str) -> None:
    row = jinjasafe.Namespace("the row", "column", {"price": "12", "name": "lamp"})
    assert jinjasafe.render(template, {"row": row}, "title") == expected


# Link parameters


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://example.com/a", "https://example.com/a?utm_source=pinterest&utm_medium=social"),
        (
            "https://example.com/a?page=2",
            "https://example.com/a?page=2&utm_source=pinterest&utm_medium=social",
        ),
        # A parameter the link already has keeps the link's value.
        (
            "https://example.com/a?utm_source=newsletter",
            "https://example.com/a?utm_source=newsletter&utm_medium=social",
        ),
        (
            "https://example.com/a#video",
            "https://example.com/a?utm_source=pinterest&utm_medium=social#video",
        ),
        ("https://example.com/a?", "https://example.com/a?utm_source=pinterest&utm_medium=social"),
        (
            "https://example.com/a?utm_source=x&utm_medium=y",
            "https://example.com/a?utm_source=x&utm_medium=y",
        ),
    ],
)
def test_link_parameters_merge(link: str, expected: str) -> None:
    assert with_params(link, {"utm_source": "pinterest", "utm_medium": "social"}) == expected


def test_link_parameter_values_are_encoded() -> None:
    assert (
        with_params("https://example.com/a", {"utm_campaign": "summer sale & more"})
        == "https://example.com/a?utm_campaign=summer+sale+%26+more"
    )


def test_link_parameters_cascade_from_defaults(pinops: Run, repo: Path) -> None:
    write(
        repo,
        "promo/_defaults.yaml",
        "defaults:\n"
        "  link_params:\n"
        "    utm_source: pinterest\n"
        "    utm_medium: social\n"
        "    utm_content: banner\n",
    )
    write(
        repo,
        "promo/pins.yaml",
        "defaults:\n"
        "  link_params:\n"
        '    utm_campaign: "{{ pin.id }}"\n'
        "    utm_medium: pin\n"
        "    utm_content: null\n"
        + PIN.format(id="promo", title="Pasta promo").replace("media/", "../media/"),
    )
    write(repo, "promo/plain.yaml", "id: plain\ntitle: Plain\nboard: Recipes\n")
    pins = rendered(pinops, "promo", "plain")
    assert pins["promo"]["fields"]["link"] == (
        "https://example.com/x?utm_source=pinterest&utm_medium=pin&utm_campaign=promo"
    )
    assert "link" not in pins["plain"]["fields"]  # no link, nothing to add to


def test_a_link_too_long_after_parameters_is_located(pinops: Run, repo: Path) -> None:
    write(repo, "long/_defaults.yaml", f"defaults:\n  link_params:\n    p: {'x' * 2040}\n")
    write(repo, "long/pin.yaml", PIN.format(id="long", title="Long").replace("media/", "../media/"))
    [line] = errors(pinops)
    assert line.startswith("pins/long/pin.yaml:4:11: error: link is 2064 characters;")


# pinops render


def test_render_prints_expanded_pins_with_their_places(pinops: Run, repo: Path) -> None:
    add_vars(repo, "  dish: Pasta\n")
    write(repo, "r.yaml", PIN.format(id="r", title="Easy {{ dish }}: tonight"))
    result = pinops("render", "r", "summer-*")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    salad = lines.index("- id: summer-salad  # pins/recipes/summer-salad.yaml:3:5")
    assert lines[salad : salad + 4] == [
        "- id: summer-salad  # pins/recipes/summer-salad.yaml:3:5",
        "  board: Recipes  # pins/recipes/_defaults.yaml:4:10",
        "  title: Crunchy Summer Salad with Lemon Dressing  # pins/recipes/summer-salad.yaml:4:8",
        "  description: Cucumber, radish, sweet corn and herbs in a crunchy salad with a bright"
        " lemon dressing. A side for every barbecue.  # pins/recipes/summer-salad.yaml:5:14",
    ]
    assert '  title: "Easy Pasta: tonight"  # pins/r.yaml:3:12' in result.out
    everything = pinops("render")
    assert everything.out.count("- id: ") > 2


def test_render_reports_template_errors_and_shows_the_rest(pinops: Run, repo: Path) -> None:
    write(repo, "bad.yaml", PIN.format(id="bad", title="{{ nothing }}"))
    result = pinops("render")
    assert result.code == 1
    assert "- id: summer-salad" in result.out and "- id: bad" not in result.out
    assert "pins/bad.yaml:3:12: error: title: 'nothing' is undefined" in result.err
