"""Scenario 4 — large payloads: 1 MiB and 64 MiB, one way and round trip.

One way: the actor receives the payload and answers its length. Round trip: the actor sends
the payload back. Median time per call over ``size.payload_repeat`` calls (1 MiB) or
``size.repeat`` calls (64 MiB), after one warm-up call. interactors and the raw baseline are
measured twice: with ``bytes`` (one copy on arrival) and with a ``memoryview`` (out of band,
no copy); peers get ``bytes``, their usual currency (threads pass a reference).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from . import bench_actors, raw
from .bench_actors import Echo
from .measure import Size, row

TITLE = "Large payloads"
MIB = 1024 * 1024
SIZES_MIB = (1, 64)


def _metric(mib: int, trip: str, kind: str) -> str:
    return f"{mib} MiB {trip}, {kind}"


def _calls(size: Size, mib: int) -> int:
    return size.payload_repeat if mib == 1 else max(3, size.repeat)


def _median_ms(n: int, call: Callable[[], Any]) -> float:
    call()
    samples = []
    for _ in range(n):
        begin = time.perf_counter()
        call()
        samples.append(time.perf_counter() - begin)
    return statistics.median(samples) * 1e3


async def _median_ms_async(n: int, call: Callable[[], Awaitable[Any]]) -> float:
    await call()
    samples = []
    for _ in range(n):
        begin = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - begin)
    return statistics.median(samples) * 1e3


def _payloads(kinds: tuple[str, ...]) -> list[tuple[int, str, Any]]:
    out: list[tuple[int, str, Any]] = []
    for mib in SIZES_MIB:
        data = b"x" * (mib * MIB)
        out.extend(
            (mib, kind, memoryview(data) if kind == "memoryview" else data) for kind in kinds
        )
    return out


def _check(value: Any, data: Any) -> None:
    if value is not data and len(value) != len(data):
        raise RuntimeError("the payload came back damaged")


def interactors(size: Size) -> list[dict[str, Any]]:
    import interactors as ia

    async def main() -> list[dict[str, Any]]:
        rows = []
        async with ia.ActorSystem() as system:
            ref = await system.spawn(Echo)
            for mib, kind, data in _payloads(("bytes", "memoryview")):
                n = _calls(size, mib)

                async def one_way(data: Any = data) -> None:
                    if await ref.ask.length(data) != len(data):
                        raise RuntimeError("wrong length")

                async def round_trip(data: Any = data) -> None:
                    _check(await ref.ask.ping(data), data)

                ms = await _median_ms_async(n, one_way)
                rows.append(row(_metric(mib, "one way", kind), ms, "ms", "lower"))
                ms = await _median_ms_async(n, round_trip)
                rows.append(row(_metric(mib, "round trip", kind), ms, "ms", "lower"))
        return rows

    return ia.run(main)


def raw_baseline(size: Size) -> list[dict[str, Any]]:
    rows = []
    with raw.RawServer(measure_len=True) as lengths, raw.RawServer() as echoes:
        for mib, kind, data in _payloads(("bytes", "memoryview")):
            n = _calls(size, mib)
            ms = _median_ms(n, lambda data=data: lengths.call_blocking(data))
            rows.append(row(_metric(mib, "one way", kind), ms, "ms", "lower"))
            ms = _median_ms(n, lambda data=data: echoes.call_blocking(data))
            rows.append(row(_metric(mib, "round trip", kind), ms, "ms", "lower"))
    return rows


def _call_rows(size: Size, length: Callable[[Any], Any], echo: Callable[[Any], Any]) -> list[Any]:
    rows = []
    for mib, kind, data in _payloads(("bytes",)):
        n = _calls(size, mib)
        rows.append(
            row(
                _metric(mib, "one way", kind),
                _median_ms(n, lambda d=data: length(d)),
                "ms",
                "lower",
            )
        )
        rows.append(
            row(
                _metric(mib, "round trip", kind),
                _median_ms(n, lambda d=data: echo(d)),
                "ms",
                "lower",
            )
        )
    return rows


def _executor(size: Size, pool: Any) -> list[dict[str, Any]]:
    return _call_rows(
        size,
        lambda d: pool.submit(bench_actors.length, d).result(),
        lambda d: pool.submit(bench_actors.echo, d).result(),
    )


def threads(size: Size) -> list[dict[str, Any]]:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return _executor(size, pool)


def processes(size: Size) -> list[dict[str, Any]]:
    with concurrent.futures.ProcessPoolExecutor(1) as pool:
        return _executor(size, pool)


def pykka(size: Size) -> list[dict[str, Any]]:
    from .peer_pykka import PykkaEcho

    ref = PykkaEcho.start()
    try:
        return _call_rows(size, lambda d: ref.ask(("len", d)), lambda d: ref.ask(("ping", d)))
    finally:
        ref.stop()


def thespian(size: Size) -> list[dict[str, Any]]:
    from .peer_thespian import ThespianEcho, start_system

    system = start_system()
    try:
        echo = system.createActor(ThespianEcho)
        return _call_rows(
            size,
            lambda d: system.ask(echo, ("len", d), 60),
            lambda d: system.ask(echo, ("ping", d), 60),
        )
    finally:
        system.shutdown()


def to_interpreter(size: Size) -> list[dict[str, Any]]:
    from anyio import to_interpreter as ti

    async def main() -> list[dict[str, Any]]:
        rows = []
        one = functools.partial(ti.run_sync, limiter=None)
        for mib, kind, data in _payloads(("bytes",)):
            n = _calls(size, mib)
            ms = await _median_ms_async(n, lambda d=data: one(bench_actors.length, d))
            rows.append(row(_metric(mib, "one way", kind), ms, "ms", "lower"))
            ms = await _median_ms_async(n, lambda d=data: one(bench_actors.echo, d))
            rows.append(row(_metric(mib, "round trip", kind), ms, "ms", "lower"))
        return rows

    return asyncio.run(main())


def ray(size: Size) -> list[dict[str, Any]]:
    from . import peer_ray

    raym = peer_ray.init()
    try:
        echo = peer_ray.actor_classes()["echo"].remote()
        raym.get(echo.ping.remote(0))
        return _call_rows(
            size,
            lambda d: raym.get(echo.length.remote(d)),
            lambda d: raym.get(echo.ping.remote(d)),
        )
    finally:
        raym.shutdown()


RUNNERS = {
    "interactors": interactors,
    "raw": raw_baseline,
    "threads": threads,
    "processes": processes,
    "pykka": pykka,
    "thespian": thespian,
    "to_interpreter": to_interpreter,
    "ray": ray,
}
