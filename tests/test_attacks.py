"""Hostile manifests from strangers' pull requests: each attack gets a clear, located error and
leaves the state file exactly as it was."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Result, Run
from tests.emulators.pinterest import ACCESS_TOKEN, PinterestEmulator
from tests.emulators.server import Fault

PIN = "id: {id}\nboard: Recipes\ntitle: T\nlink: https://example.com/x\nimage: {image}\n"


@pytest.fixture
def published(pinops: Run, repo: Path) -> Iterator[Path]:
    """The example published once; yields the state file, checked untouched afterwards."""
    assert pinops("apply", "--yes").code == 0
    state = repo / "pinops.state.json"
    before = state.read_bytes(), state.stat().st_mtime_ns
    yield state
    assert (state.read_bytes(), state.stat().st_mtime_ns) == before


def refused(pinops: Run, expected: str) -> None:
    for command in (("validate",), ("plan",), ("apply", "--yes")):
        result = pinops(*command)
        assert result.code == 1, result
        assert "Traceback" not in result.err
        assert expected in result.err, result.err


@pytest.mark.usefixtures("published")
def test_alias_bomb(pinops: Run, repo: Path) -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [
        f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join(['*' + chr(97 + n)] * 9)}]" for n in range(8)
    ]
    (repo / "pins/bomb.yaml").write_text("\n".join(lines) + "\n")
    refused(pinops, "pins/bomb.yaml:1:4: error: YAML anchors and aliases are not allowed")


@pytest.mark.usefixtures("published")
def test_deeply_nested_document(pinops: Run, repo: Path) -> None:
    (repo / "pins/deep.yaml").write_text("id: deep\nboard: " + "[" * 5000 + "]" * 5000 + "\n")
    refused(pinops, "pins/deep.yaml:2:")
    assert "nested more than" in pinops("validate").err


@pytest.mark.usefixtures("published")
def test_fifty_megabyte_manifest(pinops: Run, repo: Path) -> None:
    with (repo / "pins/huge.yaml").open("w") as out:
        out.write("id: huge\ndescription: ")
        out.write("x" * (50 * 1024 * 1024))
    refused(pinops, "pins/huge.yaml: error: the file is 52,428,822 bytes; the limit is")


@pytest.mark.usefixtures("published")
def test_duplicate_keys(pinops: Run, repo: Path) -> None:
    (repo / "pins/dupe.yaml").write_text(
        "id: a\nlink: https://example.com/\nlink: https://evil.example/\n"
    )
    refused(pinops, "pins/dupe.yaml:3:1: error: duplicate key 'link', first set on line 2 (keep")


@pytest.mark.usefixtures("published")
def test_symlink_escaping_the_repository(pinops: Run, repo: Path) -> None:
    outside = repo.parent / "outside.jpg"
    outside.write_bytes((repo / "pins/media/pasta.jpg").read_bytes())
    (repo / "pins/media/innocent.jpg").symlink_to(outside)
    (repo / "pins/link.yaml").write_text(PIN.format(id="link", image="media/innocent.jpg"))
    refused(pinops, "pins/link.yaml:5:8: error: ")


@pytest.mark.usefixtures("published")
def test_media_through_a_folder_linked_outside_is_refused(pinops: Run, repo: Path) -> None:
    outside = repo.parent / "elsewhere"
    outside.mkdir()
    (outside / "photo.jpg").write_bytes((repo / "pins/media/pasta.jpg").read_bytes())
    (repo / "pins/linked").symlink_to(outside)
    (repo / "pins/folder.yaml").write_text(PIN.format(id="folder", image="linked/photo.jpg"))
    refused(pinops, "pins/folder.yaml:5:8: error: media path 'linked/photo.jpg' is a symlink to ")


def test_media_swapped_for_a_link_out_after_the_plan_is_refused_at_apply(
    pinops: Run, repo: Path
) -> None:
    assert pinops("apply", "--yes").code == 0
    (repo / "pins/new.yaml").write_text(PIN.format(id="new", image="media/fresh.jpg"))
    (repo / "pins/media/fresh.jpg").write_bytes((repo / "pins/media/pasta.jpg").read_bytes())
    planned = pinops("plan")
    assert planned.code == 0
    assert "+ create new" in planned.out, planned.out
    state = repo / "pinops.state.json"
    before = state.read_bytes()
    outside = repo.parent / "secret.jpg"
    outside.write_bytes((repo / "pins/media/salad.jpg").read_bytes())
    (repo / "pins/media/fresh.jpg").unlink()
    (repo / "pins/media/fresh.jpg").symlink_to(outside)
    result = pinops("apply", "--yes")
    assert result.code == 1, result
    assert "Traceback" not in result.err
    assert "pins/new.yaml:5:8: error: media path 'media/fresh.jpg' is a symlink to " in result.err
    assert state.read_bytes() == before


@pytest.mark.usefixtures("published")
def test_dot_dot_media_path(pinops: Run, repo: Path) -> None:
    (repo / "pins/up.yaml").write_text(PIN.format(id="up", image="../../../../etc/hostname"))
    refused(pinops, "pins/up.yaml:5:8: error: ")


@pytest.mark.usefixtures("published")
def test_absolute_and_device_paths(pinops: Run, repo: Path) -> None:
    (repo / "pins/abs.yaml").write_text(PIN.format(id="abs", image="/dev/zero"))
    refused(pinops, "pins/abs.yaml:5:8: error: ")


@pytest.mark.usefixtures("published")
def test_fifo_is_never_opened(pinops: Run, repo: Path) -> None:
    os.mkfifo(repo / "pins/media/pipe.jpg")
    (repo / "pins/fifo.yaml").write_text(PIN.format(id="fifo", image="media/pipe.jpg"))
    refused(pinops, "pins/fifo.yaml:5:8: error: ")


@pytest.mark.usefixtures("published")
@pytest.mark.parametrize(
    ("field", "url", "expected"),
    [
        ("image", "file:///etc/passwd", "image URL uses file, not https"),
        ("image", "https://127.0.0.1/x.jpg", "image URL points at an internal address (127.0.0.1)"),
        ("image", "https://localhost/x.jpg", "image URL points at an internal address (localhost)"),
        ("image", "https://169.254.169.254/latest/meta-data", "internal address (169.254.169.254)"),
        ("image", "https://[::1]/x.jpg", "internal address (::1)"),
        ("image", "https://10.0.0.8/x.jpg", "internal address (10.0.0.8)"),
        ("image", "https://metadata.internal/x.jpg", "internal address (metadata.internal)"),
        ("image", "data:image/png;base64,AAAA", "image URL uses data, not https"),
        ("image", "javascript:alert(1)", "image URL uses javascript, not https"),
        ("link", "https://user:secret@example.com/", "link carries credentials"),
        ("link", "javascript:alert(1)", "link 'javascript:alert(1)' is not valid"),
        ("image", "https://intranet/x.jpg", "image URL has the host 'intranet', which is not"),
        (
            "link",
            "https://intranet/x",
            "link 'https://intranet/x' is not valid",
        ),
    ],
)
@pytest.mark.usefixtures("published")
def test_hostile_urls(pinops: Run, repo: Path, field: str, url: str, expected: str) -> None:
    text = PIN.format(id="url", image="media/pasta.jpg")
    if field == "image":
        text = text.replace("image: media/pasta.jpg", f"image: '{url}'")
    else:
        text = text.replace("link: https://example.com/x", f"link: '{url}'")
    (repo / "pins/url.yaml").write_text(text)
    refused(pinops, expected)


@pytest.mark.usefixtures("published")
def test_a_host_a_link_may_name_is_still_refused_as_a_media_url(pinops: Run, repo: Path) -> None:
    # Hosts are classified once per run: a link (never fetched) to an internal address must not
    # let a media URL on the same host through.
    link = PIN.format(id="first", image="media/pasta.jpg")
    (repo / "pins/first.yaml").write_text(link.replace("example.com/x", "10.0.0.8/page"))
    (repo / "pins/second.yaml").write_text(PIN.format(id="second", image="'https://10.0.0.8/x'"))
    refused(pinops, "pins/second.yaml:5:8: error: image URL points at an internal address")
    errors = [line for line in pinops("validate").err.splitlines() if ": error: " in line]
    assert errors == [line for line in errors if line.startswith("pins/second.yaml")]


def test_a_provider_error_echoing_the_token_never_prints_it(
    pinops: Run, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINTEREST_ACCESS_TOKEN", ACCESS_TOKEN)
    with PinterestEmulator() as api:
        api.add_board("Recipes")
        api.add_board("Weeknight Dinners")
        api.add_board("Home Decor")
        config = repo / "pinops.yaml"
        config.write_text(
            config.read_text().replace(
                "provider: sandbox", f"provider: pinterest\n    base_url: {api.base_url}"
            )
        )
        echo = {"code": 1, "message": f"Invalid token {ACCESS_TOKEN} (Bearer {ACCESS_TOKEN})"}
        api.faults.add(Fault(kind="status", status=400, body=echo, path="/v5/pins", times=None))
        result = pinops("--debug", "apply", "--yes")
    assert result.code == 1
    everything = (
        result.out
        + result.err
        + "".join(path.read_text(errors="replace") for path in repo.rglob("*") if path.is_file())
    )
    assert ACCESS_TOKEN not in everything
    assert "Invalid token" in result.out


def test_credentials_are_masked_in_every_output_channel(
    pinops: Run, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "pina_TESTSECRETVALUE0123456789abcdef"
    monkeypatch.setenv("POSTPEER_API_KEY", secret)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    (repo / "pins/leak.yaml").write_text(
        PIN.format(id="leak", image="media/pasta.jpg").replace("title: T", f"title: {secret}")
    )
    result = pinops("plan", "--json")
    # GitHub is told to mask it in the job log: the one line that names it, by design, on
    # standard error, so that standard output stays the plan.
    assert result.err.startswith(f"::add-mask::{secret}\n")
    rest = result.err.split("\n", 1)[1]
    assert secret not in result.out + rest
    assert '"title": "[redacted]"' in result.out


@pytest.mark.usefixtures("published")
@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ ''.__class__.__mro__ }}", "access to attribute '__class__' of 'str' object is unsafe"),
        ("{{ cycler.__init__.__globals__ }}", "'cycler' is undefined"),
        ("{{ self }}", "'self' is not available in pin templates"),
        ("{{ range.__self__ }}", "'function object' has no attribute '__self__'"),
        ("{% include '/etc/passwd' %}", "{% include %} is not allowed in pin templates"),
        ("{{ 'x' * 1000000000 }}", "builds a value of more than 100,000 characters"),
        (
            "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
            "more than 100,000 loop iterations",
        ),
        ("{{ 9 ** 9999999 }}", "a number of more than 128 bits"),
        ("{{ '%9999999d' % 1 }}", "builds a value of more than 100,000 characters"),
        ("{{ 'a'.ljust(10000000) }}", "unsafe"),
    ],
)
def test_template_sandbox_escapes_are_refused(
    pinops: Run, repo: Path, template: str, expected: str
) -> None:
    text = PIN.format(id="tpl", image="media/pasta.jpg").replace("title: T", f'title: "{template}"')
    (repo / "pins/tpl.yaml").write_text(text)
    refused(pinops, "pins/tpl.yaml:3:")
    assert expected in pinops("validate").err


@pytest.mark.usefixtures("published")
def test_a_manifest_symlinked_outside_is_never_read(pinops: Run, repo: Path) -> None:
    outside = repo.parent / "outside.yaml"
    outside.write_text(PIN.format(id="smuggled", image="media/pasta.jpg") + "secret: s3cr3t\n")
    (repo / "pins/x.yaml").symlink_to(Path("../../outside.yaml"))
    refused(pinops, "pins/x.yaml: error: the file is a symlink to ")
    result = pinops("plan")
    assert "outside the repository" in result.err
    assert "smuggled" not in result.out + result.err
    assert "s3cr3t" not in result.out + result.err


@pytest.mark.usefixtures("published")
def test_a_defaults_file_symlinked_outside_is_never_read(pinops: Run, repo: Path) -> None:
    outside = repo.parent / "defaults.yaml"
    outside.write_text("defaults:\n  board: Elsewhere\n")
    (repo / "pins/recipes/_defaults.yaml").unlink()
    (repo / "pins/recipes/_defaults.yaml").symlink_to(outside)
    refused(pinops, "pins/recipes/_defaults.yaml: error: the file is a symlink to ")


@pytest.mark.parametrize("target", ["/etc", "outside"])
@pytest.mark.usefixtures("published")
def test_a_pins_folder_linked_outside_is_an_error_not_zero_pins(
    pinops: Run, repo: Path, target: str
) -> None:
    if target == "outside":
        (repo.parent / "outside").mkdir()
        (repo.parent / "outside/pin.yaml").write_text(PIN.format(id="o", image="'https://x.io/a'"))
        target = str(repo.parent / "outside")
    config = repo / "pinops.yaml"
    config.write_text(config.read_text().replace("pins: pins/", "pins: linked/"))
    (repo / "linked").symlink_to(target)
    refused(pinops, "pinops.yaml:3:7: error: pins path 'linked/' is a symlink to ")


@pytest.mark.usefixtures("published")
def test_the_default_pins_folder_linked_to_etc_is_an_error(pinops: Run, repo: Path) -> None:
    config = repo / "pinops.yaml"
    config.write_text(config.read_text().replace("pins: pins/\n", ""))
    (repo / "pins").rename(repo / "real-pins")
    (repo / "pins").symlink_to("/etc")
    result = pinops("plan")
    assert result.code == 1
    assert "pinops.yaml: error: pins path 'pins/' is a symlink to /etc, outside" in result.err
    (repo / "pins").unlink()
    (repo / "real-pins").rename(repo / "pins")


def test_pinops_yaml_linked_outside_is_refused(pinops: Run, repo: Path) -> None:
    outside = repo.parent / "config.yaml"
    (repo / "pinops.yaml").rename(outside)
    (repo / "pinops.yaml").symlink_to(outside)
    result = pinops("validate")
    assert result.code == 1
    assert "pinops.yaml: error: pinops.yaml is a symlink to " in result.err
    assert "Traceback" not in result.err


@pytest.mark.usefixtures("published")
def test_a_huge_manifest_is_refused_before_it_is_read(pinops: Run, repo: Path) -> None:
    # A sparse file: 1 GiB by its size, no disk and no memory unless someone reads it.
    with (repo / "pins/sparse.yaml").open("wb") as out:
        out.truncate(1 << 30)
    refused(pinops, "pins/sparse.yaml: error: the file is 1,073,741,824 bytes; the limit is")


@pytest.mark.usefixtures("published")
@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "d.csv",
            "sku,name\nA1,Pan\nB2,Po\0t\n",
            "pins/d.csv:3:1: error: row 2, column 'name': the value holds the control character"
            " U+0000",
        ),
        (
            "d.json",
            '[{"sku": "A1", "name": "a\\u001bb"}]',
            "pins/d.json: error: item 1, 'name': the value holds the control character U+001B",
        ),
        (
            "d.yaml",
            '- sku: A1\n  name: "bad\\0"\n',
            "pins/d.yaml:2:9: error: the value holds the control character U+0000",
        ),
    ],
)
def test_control_characters_in_data_cells_are_refused(
    pinops: Run, repo: Path, name: str, content: str, expected: str
) -> None:
    (repo / "pins" / name).write_text(content)
    (repo / "pins/gen.yaml").write_text(
        f"defaults:\n  board: Recipes\ngenerate:\n  from: {name}\n  pin:\n"
        '    id: "g-{{ row.sku | lower }}"\n    title: "{{ row.name }}"\n'
        "    link: https://example.com/x\n    image: media/pasta.jpg\n"
    )
    refused(pinops, expected)


@pytest.mark.usefixtures("published")
def test_a_control_character_escaped_in_a_manifest_is_refused(pinops: Run, repo: Path) -> None:
    text = PIN.format(id="nul", image="media/pasta.jpg").replace("title: T", 'title: "T\\0"')
    (repo / "pins/nul.yaml").write_text(text)
    refused(pinops, "pins/nul.yaml:3:8: error: the value holds the control character U+0000")


def _commands(text: str) -> list[str]:
    """The lines of `text` the Actions runner would take for workflow commands."""
    return [line for line in text.splitlines() if line.lstrip().startswith("::") or "##[" in line]


def test_names_and_values_cannot_start_a_workflow_command(
    pinops: Run, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    hostile = "a\n::error file=x.py,line=1::forged\r##[error]forged too"
    text = PIN.format(id="evil", image="media/pasta.jpg").replace(
        "title: T", "title: '::warning::forged ##[warning]forged'"
    )
    (repo / f"pins/{hostile}.yaml").write_text(text)
    broken = repo / "pins/::notice::forged.yaml"
    broken.write_text(PIN.format(id="evil2", image="nope.jpg"))

    def only_own_annotations(*command: str) -> Result:
        result = pinops(*command)
        assert "Traceback" not in result.err
        for line in _commands(result.out + result.err):
            assert line.startswith(("::error file=pins/", "::warning file=pins/")), line
            assert ",title=pinops::" in line, line
        return result

    result = only_own_annotations("validate")
    shown = "pins/a\\n::error file=x.py,line=1::forged\\r#\\u0023[error]forged too.yaml"
    assert shown in result.err
    assert "pins/::notice::forged.yaml:5:8: error: " in result.err
    broken.unlink()
    for command in (("plan",), ("plan", "--json"), ("render",), ("render", "--json")):
        only_own_annotations(*command)
    applied = only_own_annotations("apply", "--yes")
    assert applied.code == 0, applied.out + applied.err
    assert "##[" in json.loads(only_own_annotations("state", "show", "evil").out)["fields"]["title"]
    only_own_annotations("state", "list")


@pytest.mark.usefixtures("published")
def test_the_loop_budget_is_for_the_whole_run(pinops: Run, repo: Path) -> None:
    loop = "{% for n in range(60000) %}{% endfor %}T"
    for name in ("one", "two"):
        text = PIN.format(id=name, image="media/pasta.jpg").replace("title: T", f'title: "{loop}"')
        (repo / f"pins/{name}.yaml").write_text(text)
    refused(pinops, "pins/two.yaml:3:8: error: title: template refused: the templates run more")
    assert "more than 100,000 loop iterations in all" in pinops("validate").err


@pytest.mark.usefixtures("published")
def test_costly_filters_over_thousands_of_pins_are_bounded(pinops: Run, repo: Path) -> None:
    (repo / "pins/rows.csv").write_text("n\n" + "".join(f"{n}\n" for n in range(3000)))
    (repo / "pins/gen.yaml").write_text(
        f"vars:\n  big: {'x' * 96_000}\ndefaults:\n  board: Recipes\n"
        "generate:\n  from: rows.csv\n  pin:\n"
        '    id: "g-{{ row.n }}"\n    title: "{{ (big | slug)[:10] }}{{ row.n }}"\n'
        "    link: https://example.com/x\n    image: media/pasta.jpg\n"
    )
    result = pinops("validate")
    assert result.code == 1
    assert "pins/gen.yaml:9:12: error: row " in result.err
    assert "the templates handle more than 50,000,000 characters in all" in result.err
