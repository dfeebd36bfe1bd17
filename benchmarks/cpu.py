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
import time
from typing import Any

import anyio

from .bench_actors import Echo, burn
from .measure import Size, row

TITLE = "CPU scaling"
WORKERS = (1, 2, 4, 8)
CHUNKS = 16
NOT_APPLICABLE = {"raw": "no raw baseline: the work itself is the same Python loop"}


def _rows(walls: dict[int, float]) -> list[dict[str, Any]]:
    rows = [row(f"wall, {w} workers", walls[w], "s", "lower", workers=w) for w in walls]
    rows += [
        row(f"speedup, {w} workers", walls[1] / walls[w], "x", "higher", workers=w)
        for w in walls
        if w != 1
    ]
    return rows


def _chunk(size: Size) -> int:
    return size.cpu_steps // CHUNKS


def interactors(size: Size, workers: tuple[int, ...] = WORKERS) -> list[dict[str, Any]]:
    import interactors as ia

    n = _chunk(size)

    async def main() -> dict[int, float]:
        walls: dict[int, float] = {}
        async with ia.ActorSystem() as system:
            refs = [await system.spawn(Echo) for _ in range(max(workers))]
            for w in workers:
                team = refs[:w]
                best = float("inf")
                for _ in range(size.repeat):
                    begin = time.perf_counter()
                    async with anyio.create_task_group() as tg:
                        for i in range(CHUNKS):  # all in flight: each actor's mailbox queues them
                            tg.start_soon(team[i % w].ask.burn, n)
                    best = min(best, time.perf_counter() - begin)
                walls[w] = best
        return walls

    return _rows(ia.run(main))


def _executor_walls(
    make: Any, size: Size, workers: tuple[int, ...], warm: bool = False
) -> dict[int, float]:
    n = _chunk(size)
    walls: dict[int, float] = {}
    for w in workers:
        with make(w) as pool:
            if warm:  # start every worker process before timing
                list(pool.map(burn, [1] * w * 4))
            best = float("inf")
            for _ in range(size.repeat):
                begin = time.perf_counter()
                list(pool.map(burn, [n] * CHUNKS))
                best = min(best, time.perf_counter() - begin)
            walls[w] = best
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
    walls: dict[int, float] = {}
    try:
        for w in workers:
            best = float("inf")
            for _ in range(size.repeat):
                begin = time.perf_counter()
                futures = [refs[i % w].ask(("burn", n), block=False) for i in range(CHUNKS)]
                list(pk.get_all(futures))
                best = min(best, time.perf_counter() - begin)
            walls[w] = best
    finally:
        for ref in refs:
            ref.stop()
    return _rows(walls)


def thespian(size: Size, workers: tuple[int, ...] = WORKERS) -> list[dict[str, Any]]:
    from .peer_thespian import ThespianEcho, start_system

    n = _chunk(size)
    system = start_system()
    walls: dict[int, float] = {}
    try:
        addrs = [system.createActor(ThespianEcho) for _ in range(max(workers))]
        for w in workers:
            best = float("inf")
            for _ in range(size.repeat):
                begin = time.perf_counter()
                for i in range(CHUNKS):
                    system.tell(addrs[i % w], ("burn", i, n))
                got = 0
                while got < CHUNKS:
                    reply = system.listen(60)
                    if reply is None:
                        raise TimeoutError("Thespian actors did not answer within 60 s")
                    got += 1
                best = min(best, time.perf_counter() - begin)
            walls[w] = best
    finally:
        system.shutdown()
    return _rows(walls)


def to_interpreter(size: Size, workers: tuple[int, ...] = WORKERS) -> list[dict[str, Any]]:
    from anyio import to_interpreter as ti

    n = _chunk(size)

    async def main() -> dict[int, float]:
        walls: dict[int, float] = {}
        for w in workers:
            call = functools.partial(ti.run_sync, limiter=anyio.CapacityLimiter(w))
            best = float("inf")
            for _ in range(size.repeat + 1):  # the first run also creates the interpreters
                begin = time.perf_counter()
                async with anyio.create_task_group() as tg:
                    for _ in range(CHUNKS):
                        tg.start_soon(call, burn, n)
                best = min(best, time.perf_counter() - begin)
            walls[w] = best
        return walls

    return _rows(asyncio.run(main()))


def ray(size: Size, workers: tuple[int, ...] = WORKERS) -> list[dict[str, Any]]:
    from . import peer_ray

    raym = peer_ray.init()
    try:
        echo = peer_ray.actor_classes()["echo"]
        n = _chunk(size)
        actors = [echo.remote() for _ in range(max(workers))]
        raym.get([a.ping.remote(0) for a in actors])
        walls: dict[int, float] = {}
        for w in workers:
            best = float("inf")
            for _ in range(size.repeat):
                begin = time.perf_counter()
                raym.get([actors[i % w].burn.remote(n) for i in range(CHUNKS)])
                best = min(best, time.perf_counter() - begin)
            walls[w] = best
    finally:
        raym.shutdown()
    return _rows(walls)


RUNNERS = {
    "interactors": interactors,
    "threads": threads,
    "processes": processes,
    "pykka": pykka,
    "thespian": thespian,
    "to_interpreter": to_interpreter,
    "ray": ray,
}
