"""Scenario 2 — request/reply: ask latency and throughput, and actor-to-actor round trips.

- one caller: ``size.asks`` sequential asks of a no-op handler, ``size.repeat`` runs; p50/p99
  over every sample, rate of the best run;
- 100 concurrent callers: ``size.concurrent_asks`` asks in total from 100 tasks (asyncio, and
  trio where the framework runs on it); peers without async callers keep 100 requests in
  flight with their own futures instead (noted);
- actor to actor: one actor asks another ``size.asks`` times and waits for each answer;
- the event loop alone (raw baseline): 100 tasks parked and resumed on asyncio and on trio
  (``parking.py``), the floor of the trio/asyncio ratio for 100 callers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from . import bench_actors, parking, raw
from .bench_actors import AsyncPinger, Echo, Pinger
from .measure import (
    BUSY,
    Size,
    best_rate,
    best_rate_async,
    busy_cpu,
    latency,
    latency_async,
    latency_rows,
    row,
    runners,
)
from .peer_threads import EchoThread

TITLE = "Ask latency and throughput"
CALLERS = 100


def _many_row(rate: float, library: str, note: str = "") -> dict[str, Any]:
    return row(f"asks/s, {CALLERS} callers ({library})", rate, "/s", "higher", note)


def _busy_row(rate: float, what: str = "asks/s, 1 caller") -> dict[str, Any]:
    return row(f"{what}, {BUSY}", rate, "/s", "higher")


def _a2a_row(rate: float, note: str = "") -> dict[str, Any]:
    return row("actor→actor round trips/s", rate, "/s", "higher", note)


A2A_ASYNC = "actor→actor round trips/s, async handler"
THREAD = "asks/s, 1 plain thread"  # synchronous code: no event loop in the caller
PARK = "task park+resume/s"


async def _many_callers(size: Size, call: Callable[[int], Awaitable[Any]], total: int) -> float:
    """Best rate of ``total`` calls spread over 100 concurrent tasks (anyio: any library)."""
    each = max(1, total // CALLERS)

    async def caller() -> None:
        for i in range(each):
            await call(i)

    async def all_callers() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(CALLERS):
                tg.start_soon(caller)

    return await best_rate_async(size.repeat, each * CALLERS, all_callers)


async def _sequential_async(size: Size, call: Callable[[int], Awaitable[Any]]) -> float:
    """Best rate of a quarter of ``size.asks`` sequential awaited calls."""
    n = max(1, size.asks // 4)

    async def calls() -> None:
        for i in range(n):
            await call(i)

    return await best_rate_async(size.repeat, n, calls)


def _sequential(size: Size, call: Callable[[int], Any]) -> float:
    """Best rate of a quarter of ``size.asks`` sequential blocking calls."""
    n = max(1, size.asks // 4)

    def calls() -> None:
        for i in range(n):
            call(i)

    return best_rate(size.repeat, n, calls)


def interactors(size: Size) -> list[dict[str, Any]]:
    import interactors as ia

    async def on_asyncio() -> list[dict[str, Any]]:
        async with ia.ActorSystem() as system:
            echo = await system.spawn(Echo)
            pinger = await system.spawn(Pinger)
            lat = await latency_async(size.repeat, echo.ask.ping, size.asks)
            many = await _many_callers(size, echo.ask.ping, size.concurrent_asks)
            await pinger.ask.ping_many(echo, max(1, size.asks // 10))
            a2a = await best_rate_async(
                size.repeat, size.asks, lambda: pinger.ask.ping_many(echo, size.asks)
            )
            awaiting = await system.spawn(AsyncPinger)
            await awaiting.ask.ping_many(echo, max(1, size.asks // 10))
            a2a_async = await best_rate_async(
                size.repeat, size.asks, lambda: awaiting.ask.ping_many(echo, size.asks)
            )
            with busy_cpu():
                busy = await _sequential_async(size, echo.ask.ping)
        note = "`await ref.ask.ping(i)` in an async def handler"
        return [
            *latency_rows(lat),
            _many_row(many, "asyncio"),
            _a2a_row(a2a),
            row(A2A_ASYNC, a2a_async, "/s", "higher", note),
            _busy_row(busy),
        ]

    async def on_trio() -> float:
        async with ia.ActorSystem() as system:
            echo = await system.spawn(Echo)
            return await _many_callers(size, echo.ask.ping, size.concurrent_asks)

    rows = ia.run(on_asyncio)
    rows.insert(4, _many_row(ia.run(on_trio, backend="trio"), "trio"))
    with ia.BlockingActorSystem() as blocking:
        echo = blocking.spawn(Echo)
        rate = _sequential(size, lambda i: echo.ask.ping(i).result())
    rows.append(row(THREAD, rate, "/s", "higher", "BlockingActorSystem: ref.ask.ping(i).result()"))
    return rows


def raw_baseline(size: Size) -> list[dict[str, Any]]:
    async def on_asyncio(server: raw.RawServer) -> list[dict[str, Any]]:
        server.attach_asyncio()
        try:
            lat = await latency_async(size.repeat, server.call_asyncio, size.asks)
            many = await _many_callers(size, server.call_asyncio, size.concurrent_asks)
        finally:
            server.detach_asyncio()
        return [*latency_rows(lat), _many_row(many, "asyncio")]

    async def on_trio(server: raw.RawServer) -> float:
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.trio_reader)
            rate = await _many_callers(size, server.call_trio, size.concurrent_asks)
            tg.cancel_scope.cancel()
        return rate

    with raw.RawServer() as server:
        rows = asyncio.run(on_asyncio(server))
        rows.append(_many_row(anyio.run(on_trio, server, backend="trio"), "trio"))
    for library, rate in parking.park_resume_rates(size.concurrent_asks, size.repeat).items():
        note = "the event loop alone: 100 tasks parked and resumed, no messages"
        rows.append(row(f"{PARK}, {CALLERS} tasks ({library})", rate, "/s", "higher", note))
    raw.spinning_ping_pong(max(1, size.asks // 10))
    a2a = max(raw.spinning_ping_pong(size.asks) for _ in range(size.repeat))
    note = "two interpreters spinning on their queues"
    rows.append(_a2a_row(a2a, note))
    return rows


def _executor_rows(size: Size, pool: Any, n: int, to_other: Any) -> list[dict[str, Any]]:
    """Asks through an executor from asyncio (run_in_executor) and trio (anyio.to_*)."""

    async def on_asyncio() -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()

        def call(i: int) -> Awaitable[Any]:
            return loop.run_in_executor(pool, bench_actors.echo, i)

        lat = await latency_async(size.repeat, call, n)
        many = await _many_callers(size, call, n * 2)
        return [*latency_rows(lat), _many_row(many, "asyncio")]

    async def on_trio() -> float:
        call = functools.partial(to_other.run_sync, limiter=anyio.CapacityLimiter(1))
        return await _many_callers(size, functools.partial(call, bench_actors.echo), n * 2)

    rows = asyncio.run(on_asyncio())
    rows.append(_many_row(anyio.run(on_trio, backend="trio"), "trio", to_other.__name__))
    return rows


def threads(size: Size) -> list[dict[str, Any]]:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        rows = _executor_rows(size, pool, size.asks, anyio.to_thread)
    bouncer = EchoThread("bench-bounce")  # two threads bouncing a message through two queues
    there, back = bouncer.inbox, bouncer.outbox

    def ping_many() -> None:
        for i in range(size.asks):
            there.put(i)
            back.get()

    try:
        a2a = best_rate(size.repeat, size.asks, ping_many)
    finally:
        bouncer.stop()
    rows.append(_a2a_row(a2a, "queue.SimpleQueue pair"))
    return rows


def processes(size: Size) -> list[dict[str, Any]]:
    n = max(1, size.asks // 4)
    with concurrent.futures.ProcessPoolExecutor(1) as pool:
        pool.submit(bench_actors.echo, 0).result()
        rows = _executor_rows(size, pool, n, anyio.to_process)
    pipe = max(raw.pipe_echo(size.asks) for _ in range(size.repeat))
    rows.append(row("Pipe echo round trips/s", pipe, "/s", "higher", "multiprocessing Pipe"))
    with busy_cpu():
        busy = max(raw.pipe_echo(max(1, size.asks // 4)) for _ in range(size.repeat))
    rows.append(_busy_row(busy, "Pipe echo round trips/s"))
    return rows


def pykka(size: Size) -> list[dict[str, Any]]:
    import pykka as pk

    from .peer_pykka import PykkaEcho

    echo, pinger = PykkaEcho.start(), PykkaEcho.start()
    try:
        lat = latency(size.repeat, lambda i: echo.ask(("ping", i)), size.asks)
        rounds = max(1, size.concurrent_asks // CALLERS)

        def in_flight() -> None:
            for _ in range(rounds):
                list(pk.get_all([echo.ask(("ping", i), block=False) for i in range(CALLERS)]))

        many = best_rate(size.repeat, rounds * CALLERS, in_flight)
        a2a = best_rate(size.repeat, size.asks, lambda: pinger.ask(("ping_many", echo, size.asks)))
        thread = _sequential(size, lambda i: echo.ask(("ping", i)))
        with busy_cpu():
            busy = _sequential(size, lambda i: echo.ask(("ping", i)))
    finally:
        echo.stop()
        pinger.stop()
    note = "100 futures in flight (pykka.get_all)"
    return [
        *latency_rows(lat),
        _many_row(many, "asyncio", note),
        _a2a_row(a2a),
        _busy_row(busy),
        row(THREAD, thread, "/s", "higher", "ref.ask(message)"),
    ]


def thespian(size: Size) -> list[dict[str, Any]]:
    from .peer_thespian import ThespianEcho, start_system

    n = max(1, size.asks // 4)
    system = start_system()
    try:
        echo = system.createActor(ThespianEcho)
        pinger = system.createActor(ThespianEcho)
        lat = latency(size.repeat, lambda i: system.ask(echo, ("ping", i), 10), n)
        rounds = max(1, size.concurrent_asks // CALLERS // 4)

        def in_flight() -> None:
            for _ in range(rounds):
                for i in range(CALLERS):
                    system.tell(echo, ("tagged_ping", i))
                for _ in range(CALLERS):
                    if system.listen(10) is None:
                        raise TimeoutError("Thespian did not answer within 10 s")

        many = best_rate(size.repeat, rounds * CALLERS, in_flight)
        a2a = best_rate(size.repeat, n, lambda: system.ask(pinger, ("ping_many", echo, n), 60))
    finally:
        system.shutdown()
    note = "100 tells in flight, replies collected with listen()"
    return [*latency_rows(lat), _many_row(many, "asyncio", note), _a2a_row(a2a)]


def to_interpreter(size: Size) -> list[dict[str, Any]]:
    from anyio import to_interpreter as ti

    async def main() -> list[dict[str, Any]]:
        one = functools.partial(ti.run_sync, limiter=anyio.CapacityLimiter(1))
        lat = await latency_async(size.repeat, functools.partial(one, bench_actors.echo), size.asks)
        call = functools.partial(ti.run_sync, bench_actors.echo)
        many = await _many_callers(size, call, size.concurrent_asks // 4)
        return [*latency_rows(lat), _many_row(many, "asyncio", "default limiter: one per CPU")]

    async def on_trio() -> float:
        call = functools.partial(ti.run_sync, bench_actors.echo)
        return await _many_callers(size, call, size.concurrent_asks // 4)

    rows = asyncio.run(main())
    rows.append(_many_row(anyio.run(on_trio, backend="trio"), "trio"))
    return rows


def ray(size: Size) -> list[dict[str, Any]]:
    from . import peer_ray

    raym = peer_ray.init()
    n = max(1, size.asks // 10)
    try:
        echo_cls = peer_ray.actor_classes()["echo"]
        echo, pinger = echo_cls.remote(), echo_cls.remote()
        raym.get([echo.ping.remote(0), pinger.ping.remote(0)])
        lat = latency(size.repeat, lambda i: raym.get(echo.ping.remote(i)), n)
        rounds = max(1, size.concurrent_asks // CALLERS // 10)

        def in_flight() -> None:
            for _ in range(rounds):
                raym.get([echo.ping.remote(i) for i in range(CALLERS)])

        many = best_rate(size.repeat, rounds * CALLERS, in_flight)
        a2a = best_rate(size.repeat, n, lambda: raym.get(pinger.ping_many.remote(echo, n)))
    finally:
        raym.shutdown()
    note = "100 calls in flight (ray.get of a list)"
    return [*latency_rows(lat), _many_row(many, "asyncio", note), _a2a_row(a2a)]


RUNNERS = runners(globals(), raw=raw_baseline)
