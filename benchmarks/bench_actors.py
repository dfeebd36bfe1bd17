"""Workloads and actor classes for the benchmarks.

Stdlib only: this module is imported inside the actors' own-GIL interpreters, by process
workers and by ``anyio.to_interpreter``, so it must never import a peer framework (those
live in the ``peer_*`` modules).
"""

from __future__ import annotations

import interactors

TYPE_CHECKING = False  # typing stays out of the actors' interpreters (~1 MiB each)
if TYPE_CHECKING:
    from typing import Any


def burn(n: int) -> int:
    """Pure-Python CPU work: about 60 ns per step on a recent x86 core."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def echo(value: Any) -> Any:
    return value


def length(value: Any) -> int:
    return len(value)


class Echo(interactors.Actor):
    """Plain handlers only, so the worker runs its fast blocking loop."""

    def __init__(self) -> None:
        self.received = 0

    def ping(self, value: Any) -> Any:
        return value

    def length(self, data: Any) -> int:
        return len(data)

    def burn(self, n: int) -> int:
        return burn(n)

    def add(self, n: int) -> None:
        self.received += n

    def put(self, data: Any) -> None:
        self.received += 1

    def count(self) -> int:
        return self.received

    def crash(self) -> None:
        raise RuntimeError("crashing on purpose")

    def start_profile(self) -> None:
        """Profile this actor's thread (its worker loop too) until ``stop_profile``."""
        import cProfile

        self._profiler = cProfile.Profile()
        self._profiler.enable()

    def stop_profile(self, top: int = 20) -> str:
        self._profiler.disable()
        return profile_text(self._profiler, top)

    def stop_profile_steps(self, top: int = 12) -> list[tuple[str, float, int]]:
        self._profiler.disable()
        return profile_steps(self._profiler, top)


class Lagging(interactors.Actor):
    """Counts tells of small tuples; pauses ``pause`` s every ``every`` of them (0: never)."""

    def __init__(self, every: int = 0, pause: float = 0.0) -> None:
        self.received = 0
        self.every = every
        self.pause = pause

    def add(self, n: int, tag: str, blob: bytes) -> None:
        self.received += 1
        if self.every and self.received % self.every == 0:
            import time

            time.sleep(self.pause)

    def count(self) -> int:
        return self.received


class Pinger(interactors.Actor):
    """Asks another actor directly (actor-to-actor), or tells it in bulk."""

    def ping_many(self, target: Any, n: int) -> int:
        for i in range(n):
            target.ask.ping(i).result(timeout=10)
        return n

    def _profiled_ping_many(self, target: Any, n: int) -> Any:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        self.ping_many(target, n)
        profiler.disable()
        return profiler

    def profile_ping_many_steps(self, target: Any, n: int, top: int = 12) -> list[Any]:
        return profile_steps(self._profiled_ping_many(target, n), top)

    def profile_ping_many(self, target: Any, n: int, top: int = 20) -> str:
        return profile_text(self._profiled_ping_many(target, n), top)

    def produce(self, target: Any, n: int, size: int) -> int:
        data = b"x" * size if size else 1
        put = target.tell.put
        for _ in range(n):
            put(data)
        return n


class AsyncPinger(interactors.Actor):
    """Asks another actor from an ``async def`` handler, awaiting each answer."""

    async def ping_many(self, target: Any, n: int) -> int:
        for i in range(n):
            await target.ask.ping(i)
        return n

    async def profile_ping_many(self, target: Any, n: int, top: int = 12) -> list[Any]:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        await self.ping_many(target, n)
        profiler.disable()
        return profile_steps(profiler, top)


class RingNode(interactors.Actor):
    """Passes a token to the next node; the head resolves its waiter when it runs out."""

    def __init__(self) -> None:
        self.next: Any = None

    def link(self, next_ref: Any) -> None:
        self.next = next_ref

    def token(self, hops: int) -> None:
        self.next.tell.token(hops - 1)


class RingHead(interactors.Actor):
    """The ring's first node: ``run`` sends the token round and waits for it to come back."""

    max_concurrency = 2

    def __init__(self) -> None:
        self.next: Any = None
        self.done: Any = None

    def link(self, next_ref: Any) -> None:
        self.next = next_ref

    def token(self, hops: int) -> None:
        if hops <= 0:
            if self.done is not None and not self.done.done():
                self.done.set_result(None)
            return
        self.next.tell.token(hops - 1)

    async def run(self, hops: int) -> int:
        import asyncio  # only the head runs an event loop

        self.done = asyncio.get_running_loop().create_future()
        self.next.tell.token(hops - 1)
        await self.done
        return hops


def profile_steps(profiler: Any, top: int) -> list[tuple[str, float, int]]:
    """``(function, own seconds, calls)`` of the ``top`` functions by own time."""
    import os
    import pstats

    stats: Any = pstats.Stats(profiler).stats
    steps = []
    for (path, line, func), (_cc, calls, own, _cum, _callers) in stats.items():
        where = f"{os.path.basename(path)}:{line}" if path != "~" else "built-in"
        steps.append((f"{func} ({where})", own, calls))
    steps.sort(key=lambda step: -step[1])
    return steps[:top]


def profile_text(profiler: Any, top: int) -> str:
    import io
    import pstats

    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def pipe_echo_worker(conn: Any) -> None:
    """A process worker that sends back whatever it receives until it gets ``None``."""
    while True:
        value = conn.recv()
        if value is None:
            return
        conn.send(value)


def queue_consumer(inbox: Any, conn: Any) -> None:
    """A process worker counting what arrives on ``inbox``; says so on ``conn`` at a mark."""
    counted = 0
    while (item := inbox.get()) is not None:
        if item == "mark":
            conn.send(counted)
        else:
            counted += 1


def queue_producer(inbox: Any, n: int, size: int, gate: Any) -> None:
    """A process worker putting ``n`` messages on ``inbox`` once ``gate`` is set."""
    data = b"x" * size if size else 1
    gate.wait()
    for _ in range(n):
        inbox.put(data)
