"""Actors for the process-isolation tests: crashes that only a process actor survives."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import interactors


class Crasher(interactors.Actor):
    """Ends its own process in the ways a C extension or the OS can."""

    def __init__(self) -> None:
        self.value = 0

    def add(self, n: int) -> int:
        self.value += n
        return self.value

    def pid(self) -> int:
        return os.getpid()

    def segfault(self) -> None:
        import ctypes

        ctypes.string_at(0)

    def hard_exit(self, code: int) -> None:
        os._exit(code)

    def system_exit(self, code: int) -> None:
        raise SystemExit(code)

    def kill_self(self) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def fail(self) -> None:
        raise RuntimeError("handler failed")

    def sleep(self, seconds: float) -> str:
        time.sleep(seconds)
        return "slept"

    def spin(self, seconds: float) -> str:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass
        return "spun"

    def sleep_ignoring_sigint(self, seconds: float) -> str:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        time.sleep(seconds)
        return "slept"


class Napper(interactors.Actor):
    """Sleeps in C (time.sleep); writes "stop" to ``path`` when it stops."""

    def __init__(self, path: str) -> None:
        self.path = path

    def nap(self, seconds: float) -> None:
        time.sleep(seconds)

    def on_stop(self) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write("stop\n")


class Caller(interactors.Actor):
    """Asks another actor from inside (actor-to-actor), whatever its isolation."""

    def call_sleep(self, target: Any, seconds: float) -> str:
        try:
            result: str = target.ask.sleep(seconds).result(timeout=30)
        except interactors.ActorCrashed as error:
            return f"crashed: {error}"
        return result


class Flooder(interactors.Actor):
    """Tells another actor without waiting, until its mailbox refuses."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def flood(self, n: int) -> tuple[int, str, str]:
        """How many tells went out before the first refusal, and that refusal."""
        for sent in range(n):
            try:
                self.target.tell_nowait.sleep(0)
            except (interactors.MailboxFull, interactors.ActorStopped) as error:
                return sent, type(error).__name__, str(error)
        return n, "", ""


class Journal(interactors.Actor):
    """Writes down what it is sent, in the order it arrives."""

    def __init__(self) -> None:
        self.entries: list[Any] = []

    def note(self, entry: Any, payload: Any = None) -> int:
        self.entries.append(entry)
        return len(self.entries)

    def read(self) -> list[Any]:
        return self.entries

    def echo(self, value: Any) -> Any:
        return value

    def nap(self, seconds: float) -> None:
        time.sleep(seconds)

    def note_elsewhere(self, other: Any, entry: Any) -> str:
        """Tell ``other`` to note ``entry``, then answer (the tell goes first)."""
        other.tell.note(entry)
        return "told"
