"""Actors for the supervision tests. Stdlib only."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

import interactors


class Recorder(interactors.Actor):
    """Appends its lifecycle to a file: ``name:event`` per line. A failing handler
    restarts it (it is what the supervision tests are about)."""

    on_error = "restart"

    def __init__(self, path: str) -> None:
        self.path = path
        self.value = 0

    def _log(self, event: str) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(f"{self.name}:{event}\n")

    def on_start(self) -> None:
        self._log("start")

    def on_stop(self) -> None:
        self._log("stop")

    def add(self, n: int) -> int:
        self.value += n
        return self.value

    def get(self) -> int:
        return self.value

    def fail(self) -> None:
        raise RuntimeError("recorder failed")

    def exit(self, code: int) -> None:
        raise SystemExit(code)

    def exit_after(self, seconds: float, code: int) -> None:
        time.sleep(seconds)
        raise SystemExit(code)


class Resumer(interactors.Actor):
    on_error = "resume"

    def __init__(self) -> None:
        self.value = 0

    def add(self, n: int) -> int:
        self.value += n
        return self.value

    def fail(self) -> None:
        raise RuntimeError("resumable")


class Stopper(interactors.Actor):
    on_error = "stop"

    def fail(self) -> None:
        raise RuntimeError("stop me")

    def ping(self) -> str:
        return "pong"


class Slow(interactors.Actor):
    handler_timeout = 0.3

    def __init__(self) -> None:
        self.handled = 0

    def spin(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass

    def block(self, seconds: float) -> None:
        time.sleep(seconds)

    def ping(self) -> int:
        self.handled += 1
        return self.handled

    def switch_interval(self) -> float:
        return sys.getswitchinterval()


class AsyncSlow(interactors.Actor):
    """An async actor: its handlers get a deadline, its loop a heartbeat."""

    handler_timeout = 0.3
    max_concurrency = 2

    async def wait(self, seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "done"

    def spin(self, seconds: float) -> None:  # a sync handler blocks the loop
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass

    async def ping(self) -> str:
        return "pong"


class BadStop(interactors.Actor):
    def on_stop(self) -> None:
        raise RuntimeError("on_stop failed")

    def ping(self) -> str:
        return "pong"


class Plain:
    """Not an interactors.Actor subclass: a plain class with methods is an actor too."""

    def hello(self) -> str:
        return "hello"


class Store(interactors.Actor):
    """A key-value store that keeps the default ``on_error``."""

    def __init__(self) -> None:
        self.entries: dict[str, str] = {}

    def put(self, key: str, value: str) -> int:
        self.entries[key] = value
        return len(self.entries)

    def size(self) -> int:
        return len(self.entries)


class Sleepy(interactors.Actor):
    """Answers after a ``time.sleep``: an ask that stays pending for a while."""

    def block(self, seconds: float) -> str:
        time.sleep(seconds)
        return "answered"


restart_attempts = 0  # module state: it survives in-place restarts


class SlowToFailRestart(interactors.Actor):
    """Crashes on request; every restart spends 0.3 s in ``__init__``, then fails."""

    on_error = "restart"

    def __init__(self) -> None:
        global restart_attempts
        restart_attempts += 1
        if restart_attempts > 1:
            time.sleep(0.3)
            raise RuntimeError("cannot start again")

    def fail(self) -> None:
        raise RuntimeError("first crash")


class SlowToRestart(interactors.Actor):
    """Its first start writes ``path``; every later one (a restart) spends 0.5 s in
    ``__init__`` (a file, not a global: a process actor restarts in a new process)."""

    on_error = "restart"

    def __init__(self, path: str) -> None:
        if os.path.exists(path):
            time.sleep(0.5)
        else:
            open(path, "w").close()

    def ping(self) -> str:
        return "pong"


class PoolWorker(interactors.Actor):
    """A pool member that says who it is; a failing handler restarts it."""

    on_error = "restart"

    def whoami(self, *args: object, **kwargs: object) -> str:
        return self.name

    def sleep(self, seconds: float) -> str:
        time.sleep(seconds)
        return self.name


class Instance(interactors.Actor):
    """An instance of a dynamic supervisor's template: remembers its constructor arguments
    and appends its lifecycle to ``path`` like :class:`Recorder`."""

    on_error = "restart"

    def __init__(self, path: str, *parts: str, stop_seconds: float = 0.0) -> None:
        self.path = path
        self.parts = list(parts)
        self.stop_seconds = stop_seconds

    def _log(self, event: str) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(f"{self.name}:{event}\n")

    def on_start(self) -> None:
        self._log("start")

    def on_stop(self) -> None:
        time.sleep(self.stop_seconds)  # a slow cleanup
        self._log("stop")

    def args(self) -> list[str]:
        return self.parts

    def fail(self) -> None:
        raise RuntimeError("instance failed")

    def exit(self, code: int) -> None:
        raise SystemExit(code)


class PoolClient(interactors.Actor):
    """Holds a pool sent to it (a PeerPool in here) and sends through it."""

    def __init__(self, pool: Any) -> None:
        self.workers = pool

    def describe(self) -> tuple[str, str, int, str]:
        pool = self.workers
        return type(pool).__name__, pool.name, pool.size, pool.policy

    def whoami_each(self, keys: list[Any]) -> list[str]:
        return [self.workers.ask.whoami(key).result(timeout=10) for key in keys]

    async def whoami_async(self, count: int) -> list[str]:
        return [await self.workers.ask(PoolWorker.whoami) for _ in range(count)]

    def tell_each(self, count: int) -> None:
        for _ in range(count):
            self.workers.tell.whoami()
        self.workers.tell_nowait.whoami()

    def sent_back(self) -> Any:
        return self.workers
