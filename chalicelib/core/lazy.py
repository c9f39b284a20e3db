"""A module imported when a handler first reads from it, so that a cold Lambda loads only what its
first request needs (docs/architecture.md, Cold start).

Not importlib.util.LazyLoader: before Python 3.12.3 it can run a module twice when two threads touch
it at once, as `chalice local` does. Every use says `cold start` on its line and is listed in
tests/test_architecture.py LAZY_IMPORTS.
"""

from __future__ import annotations

import importlib
from typing import Any


class OnFirstUse:
    """Stands for the module `name`; the first attribute read imports it (then Python's cache answers)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)
