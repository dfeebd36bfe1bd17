"""Scenario 5 — starting workers: time to first answer, and memory per idle worker.

- first answer, 1 actor: from the spawn call until the new actor's first reply (median of
  ``size.repeat``); the actor system, process pool or cluster already runs. interactors
  runs with its defaults, which keep one warm spare interpreter (made in the background
  while the program does other things: the benchmark pauses untimed so that it is ready),
  and again with ``spare_interpreters=0``, where every spawn creates an interpreter;
- first answer, N actors: ``size.spawn_many`` spawned at once, until every one has answered;
- memory per idle actor, measured first in the cell's fresh process: one warm-up worker,
  then ``size.idle_actors`` more; in-process workers (actors, threads) count the growth of
  this process's VmRSS, worker processes count their own VmRSS (and PSS, which splits
  shared pages between the processes sharing them). The benchmark actors' module imports
  only ``interactors``; a second row spawns an actor whose module imports ``typing``, as
  many applications' modules do, which costs each interpreter about 1 MiB more.
"""

from __future__ import annotations

import asyncio
import functools
import statistics
import time
from collections.abc import Callable
from typing import Any

import anyio

from . import bench_actors
from .bench_actors import Echo
from .bench_typed import TypedEcho
from .measure import (
    RssGrowth,
    Size,
    Timer,
    elapsed,
    elapsed_async,
    mean_mib,
    median_ms_of,
    pss_kib,
    row,
    rss_kib,
    runners,
)
from .peer_threads import EchoThread

TITLE = "Spawn time and memory"
SPARE_REFILL = 0.3  # seconds: ample for the background refill of a spare interpreter
SEQUENTIAL = 20
SEQUENTIAL_ROW = "first answer, sequential spawns p50"
WARM_NOTE = "default system: one warm spare interpreter, refilled in the background"


def _rows(
    size: Size,
    one_ms: float,
    many_s: float | None,
    rss_mib: float | None,
    pss_mib: float | None = None,
    note: str = "",
) -> list[dict[str, Any]]:
    rows = [row("first answer, 1 actor", one_ms, "ms", "lower", note)]
    if many_s is not None:
        rows.append(
            row(f"first answer, {size.spawn_many} actors", many_s, "s", "lower", n=size.spawn_many)
        )
    if rss_mib is not None:
        rows.append(row("RSS per idle actor", rss_mib, "MiB", "lower"))
    if pss_mib is not None:
        rows.append(row("PSS per idle actor", pss_mib, "MiB", "lower", "shared pages split"))
    return rows


def _growth_mib(start: Callable[[], Any], count: int) -> float:
    """VmRSS growth of this process per worker started by ``start`` (after one warm-up)."""
    start()
    with RssGrowth() as rss:
        for _ in range(count):
            start()
    return rss.mib_each(count)


def _median_ms(size: Size, once: Callable[[], float]) -> float:
    return median_ms_of(max(3, size.repeat), once)


def _in_process(
    size: Size,
    start: Callable[[], Any],
    start_many: Callable[[], Any],
    stop_all: Callable[[], Any],
    note: str = "",
) -> list[dict[str, Any]]:
    """Rows for workers living in this process: ``start`` one (and wait for its answer),
    ``start_many`` (``size.spawn_many`` at once), then ``stop_all`` they started."""
    try:
        rss = _growth_mib(start, size.idle_actors)
        one = _median_ms(size, lambda: elapsed(start))
        many = elapsed(start_many)
    finally:
        stop_all()
    return _rows(size, one, many, rss, note=note)


