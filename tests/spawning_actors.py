"""Actors that start actors (``self.spawn``), for tests/test_spawn_inside.py. Stdlib only."""

from __future__ import annotations

import threading
from typing import Any

import interactors


class Worker(interactors.Actor):
    def __init__(self, factor: int = 1) -> None:
        self.factor = factor

    def work(self, n: int) -> int:
        return n * self.factor

    def quit(self) -> None:
        self.ref.stop()

    def exit(self, code: int) -> None:
        raise SystemExit(code)


class Boss(interactors.Actor):
    """Starts two workers in on_start (plain handler: ``.result()``), more when asked."""

    def on_start(self) -> None:
        self.workers = [self.spawn(Worker, i + 1).result(timeout=20) for i in range(2)]

    def total(self, n: int) -> int:
        return sum(w.ask.work(n).result(timeout=10) for w in self.workers)

    async def hire(self, factor: int, name: str | None = None) -> Any:
        worker = await self.spawn(Worker, factor, name=name)
        self.workers.append(worker)
        return worker  # reaches the host as an ActorRef

    def staff(self) -> list[Any]:
        return list(self.workers)

    def start_and_stop(self, count: int) -> tuple[int, list[Any]]:
        """Start ``count`` workers that stop themselves; how many answered, and their refs."""
        answered, started = 0, []
        for _ in range(count):
            worker = self.spawn(Worker, 2).result(timeout=20)
            answered += worker.ask.work(1).result(timeout=10) == 2
            worker.tell.quit()
            started.append(worker)
        return answered, started


class Fragile(interactors.Actor):
    """Restarted on error; each incarnation starts a worker of the same name."""

    on_error = "restart"

    def on_start(self) -> None:
        self.worker = self.spawn(Worker, 3, name="fragile-worker").result(timeout=20)

    def worker_ref(self) -> Any:
        return self.worker

    def fail(self) -> None:
        raise ValueError("fragile")


class Nest(interactors.Actor):
    """A binary tree of actors, each starting its two children in ``__init__``."""

    def __init__(self, depth: int) -> None:
        count = 2 if depth else 0
        self.children = [self.spawn(Nest, depth - 1).result(timeout=30) for _ in range(count)]

    def size(self) -> int:
        return 1 + sum(child.ask.size().result(timeout=20) for child in self.children)

    def refs(self) -> list[Any]:
        found = [self.ref]
        for child in self.children:
            found += child.ask.refs().result(timeout=20)
        return found


class Mistakes(interactors.Actor):
    """Each handler makes one mistake with ``spawn`` and returns what it raised."""

    def unimportable(self) -> str:
        return self._error(lambda: self.spawn("no_such_module:Worker").result(timeout=20))

    def unpicklable(self) -> str:
        return self._error(lambda: self.spawn(Worker, threading.Lock()))

    def bad_option(self) -> str:
        return self._error(lambda: self.spawn(Worker, mailbox_size=0).result(timeout=20))

    def init_fails(self) -> str:
        return self._error(lambda: self.spawn(Worker, 1, 2, 3).result(timeout=20))

    def not_a_class(self) -> str:
        return self._error(lambda: self.spawn(42))  # type: ignore[arg-type]

    @staticmethod
    def _error(call: Any) -> str:
        try:
            call()
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return "no error"


class Factory(interactors.Actor):
    """An actor whose own ``spawn`` handler replaces ``Actor.spawn``: it is a message."""

    def spawn(self, kind: str) -> str:  # type: ignore[override]
        return f"spawned {kind}"


class Watcher(interactors.Actor):
    """Monitors the worker it starts, and any actor it is asked to watch."""

    def __init__(self) -> None:
        self.downs: list[tuple[str, str, bool]] = []

    def on_start(self) -> None:
        self.worker = self.spawn(Worker, name="watched").result(timeout=20)
        self.monitor(self.worker, self.worker_down)

    def watch(self, ref: Any) -> None:
        self.monitor(ref, "worker_down")

    def worker_down(self, ref: Any, reason: str) -> None:
        self.downs.append((ref.name, reason, isinstance(ref, interactors.PeerRef)))

    def seen(self) -> list[tuple[str, str, bool]]:
        return self.downs

    def stop_worker(self) -> None:
        self.worker.stop()

    def mistakes(self) -> list[str]:
        found = []
        for ref, method in ((self.worker, "no_such_handler"), ("not a ref", "worker_down")):
            try:
                self.monitor(ref, method)
            except Exception as exc:
                found.append(f"{type(exc).__name__}: {exc}")
        return found


class Farm(interactors.Actor):
    """Starts a pool of workers in on_start, and spreads work over it."""

    def on_start(self) -> None:
        self.pool = self.spawn_pool(Worker, 3, size=2, name="farm-pool").result(timeout=30)

    def work_all(self, count: int) -> list[int]:
        return [self.pool.ask.work(i).result(timeout=10) for i in range(count)]

    async def another(self, size: int) -> Any:
        pool = await self.spawn_pool(Worker, size=size, policy="hash", name="hashed")
        return pool, [await pool.ask(Worker.work, 7) for _ in range(3)]

    def members(self) -> list[Any]:
        return list(self.pool.members)

    def bad_size(self) -> str:
        try:
            self.spawn_pool(Worker, size=-1).result(timeout=20)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return "no error"
