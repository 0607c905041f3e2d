"""Periodic work that apps register and the desk's loop (`govwx desk run`, started by
`govwx serve`) runs: apps on the desk's floor or above it (publishing's sweep of due and
stuck jobs) cannot be imported by the desk, so they register here in their `ready()`.

Each chore runs at most once per its interval, in the loop's process; a chore that
fails is logged and tried again at its next turn, never stopping the loop."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class Chore:
    name: str
    run: Callable[[], Any]
    every: float
    last: float = float("-inf")


_chores: dict[str, Chore] = {}


def register(name: str, run: Callable[[], Any], *, every: float) -> None:
    """Have the loop run `run()` every `every` seconds (registering a name again
    replaces it)."""
    _chores[name] = Chore(name, run, every)


def registered() -> list[str]:
    return sorted(_chores)


def run_due(now: float | None = None) -> list[str]:
    """Run the chores whose interval has passed; returns their names."""
    now = time.monotonic() if now is None else now
    ran = []
    for chore in list(_chores.values()):
        if now - chore.last < chore.every:
            continue
        chore.last = now
        try:
            chore.run()
        except Exception:
            log.exception("chore %s failed", chore.name)
        ran.append(chore.name)
    return ran
