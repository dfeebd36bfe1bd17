"""Actors of the supervision example (``examples/supervision_tree.py``).

Stdlib and interactors only: every actor's interpreter imports this module, and an own-GIL
interpreter cannot load extensions such as msgspec or numpy.
"""

from __future__ import annotations

import time
from typing import Any

import interactors

# Module-level state lives in the interpreter, not in the instance: an in-place restart
# builds a fresh instance but keeps the module, so this count survives restarts.
instances_built = 0


class Cache(interactors.Actor):
    """A key-value store. Looking up a missing key is a bug here, and crashes the actor."""

    on_error = "restart"  # let it crash: its supervisor builds a fresh instance

    def __init__(self) -> None:
        global instances_built
        instances_built += 1
        self.entries: dict[str, str] = {}

    def put(self, key: str, value: str) -> int:
        self.entries[key] = value
        return len(self.entries)

    def get(self, key: str) -> str:
        return self.entries[key]  # KeyError escapes: the actor restarts

    def size(self) -> int:
        return len(self.entries)

    def built(self) -> int:
        """How many instances this interpreter has built (module-level state)."""
        return instances_built


class Worker(interactors.Actor):
    """Does a unit of work per message; a handler running past 0.5 s counts as hung."""

    handler_timeout = 0.5

    def __init__(self) -> None:
        self.done = 0

    def work(self, units: int) -> int:
        self.done += units
        return self.done

    def spin(self, seconds: float) -> None:
        """A runaway loop in Python: the watchdog breaks it after ``handler_timeout``."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass


class Reporter(interactors.Actor):
    """A one-off job: it is ``temporary`` in the tree, so once stopped it stays stopped."""

    def report(self, lines: list[str]) -> str:
        return " | ".join(lines)


class Session(interactors.Actor):
    """One user's session, an instance of a dynamic supervisor's template. A bad command
    crashes it (it is restarted with the same arguments); ``logout`` ends it normally."""

    on_error = "restart"

    def __init__(self, service: str, user: str) -> None:
        self.service = service
        self.user = user

    def whoami(self) -> str:
        return f"{self.user}@{self.service}"

    def command(self, text: str) -> str:
        if text == "bad":
            raise ValueError(f"bad command from {self.user}")
        return f"{self.user}: {text}"

    def logout(self) -> None:
        raise SystemExit(0)  # a normal exit: a transient child is not restarted


class Farmer(interactors.Actor):
    """Farms work out through a pool it was sent (a PeerPool in here: no host involved)."""

    def __init__(self, workers: Any) -> None:
        self.workers = workers

    async def farm(self, jobs: int) -> list[int]:
        replies = [self.workers.ask.work(1) for _ in range(jobs)]  # sent at once
        return [await reply for reply in replies]
