"""Scenario 1 — CPU scaling: a fixed amount of pure-Python work split over 1/2/4/8 workers.

The work is ``CHUNKS`` equal calls of :func:`bench_actors.burn`; each framework spreads them
over its workers (actors, pool threads, pool processes, interpreters) and the wall time from
the first call to the last answer is the best of ``size.repeat`` runs. Workers are started
before the clock starts (spawning has its own scenario). Speedup is against 1 worker of the
same framework.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from .bench_actors import Echo, burn
from .measure import Size, best_time, best_time_async, row, runners

TITLE = "CPU scaling"
WORKERS = (1, 2, 4, 8)
CHUNKS = 16
NOT_APPLICABLE = {"raw": "no raw baseline: the work itself is the same Python loop"}
Walls = dict[int, float]  # workers -> best wall time (s)
IDLE = 10
WITH_IDLE = f"wall, 2 workers, {IDLE} idle actors"


def _rows(walls: Walls) -> list[dict[str, Any]]:
    rows = [row(f"wall, {w} workers", walls[w], "s", "lower", workers=w) for w in walls]
    rows += [
        row(f"speedup, {w} workers", walls[1] / walls[w], "x", "higher", workers=w)
        for w in walls
        if w != 1
    ]
    return rows


def _chunk(size: Size) -> int:
    return size.cpu_steps // CHUNKS


def _walls(repeat: int, workers: tuple[int, ...], all_chunks: Callable[[int], Any]) -> Walls:
    """The best wall time of ``all_chunks(w)`` (every chunk, over ``w`` workers), per ``w``."""
    return {w: best_time(repeat, functools.partial(all_chunks, w)) for w in workers}


async def _walls_async(
    repeat: int, workers: tuple[int, ...], all_chunks: Callable[[int], Awaitable[Any]]
) -> Walls:
    """The best wall time of ``await all_chunks(w)``, per ``w``."""
    return {w: await best_time_async(repeat, functools.partial(all_chunks, w)) for w in workers}


def interactors(size: Size, workers: tuple[int, ...] = WORKERS) -> list[dict[str, Any]]:
    import interactors as ia

    n = _chunk(size)

    async def main() -> tuple[Walls, float | None]:
        async with ia.ActorSystem() as system:
            refs = [await system.spawn(Echo) for _ in range(max(workers))]

            async def all_chunks(w: int) -> None:
                async with anyio.create_task_group() as tg:
                    for i in range(CHUNKS):  # all in flight: each actor's mailbox queues them
                        tg.start_soon(refs[i % w].ask.burn, n)

            walls = await _walls_async(size.repeat, workers, all_chunks)
            if 2 not in workers:
                return walls, None
            # The same 2-worker run with 10 more actors idle in the process (and the host
            # idle, awaiting): an idle actor must not take CPU from working ones.
            for _ in range(IDLE):
                await system.spawn(Echo)
            return walls, await best_time_async(size.repeat, functools.partial(all_chunks, 2))

    walls, crowded = ia.run(main)
    rows = _rows(walls)
    if crowded is not None:
        note = f"{IDLE} idle actors and an idle host in the same process"
        rows.append(row(WITH_IDLE, crowded, "s", "lower", note, workers=2))
    return rows


def _executor_walls(make: Any, size: Size, workers: tuple[int, ...], warm: bool = False) -> Walls:
    n = _chunk(size)
    walls: Walls = {}
    for w in workers:
        with make(w) as pool:
            if warm:  # start every worker process before timing
                list(pool.map(burn, [1] * w * 4))
            walls[w] = best_time(size.repeat, lambda: list(pool.map(burn, [n] * CHUNKS)))
    return walls


def threads(size: Size, workers: tuple[int, ...] = WORKERS) -> list[dict[str, Any]]:
    return _rows(_executor_walls(concurrent.futures.ThreadPoolExecutor, size, workers))


def processes(size: Size, workers: tuple[int, ...] = WORKERS) -> list[dict[str, Any]]:
    return _rows(_executor_walls(concurrent.futures.ProcessPoolExecutor, size, workers, warm=True))


def pykka(size: Size, workers: tuple[int, ...] = WORKERS) -> list[dict[str, Any]]:
    import pykka as pk

    from .peer_pykka import PykkaEcho

    n = _chunk(size)
    refs = [PykkaEcho.start() for _ in range(max(workers))]

    def all_chunks(w: int) -> None:
        list(pk.get_all([refs[i % w].ask(("burn", n), block=False) for i in range(CHUNKS)]))

    try:
        return _rows(_walls(size.repeat, workers, all_chunks))
    finally:
        for ref in refs:
            ref.stop()


def thespian(size: Size, workers: tuple[int, ...] = WORKERS) -> list[dict[str, Any]]:
    from .peer_thespian import ThespianEcho, start_system

    n = _chunk(size)
    system = start_system()
    try:
        addrs = [system.createActor(ThespianEcho) for _ in range(max(workers))]

        def all_chunks(w: int) -> None:
            for i in range(CHUNKS):
                system.tell(addrs[i % w], ("burn", i, n))
            for _ in range(CHUNKS):
                if system.listen(60) is None:
                    raise TimeoutError("Thespian actors did not answer within 60 s")

        return _rows(_walls(size.repeat, workers, all_chunks))
    finally:
        system.shutdown()


def to_interpreter(size: Size, workers: tuple[int, ...] = WORKERS) -> list[dict[str, Any]]:
    from anyio import to_interpreter as ti

    n = _chunk(size)

    async def main() -> Walls:
        limiters = {w: anyio.CapacityLimiter(w) for w in workers}

        async def all_chunks(w: int) -> None:
            call = functools.partial(ti.run_sync, limiter=limiters[w])
            async with anyio.create_task_group() as tg:
                for _ in range(CHUNKS):
                    tg.start_soon(call, burn, n)

        # One run more: the first also creates the interpreters.
        return await _walls_async(size.repeat + 1, workers, all_chunks)

    return _rows(asyncio.run(main()))


def ray(size: Size, workers: tuple[int, ...] = WORKERS) -> list[dict[str, Any]]:
    from . import peer_ray

    raym = peer_ray.init()
    try:
        echo = peer_ray.actor_classes()["echo"]
        n = _chunk(size)
        actors = [echo.remote() for _ in range(max(workers))]
        raym.get([a.ping.remote(0) for a in actors])

        def all_chunks(w: int) -> None:
            raym.get([actors[i % w].burn.remote(n) for i in range(CHUNKS)])

        return _rows(_walls(size.repeat, workers, all_chunks))
    finally:
        raym.shutdown()


RUNNERS = runners(globals())
