"""The least any cold plan of a repository costs on this machine, for run.py to print beside the
cold-plan figures and their targets.

    python benchmarks/floor.py REPOSITORY

It does only what no plan can skip when nothing is cached: it parses every manifest with pinops'
own YAML loader (the fastest located parse there is in Python: every error must name its line
and column, and a strange pull request's file must be refused safely), hashes each pin's mapping
as canonical JSON, and decodes the state file with the standard decoder. Nothing else: no
defaults, templates, schema, checks, advice, media, plan or output. The manifests are split
evenly between two processes, and the state is decoded while the other process parses.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from reconciler import yamlsafe
from reconciler.pinfields import CANONICAL


def parse(paths: list[Path]) -> None:
    for path in paths:
        data = yamlsafe.load(path.read_bytes(), str(path)).data
        for pin in data.get("pins", []) if isinstance(data, dict) else []:
            hashlib.sha256(CANONICAL.encode(pin).encode()).hexdigest()


def main() -> None:
    root = Path(sys.argv[1])
    paths = sorted(p for p in (root / "pins").rglob("*") if p.suffix in (".yaml", ".yml"))
    helper = os.fork()
    if helper == 0:
        parse(paths[1::2])
        os._exit(0)
    json.loads((root / "pinops.state.json").read_bytes())
    parse(paths[0::2])
    _, status = os.waitpid(helper, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
