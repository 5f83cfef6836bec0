"""pinops's exit codes, the one table of them (DESIGN.md, "Plan and apply"; `pinops --help`).

Errors carry theirs (errors.PinopsError.exit_code); the command line returns the others.
"""

from __future__ import annotations

OK = 0
ERROR = 1  # usage errors included: argparse's own 2 would read as CHANGES
CHANGES = 2  # plan --detailed-exitcode: there are changes to make now
BLOCKED = 3  # a safety check stopped the plan (errors.SafetyBlocked)
INTERRUPTED = 128 + 2  # SIGINT (Ctrl-C), as shells report it
