"""Print pip constraints pinning every dependency pyproject.toml declares to its lowest allowed
version (its `>=` floor), so CI can test the bottom of each declared range."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

FLOOR = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*>=\s*([^,;\s]+)")


def main() -> int:
    project = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))["project"]
    # What .ci/lowest installs: the dependencies and the test extra (the docs extra only builds
    # the site, which the lowest run does not).
    declared = list(project["dependencies"]) + project["optional-dependencies"]["test"]
    for requirement in declared:
        found = FLOOR.match(requirement)
        if found:
            print(f"{found.group(1)}=={found.group(2)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
