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
  shared pages between the processes sharing them).
"""

from __future__ import annotations

import asyncio
import functools
import queue
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import anyio

from . import bench_actors
from .bench_actors import Echo
from .measure import Size, pss_kib, row, rss_kib, settle_memory

TITLE = "Spawn time and memory"
SPARE_REFILL = 0.3  # seconds: ample for the background refill of a spare interpreter
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
    settle_memory()
    before = rss_kib()
    for _ in range(count):
        start()
    settle_memory()
    return (rss_kib() - before) / count / 1024


def _median_ms(size: Size, once: Callable[[], float]) -> float:
    return statistics.median(once() for _ in range(max(3, size.repeat))) * 1e3


def interactors(size: Size) -> list[dict[str, Any]]:
    import interactors as ia

    async def first_answer(system: Any) -> float:
        begin = time.perf_counter()
        ref = await system.spawn(Echo)
        await ref.ask.ping(0)
        elapsed = time.perf_counter() - begin
        await ref.stop()
        return elapsed

    async def main() -> list[dict[str, Any]]:
        # Defaults: the system keeps one warm spare interpreter, refilled in the background.
        async with ia.ActorSystem() as system:
            await (await system.spawn(Echo)).ask.ping(0)
            await anyio.sleep(SPARE_REFILL)
            settle_memory()
            before = rss_kib()
            for _ in range(size.idle_actors):
                await (await system.spawn(Echo)).ask.ping(0)
            await anyio.sleep(SPARE_REFILL)  # the spare is back, as before
            settle_memory()
            rss = (rss_kib() - before) / size.idle_actors / 1024
            for ref in system.actors():
                await ref.stop()

            warm = []
            for _ in range(max(3, size.repeat)):
                await anyio.sleep(SPARE_REFILL)  # untimed: the spare is ready, as after a pause
                warm.append(await first_answer(system))

            async def start_one() -> None:
                await (await system.spawn(Echo)).ask.ping(0)

            await anyio.sleep(SPARE_REFILL)
            begin = time.perf_counter()
            async with anyio.create_task_group() as tg:
                for _ in range(size.spawn_many):
                    tg.start_soon(start_one)
            many = time.perf_counter() - begin
        async with ia.ActorSystem(spare_interpreters=0) as system:
            cold = [await first_answer(system) for _ in range(max(3, size.repeat))]
        rows = _rows(size, statistics.median(warm) * 1e3, many, rss, note=WARM_NOTE)
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
        return rows

    return ia.run(main)


def threads(size: Size) -> list[dict[str, Any]]:
    stops: list[Callable[[], None]] = []

    def start() -> Any:
        inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()

        def serve() -> None:
            while (item := inbox.get()) is not None:
                outbox.put(item)

        worker = threading.Thread(target=serve, name="bench-idle")
        worker.start()
        inbox.put(0)
        outbox.get()
        stops.append(lambda: (inbox.put(None), worker.join()))

    def once() -> float:
        begin = time.perf_counter()
        start()
        return time.perf_counter() - begin

    try:
        rss = _growth_mib(start, size.idle_actors)
        one = _median_ms(size, once)
        begin = time.perf_counter()
        for _ in range(size.spawn_many):
            start()
        many = time.perf_counter() - begin
    finally:
        for stop in stops:
            stop()
    return _rows(size, one, many, rss, note="a thread with a SimpleQueue inbox")


def processes(size: Size) -> list[dict[str, Any]]:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    started: list[tuple[Any, Any]] = []

    def launch() -> tuple[Any, Any]:
        here, there = context.Pipe()
        worker = context.Process(target=bench_actors.pipe_echo_worker, args=(there,))
        worker.start()
        there.close()
        started.append((worker, here))
        return worker, here

    def once() -> float:
        begin = time.perf_counter()
        _, conn = launch()
        conn.send(0)
        conn.recv()
        return time.perf_counter() - begin

    try:
        for _ in range(size.idle_actors):
            once()
        pids = [worker.pid for worker, _ in started]
        rss = statistics.fmean(rss_kib(pid) for pid in pids) / 1024
        pss = statistics.fmean(pss_kib(pid) for pid in pids) / 1024
        one = _median_ms(size, once)
        begin = time.perf_counter()
        conns = [launch()[1] for _ in range(size.spawn_many)]
        for conn in conns:
            conn.send(0)
        for conn in conns:
            conn.recv()
        many = time.perf_counter() - begin
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

    def once() -> float:
        begin = time.perf_counter()
        start()
        return time.perf_counter() - begin

    try:
        rss = _growth_mib(start, size.idle_actors)
        one = _median_ms(size, once)
        begin = time.perf_counter()
        fresh = [PykkaEcho.start() for _ in range(size.spawn_many)]
        refs += fresh
        for ref in fresh:
            ref.ask(("ping", 0))
        many = time.perf_counter() - begin
    finally:
        for ref in refs:
            ref.stop()
    return _rows(size, one, many, rss)


def thespian(size: Size) -> list[dict[str, Any]]:
    from .peer_thespian import ThespianEcho, start_system

    system = start_system()
    try:

        def once() -> float:
            begin = time.perf_counter()
            addr = system.createActor(ThespianEcho)
            system.ask(addr, ("ping", 0), 30)
            return time.perf_counter() - begin

        addrs = [system.createActor(ThespianEcho) for _ in range(size.idle_actors)]
        pids = [system.ask(addr, ("pid",), 30) for addr in addrs]
        rss = statistics.fmean(rss_kib(pid) for pid in pids) / 1024
        pss = statistics.fmean(pss_kib(pid) for pid in pids) / 1024
        one = _median_ms(size, once)
        begin = time.perf_counter()
        fresh = [system.createActor(ThespianEcho) for _ in range(size.spawn_many)]
        for addr in fresh:
            system.ask(addr, ("ping", 0), 30)
        many = time.perf_counter() - begin
    finally:
        system.shutdown()
    return _rows(size, one, many, rss, pss, "one forked process per actor")


def to_interpreter(size: Size) -> list[dict[str, Any]]:
    from anyio import to_interpreter as ti

    async def first_answer() -> float:
        begin = time.perf_counter()
        await ti.run_sync(bench_actors.echo, 0)  # a new event loop has no worker yet
        return time.perf_counter() - begin

    async def idle_workers(count: int) -> float:
        limiter = anyio.CapacityLimiter(count + 1)
        call = functools.partial(ti.run_sync, limiter=limiter)
        await call(bench_actors.echo, 0)
        settle_memory()
        before = rss_kib()
        async with anyio.create_task_group() as tg:  # all at once: one worker each
            for _ in range(count):
                tg.start_soon(call, time.sleep, 0.3)
        settle_memory()
        return (rss_kib() - before) / count / 1024

    rss = asyncio.run(idle_workers(size.idle_actors))
    one = statistics.median(asyncio.run(first_answer()) for _ in range(max(3, size.repeat)))
    return _rows(size, one * 1e3, None, rss, note="a new worker interpreter, no actor")


def ray(size: Size) -> list[dict[str, Any]]:
    from . import peer_ray

    raym = peer_ray.init()
    try:
        echo = peer_ray.actor_classes()["echo"]
        actors = [echo.remote() for _ in range(size.idle_actors)]
        pids = raym.get([a.pid.remote() for a in actors])
        rss = statistics.fmean(rss_kib(pid) for pid in pids) / 1024
        pss = statistics.fmean(pss_kib(pid) for pid in pids) / 1024
        for a in actors:
            raym.kill(a)

        def once() -> float:
            begin = time.perf_counter()
            actor = echo.remote()
            raym.get(actor.ping.remote(0))
            elapsed = time.perf_counter() - begin
            raym.kill(actor)
            return elapsed

        one = _median_ms(size, once)
        many_n = min(size.spawn_many, RAY_MANY)
        begin = time.perf_counter()
        fresh = [echo.remote() for _ in range(many_n)]
        raym.get([a.ping.remote(0) for a in fresh])
        many = time.perf_counter() - begin
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

RUNNERS = {
    "interactors": interactors,
    "threads": threads,
    "processes": processes,
    "pykka": pykka,
    "thespian": thespian,
    "to_interpreter": to_interpreter,
    "ray": ray,
}
NOT_APPLICABLE = {"raw": "see the core table: the runtime's spawn is the raw path"}
