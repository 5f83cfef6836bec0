"""The data files of `generate:`: one row per pin, read from CSV, YAML or JSON in the repository.

A data file is input from a pull request like a manifest: it must stay inside the repository, its
size and row count are bounded, YAML goes through the hardened loader, and every problem is located
in the data file (or at `from:` when the file cannot be used at all).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import repofiles, yamlsafe
from reconciler.config import Config
from reconciler.errors import InputError, Location, Problem
from reconciler.manifest import MAX_PINS_PER_FILE
from reconciler.yamlsafe import JsonPath

# A data file declares pins as a manifest does, and is bounded alike.
MAX_ROWS = MAX_PINS_PER_FILE
SUFFIXES = (".csv", ".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Row:
    """One row of a data file; `number` counts data rows from 1, in file order."""

    number: int
    values: dict[str, Any]


@dataclass(frozen=True)
class DataFile:
    name: str  # as shown to users: relative to the repository root
    rows: list[Row]

    def row_label(self, row: Row) -> str:
        return f"row {row.number} of {self.name}"


class _Refused(Exception):
    def __init__(self, location: Location, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.problem = Problem(location, message, hint)


def read(config: Config, declaring_file: Path, value: str, at: Location) -> DataFile | Problem:
    """The rows of the data file `value`, written at `at` in `declaring_file`, or the problem that
    stops it from being used."""
    try:
        path = repofiles.resolve_repo_file(config.root, declaring_file, value, "data")
    except repofiles.MediaPathError as exc:
        return Problem(at, exc.message, exc.hint)
    name = config.relative(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        return Problem(
            at,
            f"data file {value!r} is not a .csv, .yaml, .yml or .json file",
            "generate pins from a CSV file with a header row, or a YAML or JSON list of mappings",
        )
    try:
        content = _read_bounded(config, path, name)
        if suffix == ".csv":
            rows = _csv_rows(content, name)
        elif suffix == ".json":
            # The json module keeps no positions: problems name the file only.
            rows = _records(_json(content, name), lambda _path: Location(name))
        else:
            document = yamlsafe.load(content, name)
            rows = _records(document.data, document.location)
    except _Refused as exc:
        return exc.problem
    except InputError as exc:
        return Problem(exc.location or Location(name), exc.message, exc.hint)
    return DataFile(name, rows)


def _too_many(location: Location) -> _Refused:
    return _Refused(
        location,
        f"the data file has more than {MAX_ROWS:,} rows",
        "split it into several files, each with its own generate:",
    )


def _read_bounded(config: Config, path: Path, name: str) -> bytes:
    try:
        return repofiles.read_bounded(config.root, path, yamlsafe.MAX_BYTES)
    except repofiles.Unreadable as exc:
        raise _Refused(
            Location(name), f"cannot use the data file: {exc.message}", exc.hint
        ) from None


def _text(content: bytes, name: str) -> str:
    try:
        # utf-8-sig: spreadsheets often save CSV with a byte order mark.
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = yamlsafe.undecodable(exc, name)
        raise _Refused(where, "the data file is not valid UTF-8", "save it as UTF-8") from None


def _csv_rows(content: bytes, name: str) -> list[Row]:
    lines = _text(content, name).splitlines(keepends=True)
    reader = csv.reader(lines, skipinitialspace=True, strict=True)
    rows: list[Row] = []
    try:
        header = next(reader, None)
        if not header:
            raise _Refused(
                Location(name, 1, 1),
                "the CSV file has no header row",
                "name the columns on the first line, e.g. sku,name,price",
            )
        columns = [column.strip() for column in header]
        for index, column in enumerate(columns):
            if not column:
                raise _Refused(
                    Location(name, 1, 1), f"column {index + 1} has no name", "name every column"
                )
            if columns.index(column) != index:
                raise _Refused(
                    Location(name, 1, 1),
                    f"the column name {column!r} appears twice",
                    "give every column its own name",
                )
        for record in reader:
            if not record:
                continue  # a blank line
            if len(record) != len(columns):
                raise _Refused(
                    Location(name, reader.line_num, 1),
                    f"this row has {len(record)} cells; the header names {len(columns)} columns",
                    'quote cells that contain commas, e.g. "Salt, flaky"',
                )
            if len(rows) == MAX_ROWS:
                raise _too_many(Location(name, reader.line_num, 1))
            for column, cell in zip(columns, record, strict=True):
                if yamlsafe.CONTROL.search(cell):
                    raise _Refused(
                        Location(name, reader.line_num, 1),
                        f"row {len(rows) + 1}, column {column!r}: {yamlsafe.control_message(cell)}",
                        yamlsafe.CONTROL_HINT,
                    )
            rows.append(Row(len(rows) + 1, dict(zip(columns, record, strict=True))))
    except csv.Error as exc:
        raise _Refused(
            Location(name, reader.line_num, 1),
            f"invalid CSV: {exc}",
            "put a cell holding commas, quotes or line breaks in double quotes, and double each "
            'quote inside it: "Say ""cheese"", please"',
        ) from None
    return rows


def _json(content: bytes, name: str) -> Any:
    try:
        return json.loads(_text(content, name))
    except json.JSONDecodeError as exc:
        raise _Refused(Location(name, exc.lineno, exc.colno), f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise _Refused(Location(name), "the JSON is nested too deeply", "flatten it") from None


def _records(data: Any, locate: Callable[[JsonPath], Location]) -> list[Row]:
    if not isinstance(data, list):
        raise _Refused(
            locate(()),
            "the data file must hold a list of mappings, one per pin",
            "write it as a list, e.g. - {sku: A1, name: Skillet}",
        )
    if len(data) > MAX_ROWS:
        raise _too_many(locate((MAX_ROWS,)))
    rows = []
    for index, record in enumerate(data):
        if not isinstance(record, dict) or not all(isinstance(k, str) for k in record):
            raise _Refused(
                locate((index,)),
                f"item {index + 1} is not a mapping of names to values",
                "each item holds one pin's values, e.g. {sku: A1, name: Skillet}",
            )
        for key, text in _texts(record, (index,)):
            if yamlsafe.CONTROL.search(text):
                raise _Refused(
                    locate(key),
                    f"item {index + 1}, {key[1]!r}: {yamlsafe.control_message(text)}",
                    yamlsafe.CONTROL_HINT,
                )
        rows.append(Row(index + 1, record))
    return rows


def _texts(value: Any, path: JsonPath) -> list[tuple[JsonPath, str]]:
    """Every string in `value` (keys included), with the path of the value that holds it."""
    found: list[tuple[JsonPath, str]] = []
    todo = [(path, value)]
    while todo:
        at, item = todo.pop()
        if isinstance(item, str):
            found.append((at, item))
        elif isinstance(item, dict):
            for key, inner in item.items():
                found.append(((*at, key), str(key)))
                todo.append(((*at, key), inner))
        elif isinstance(item, list):
            todo += [((*at, number), inner) for number, inner in enumerate(item)]
    return found
