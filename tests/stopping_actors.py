"""Actors for tests/test_mail_of_stopped_actors.py. Stdlib only."""

from __future__ import annotations

import time
from typing import Any

import interactors


class Inbox(interactors.Actor):
    def __init__(self) -> None:
        self.got: list[int] = []

    def nap(self, seconds: float) -> None:
        time.sleep(seconds)

    def note(self, i: int) -> None:
        self.got.append(i)

    def received(self) -> list[int]:
        return self.got

    def ping(self) -> int:
        return 1


class Sender(interactors.Actor):
    def tell_many(self, target: Any, count: int) -> None:
        for i in range(count):
            target.tell.note(i)

    def ask_then_nap(self, target: Any, seconds: float) -> int:
        """Ask, then read no answer for ``seconds`` (the target stops meanwhile)."""
        pending = target.ask.ping()
        time.sleep(seconds)
        answer: int = pending.result(timeout=10)
        return answer

    def hammer(self, target: Any, seconds: float) -> tuple[int, str]:
        """Ask until the target is gone: how many answered, and how it ended."""
        answered = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                answered += target.ask.ping().result(timeout=10)
            except (interactors.ActorStopped, interactors.ActorCrashed):
                return answered, "refused"
            except TimeoutError:
                return answered, "lost"
        return answered, "never stopped"
