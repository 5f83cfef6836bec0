"""Local HTTP emulators of the APIs pinops talks to, with fault injection, for tests."""

from __future__ import annotations