def interactors(size: Size) -> list[dict[str, Any]]:
    import interactors as ia

    async def first_answer(system: Any) -> float:
        with Timer() as first:
            ref = await system.spawn(Echo)
            await ref.ask.ping(0)
        await ref.stop()
        return first.seconds

    async def start_one(system: Any, cls: type = Echo) -> None:
        await (await system.spawn(cls)).ask.ping(0)

    async def main() -> list[dict[str, Any]]:
        # Defaults: the system keeps one warm spare interpreter, refilled in the background.
        async with ia.ActorSystem() as system:
            await start_one(system)
            await anyio.sleep(SPARE_REFILL)
            with RssGrowth() as rss:
                for _ in range(size.idle_actors):
                    await start_one(system)
                await anyio.sleep(SPARE_REFILL)  # the spare is back, as before
            await start_one(system, TypedEcho)
            await anyio.sleep(SPARE_REFILL)
            with RssGrowth() as typed_rss:
                for _ in range(size.idle_actors):
                    await start_one(system, TypedEcho)
                await anyio.sleep(SPARE_REFILL)
            for ref in system.actors():
                await ref.stop()

            warm = []
            for _ in range(max(3, size.repeat)):
                await anyio.sleep(SPARE_REFILL)  # untimed: the spare is ready, as after a pause
                warm.append(await first_answer(system))

            async def start_many() -> None:
                async with anyio.create_task_group() as tg:
                    for _ in range(size.spawn_many):
                        tg.start_soon(start_one, system)

            await anyio.sleep(SPARE_REFILL)
            many = await elapsed_async(start_many)

            await anyio.sleep(SPARE_REFILL)
            back_to_back = []  # no pause: the spares must keep up
            for _ in range(SEQUENTIAL):
                with Timer() as each:
                    await start_one(system)
                back_to_back.append(each.seconds)
        async with ia.ActorSystem(spare_interpreters=0) as system:
            cold = [await first_answer(system) for _ in range(max(3, size.repeat))]
        rss_mib = rss.mib_each(size.idle_actors)
        rows = _rows(size, statistics.median(warm) * 1e3, many, rss_mib, note=WARM_NOTE)
        rows.insert(
            1,
            row(
                "first answer, 1 actor, no spare",
                statistics.median(cold) * 1e3,
                "ms",
                "lower",
                "spare_interpreters=0: a new interpreter per spawn",
            ),
        )
        rows.insert(
            2,
            row(
                SEQUENTIAL_ROW,
                statistics.median(back_to_back) * 1e3,
                "ms",
                "lower",
                f"{SEQUENTIAL} spawns back to back, each until its first answer; default spares",
            ),
        )
        rows.append(
            row(
                "RSS per idle actor, module imports typing",
                typed_rss.mib_each(size.idle_actors),
                "MiB",
                "lower",
                "the actor class's module imports typing, as many applications do",
            )
        )
        return rows

    return ia.run(main)


def threads(size: Size) -> list[dict[str, Any]]:
    workers: list[EchoThread] = []

    def start() -> None:
        worker = EchoThread("bench-idle")
        worker.ask(0)
        workers.append(worker)

    def start_many() -> None:
        for _ in range(size.spawn_many):
            start()

    def stop_all() -> None:
        for worker in workers:
            worker.stop()

    return _in_process(size, start, start_many, stop_all, "a thread with a SimpleQueue inbox")


def processes(size: Size) -> list[dict[str, Any]]:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    started: list[tuple[Any, Any]] = []

    def launch() -> Any:
        here, there = context.Pipe()
        worker = context.Process(target=bench_actors.pipe_echo_worker, args=(there,))
        worker.start()
        there.close()
        started.append((worker, here))
        return here

    def first_answer() -> None:
        conn = launch()
        conn.send(0)
        conn.recv()

    def start_many() -> None:
        conns = [launch() for _ in range(size.spawn_many)]
        for conn in conns:
            conn.send(0)
        for conn in conns:
            conn.recv()

    try:
        for _ in range(size.idle_actors):
            first_answer()
        pids = [worker.pid for worker, _ in started]
        rss, pss = mean_mib(rss_kib, pids), mean_mib(pss_kib, pids)
        one = _median_ms(size, lambda: elapsed(first_answer))
        many = elapsed(start_many)
    finally:
        for _, conn in started:
            conn.send(None)
            conn.close()
        for worker, _ in started:
            worker.join(10)
    return _rows(size, one, many, rss, pss, "multiprocessing spawn-method Process + Pipe")


