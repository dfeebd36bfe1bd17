"""Actors for the standing fault suite (tests/faults/). Stdlib only."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import interactors


class Tally(interactors.Actor):
    """Counts what it is told; optionally lags behind (a pause every ``lag_every`` tells)."""

    def __init__(self, lag_every: int = 0, lag_seconds: float = 0.0) -> None:
        self.count = 0
        self.total = 0
        self.lag_every = lag_every
        self.lag_seconds = lag_seconds

    def add(self, n: int, tag: str = "", blob: bytes = b"") -> None:
        self.count += 1
        self.total += n
        if self.lag_every and self.count % self.lag_every == 0:
            time.sleep(self.lag_seconds)

    def totals(self) -> tuple[int, int]:
        return self.count, self.total


class Chaotic(interactors.Actor):
    """Does real work, and fails in every way an actor can when asked to."""

    def __init__(self) -> None:
        self.handled = 0

    def work(self, n: int) -> int:
        self.handled += 1
        return n * 2

    def boom(self, message: str) -> None:
        raise ValueError(message)

    def leave(self, code: int) -> None:
        raise SystemExit(code)

    def spin(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass

    def echo(self, value: Any) -> Any:
        return value

    def pid(self) -> int:
        return os.getpid()


class AsyncRecorder(interactors.Actor):
    """An async actor whose on_stop must run like a sync one's."""

    def __init__(self, path: str) -> None:
        self.path = path

    async def ping(self) -> str:
        return "pong"

    async def on_stop(self) -> None:
        await asyncio.sleep(0)  # a real coroutine: the worker must await it
        self._write("stopped")

    def _write(self, line: str) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


class Inner(interactors.Actor):
    """Tells another actor from inside, without waiting."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def flood(self, n: int) -> str:
        try:
            for i in range(n):
                self.target.tell_nowait.add(i)
        except interactors.MailboxFull:
            return "full"
        return "sent"
