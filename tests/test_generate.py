"""`generate:`: one pin per row of a CSV, YAML or JSON data file in the repository."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Run

MANIFEST = """\
vars:
  shop: https://shop.example.com
defaults:
  board: Recipes
generate:
  from: {data}
  pin:
    id: "item-{{{{ row.sku | lower }}}}"
    title: "{{{{ row.name }}}}"
    description: "{{{{ row.name }}}}, now {{{{ row.price }}}} dollars."
    link: "{{{{ shop }}}}/p/{{{{ row.name | slug }}}}"
    alt_text: "A photo of the {{{{ row.name | lower }}}}"
    image: ../media/pasta.jpg
"""


def products(repo: Path, rows: list[dict[str, Any]], data: str = "products.csv") -> Path:
    folder = repo / "pins/catalog"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / data
    if data.endswith(".csv"):
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        path.write_text(json.dumps(rows), encoding="utf-8")
    (folder / "products.yaml").write_text(MANIFEST.format(data=data), encoding="utf-8")
    return path


def row(number: int, **values: Any) -> dict[str, Any]:
    return {"sku": f"S{number:04d}", "name": f"Skillet {number}", "price": number, **values}


def rendered(pinops: Run, *ids: str) -> list[dict[str, Any]]:
    result = pinops("render", "--json", *ids)
    assert result.code == 0, result.err
    found: list[dict[str, Any]] = json.loads(result.out)
    return found


def errors(pinops: Run) -> list[str]:
    result = pinops("validate")
    assert result.code == 1, result.out
    assert "Traceback" not in result.err
    return result.err.splitlines()[:-1]


def test_a_thousand_rows_make_a_thousand_pins(pinops: Run, repo: Path) -> None:
    products(repo, [row(n) for n in range(1000)])
    before = json.loads(pinops("plan", "--json").out)["summary"]["create"]
    (repo / "pins/catalog/products.yaml").unlink()
    assert json.loads(pinops("plan", "--json").out)["summary"]["create"] == before - 1000
    products(repo, [row(n) for n in range(1000)])
    pins = rendered(pinops, "item-*")
    assert len(pins) == 1000
    last = pins[-1]
    assert (last["id"], last["file"], last["line"], last["source"]) == (
        "item-s0999",
        "pins/catalog/products.yaml",
        5,
        "row 1000 of pins/catalog/products.csv",
    )
    assert last["fields"] == {
        "board": "Recipes",
        "title": "Skillet 999",
        "description": "Skillet 999, now 999 dollars.",
        "link": "https://shop.example.com/p/skillet-999",
        "alt_text": "A photo of the skillet 999",
        "image": "../media/pasta.jpg",
    }
    assert last["origins"]["title"] == {"file": "pins/catalog/products.yaml", "line": 9}
    assert last["origins"]["board"] == {"file": "pins/catalog/products.yaml", "line": 4}


def test_generated_pins_publish_and_follow_their_rows(pinops: Run, repo: Path) -> None:
    data = products(repo, [row(1), row(2), row(3)])
    result = pinops("apply", "--yes", "--show-plan")
    assert result.code == 0, result.err
    assert "  + create item-s0002  (pins/catalog/products.yaml:5)" in result.out
    assert "No changes" in pinops("plan").out
    products(repo, [row(1), row(2, price=5), row(3)])
    plan = pinops("plan").out
    assert "  ~ update item-s0002  (pins/catalog/products.yaml:5)" in plan
    assert '"Skillet 2, now 2 dollars." → "Skillet 2, now 5 dollars."' in plan
    assert "Plan: 0 to create, 1 to update" in plan
    assert data.exists()


def test_yaml_and_json_data_files(pinops: Run, repo: Path) -> None:
    products(repo, [row(1, name="Pan")], "products.json")
    assert [p["fields"]["title"] for p in rendered(pinops, "item-*")] == ["Pan"]
    (repo / "pins/catalog/products.json").unlink()
    (repo / "pins/catalog/items.yaml").write_text(
        "- {sku: A1, name: Pot, price: 10}\n- sku: B2\n  name: Lid\n  price: 3\n"
    )
    (repo / "pins/catalog/products.yaml").write_text(MANIFEST.format(data="items.yaml"))
    assert [p["fields"]["title"] for p in rendered(pinops, "item-*")] == ["Pot", "Lid"]


def test_a_problem_in_a_row_names_the_row(pinops: Run, repo: Path) -> None:
    products(repo, [row(1), row(2, name="x" * 101), row(3)])
    assert errors(pinops) == [
        "pins/catalog/products.yaml:9:12: error: row 2 of pins/catalog/products.csv: title is 101"
        " characters; the limit is 100 (shorten it by 1)"
    ]


def test_a_template_typo_is_reported_once_for_all_rows(pinops: Run, repo: Path) -> None:
    products(repo, [row(n) for n in range(50)])
    manifest = repo / "pins/catalog/products.yaml"
    manifest.write_text(manifest.read_text().replace('row.name }}"\n', 'row.nmae }}"\n', 1))
    assert errors(pinops) == [
        "pins/catalog/products.yaml:9:12: error: row 1 of pins/catalog/products.csv and 49 more"
        " rows: title: the row has no column 'nmae'; it has: name, price, sku (check the spelling)"
    ]


def test_duplicate_generated_ids_name_their_rows(pinops: Run, repo: Path) -> None:
    products(repo, [row(1), row(2), row(1, name="Again")])
    assert errors(pinops) == [
        "pins/catalog/products.yaml:5:1: error: row 3 of pins/catalog/products.csv: duplicate id"
        " 'item-s0001' (also at pins/catalog/products.yaml:5:1, row 1 of"
        " pins/catalog/products.csv) (ids must be unique)",
        "pins/catalog/products.yaml:5:1: error: row 1 of pins/catalog/products.csv: duplicate id"
        " 'item-s0001' (also at pins/catalog/products.yaml:5:1, row 3 of"
        " pins/catalog/products.csv) (ids must be unique)",
    ]


@pytest.mark.parametrize(
    ("id_line", "message"),
    [
        ("id: product", "the id of generated pins must be a template over the row"),
        ('id: "{{ shop }}"', "the id of generated pins must be a template over the row"),
        ('id: "{{ row.sku "', "id: template syntax error"),
    ],
)
def test_the_id_must_be_a_template_over_the_row(
    pinops: Run, repo: Path, id_line: str, message: str
) -> None:
    products(repo, [row(1)])
    manifest = repo / "pins/catalog/products.yaml"
    manifest.write_text(manifest.read_text().replace('id: "item-{{ row.sku | lower }}"', id_line))
    [line] = errors(pinops)
    assert line.startswith(f"pins/catalog/products.yaml:8:9: error: {message}")


def test_an_id_that_is_not_valid_after_expansion(pinops: Run, repo: Path) -> None:
    products(repo, [row(1, sku="has space")])
    [line] = errors(pinops)
    assert line == (
        "pins/catalog/products.yaml:8:9: error: row 1 of pins/catalog/products.csv: id 'item-has"
        " space' is not valid (use letters, digits, '.', '_' and '-', starting with a letter or"
        " digit)"
    )


@pytest.mark.parametrize(
    ("content", "location", "message"),
    [
        ("", "products.csv:1:1", "the CSV file has no header row"),
        ("sku,name,sku\n", "products.csv:1:1", "the column name 'sku' appears twice"),
        ("sku,,price\n", "products.csv:1:1", "column 2 has no name"),
        ("sku,name\nA1,Pan\nB2,Pot,extra\n", "products.csv:3:1", "this row has 3 cells"),
        ('sku,name\nA1,"unclosed\n', "products.csv:2:1", "invalid CSV"),
        (b"sku,name\nA1,\xff\n", "products.csv:2:4", "the data file is not valid UTF-8"),
    ],
)
def test_bad_csv_files_are_located(
    pinops: Run, repo: Path, content: str | bytes, location: str, message: str
) -> None:
    data = products(repo, [row(1)])
    if isinstance(content, bytes):
        data.write_bytes(content)
    else:
        data.write_text(content)
    [line] = errors(pinops)
    assert line.startswith(f"pins/catalog/{location}: error: {message}")


def test_a_csv_with_a_byte_order_mark_and_blank_lines(pinops: Run, repo: Path) -> None:
    data = products(repo, [row(1)])
    data.write_bytes(b"\xef\xbb\xbfsku, name, price\r\nA1, Pan, 3\r\n\r\nB2, Pot, 4\r\n")
    assert [p["id"] for p in rendered(pinops, "item-*")] == ["item-a1", "item-b2"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("d.json", '[{"sku": "A1"}, 3]', "pins/catalog/d.json: error: item 2 is not a mapping"),
        ("d.json", '{"sku": "A1"}', "pins/catalog/d.json: error: the data file must hold a list"),
        ("d.yaml", "sku: A1\n", "pins/catalog/d.yaml:1:1: error: the data file must hold a list"),
        ("d.json", '[{"sku": "A1"},\n  oops]', "pins/catalog/d.json:2:3: error: invalid JSON"),
        ("d.json", "[" * 100_000, "pins/catalog/d.json: error: the JSON is nested too deeply"),
        ("d.yaml", "- &a {sku: A1}\n- *a\n", "pins/catalog/d.yaml:1:3: error: YAML anchors"),
        ("d.yaml", "- sku: A1\n- just text\n", "pins/catalog/d.yaml:2:3: error: item 2 is not"),
        ("d.txt", "sku\nA1\n", "pins/catalog/products.yaml:6:9: error: data file 'd.txt' is not a"),
    ],
)
def test_bad_yaml_and_json_files_are_located(
    pinops: Run, repo: Path, name: str, content: str, message: str
) -> None:
    products(repo, [row(1)], name)
    (repo / "pins/catalog" / name).write_text(content)
    [line] = errors(pinops)
    assert line.startswith(message)


def test_too_many_rows(pinops: Run, repo: Path) -> None:
    data = products(repo, [row(1)])
    data.write_text("sku\n" + "".join(f"S{n}\n" for n in range(10_001)))
    assert errors(pinops) == [
        "pins/catalog/products.csv:10002:1: error: the data file has more than 10,000 rows"
        " (split it into several files, each with its own generate:)"
    ]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../../../outside.csv", "data path '../../../outside.csv' leads outside the repository"),
        ("missing.csv", "data file 'missing.csv' does not exist"),
        ("/etc/passwd", "data path '/etc/passwd' is absolute"),
        ("link.csv", "data path 'link.csv' is a symlink to"),
        (".", "data path '.' is a folder"),
    ],
)
def test_the_data_file_must_be_inside_the_repository(
    pinops: Run, repo: Path, path: str, message: str
) -> None:
    products(repo, [row(1)])
    outside = repo.parent / "outside.csv"
    outside.write_text("sku\nA1\n")
    (repo / "pins/catalog/link.csv").symlink_to(outside)
    manifest = repo / "pins/catalog/products.yaml"
    manifest.write_text(manifest.read_text().replace("from: products.csv", f"from: {path}"))
    [line] = errors(pinops)
    assert line.startswith(f"pins/catalog/products.yaml:6:9: error: {message}")