def pykka(size: Size) -> list[dict[str, Any]]:
    from .peer_pykka import PykkaEcho

    refs: list[Any] = []

    def start() -> None:
        ref = PykkaEcho.start()
        ref.ask(("ping", 0))
        refs.append(ref)

    def start_many() -> None:
        fresh = [PykkaEcho.start() for _ in range(size.spawn_many)]
        refs.extend(fresh)
        for ref in fresh:
            ref.ask(("ping", 0))

    def stop_all() -> None:
        for ref in refs:
            ref.stop()

    return _in_process(size, start, start_many, stop_all)


def thespian(size: Size) -> list[dict[str, Any]]:
    from .peer_thespian import ThespianEcho, start_system

    system = start_system()
    try:

        def first_answer() -> None:
            system.ask(system.createActor(ThespianEcho), ("ping", 0), 30)

        def start_many() -> None:
            fresh = [system.createActor(ThespianEcho) for _ in range(size.spawn_many)]
            for addr in fresh:
                system.ask(addr, ("ping", 0), 30)

        addrs = [system.createActor(ThespianEcho) for _ in range(size.idle_actors)]
        pids = [system.ask(addr, ("pid",), 30) for addr in addrs]
        rss, pss = mean_mib(rss_kib, pids), mean_mib(pss_kib, pids)
        one = _median_ms(size, lambda: elapsed(first_answer))
        many = elapsed(start_many)
    finally:
        system.shutdown()
    return _rows(size, one, many, rss, pss, "one forked process per actor")


def to_interpreter(size: Size) -> list[dict[str, Any]]:
    from anyio import to_interpreter as ti

    async def first_answer() -> None:
        await ti.run_sync(bench_actors.echo, 0)  # a new event loop has no worker yet

    async def idle_workers(count: int) -> float:
        limiter = anyio.CapacityLimiter(count + 1)
        call = functools.partial(ti.run_sync, limiter=limiter)
        await call(bench_actors.echo, 0)
        with RssGrowth() as rss:
            async with anyio.create_task_group() as tg:  # all at once: one worker each
                for _ in range(count):
                    tg.start_soon(call, time.sleep, 0.3)
        return rss.mib_each(count)

    rss = asyncio.run(idle_workers(size.idle_actors))
    one = _median_ms(size, lambda: asyncio.run(elapsed_async(first_answer)))
    return _rows(size, one, None, rss, note="a new worker interpreter, no actor")


def ray(size: Size) -> list[dict[str, Any]]:
    from . import peer_ray

    raym = peer_ray.init()
    try:
        echo = peer_ray.actor_classes()["echo"]
        actors = [echo.remote() for _ in range(size.idle_actors)]
        pids = raym.get([a.pid.remote() for a in actors])
        rss, pss = mean_mib(rss_kib, pids), mean_mib(pss_kib, pids)
        for a in actors:
            raym.kill(a)

        def once() -> float:
            with Timer() as first:
                actor = echo.remote()
                raym.get(actor.ping.remote(0))
            raym.kill(actor)
            return first.seconds

        one = _median_ms(size, once)
        many_n = min(size.spawn_many, RAY_MANY)

        def start_many() -> None:
            raym.get([a.ping.remote(0) for a in [echo.remote() for _ in range(many_n)]])

        many = elapsed(start_many)
    finally:
        raym.shutdown()
    rows = _rows(size, one, None, rss, pss, "ray.init() not counted")
    rows.insert(
        1,
        row(
            f"first answer, {size.spawn_many} actors",
            many * size.spawn_many / many_n if many_n < size.spawn_many else many,
            "s",
            "lower",
            f"extrapolated from {many_n} actors" if many_n < size.spawn_many else "",
        ),
    )
    return rows


RAY_MANY = 100

RUNNERS = runners(globals())
NOT_APPLICABLE = {"raw": "see the core table: the runtime's spawn is the raw path"}
