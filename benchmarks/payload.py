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
from collections.abc import Callable, Iterator
from typing import Any

from . import bench_actors, raw
from .bench_actors import Echo
from .measure import Size, median_ms, median_ms_async, row, runners

TITLE = "Large payloads"
MIB = 1024 * 1024
SIZES_MIB = (1, 64)


def _payloads(kinds: tuple[str, ...]) -> list[tuple[int, str, Any]]:
    out: list[tuple[int, str, Any]] = []
    for mib in SIZES_MIB:
        data = b"x" * (mib * MIB)
        out.extend(
            (mib, kind, memoryview(data) if kind == "memoryview" else data) for kind in kinds
        )
    return out


Send = Callable[[Any], Any]  # one call with a payload: blocking, or a coroutine function


def _cases(
    size: Size, length: Send, echo: Send, kinds: tuple[str, ...]
) -> Iterator[tuple[str, int, Callable[[], Any]]]:
    """``(metric, calls, call)`` for each payload: one way (``length``), then round trip
    (``echo``); ``size.payload_repeat`` calls for 1 MiB, ``size.repeat`` (≥ 3) for 64 MiB."""
    for mib, kind, data in _payloads(kinds):
        n = size.payload_repeat if mib == 1 else max(3, size.repeat)
        for trip, send in (("one way", length), ("round trip", echo)):
            yield f"{mib} MiB {trip}, {kind}", n, functools.partial(send, data)


def _call_rows(
    size: Size, length: Send, echo: Send, kinds: tuple[str, ...] = ("bytes",)
) -> list[dict[str, Any]]:
    """The median time of a blocking call, per payload and direction."""
    cases = _cases(size, length, echo, kinds)
    return [row(metric, median_ms(n, call), "ms", "lower") for metric, n, call in cases]


async def _call_rows_async(
    size: Size, length: Send, echo: Send, kinds: tuple[str, ...] = ("bytes",)
) -> list[dict[str, Any]]:
    """The median time of an awaited call, per payload and direction."""
    cases = _cases(size, length, echo, kinds)
    return [row(metric, await median_ms_async(n, c), "ms", "lower") for metric, n, c in cases]


def _check(value: Any, data: Any) -> None:
    if value is not data and len(value) != len(data):
        raise RuntimeError("the payload came back damaged")


def interactors(size: Size) -> list[dict[str, Any]]:
    import interactors as ia

    async def main() -> list[dict[str, Any]]:
        async with ia.ActorSystem() as system:
            ref = await system.spawn(Echo)

            async def one_way(data: Any) -> None:
                if await ref.ask.length(data) != len(data):
                    raise RuntimeError("wrong length")

            async def round_trip(data: Any) -> None:
                _check(await ref.ask.ping(data), data)

            return await _call_rows_async(size, one_way, round_trip, ("bytes", "memoryview"))

    return ia.run(main)


BYTES_COPY = "64 MiB bytes copy"


def raw_baseline(size: Size) -> list[dict[str, Any]]:
    with raw.RawServer(measure_len=True) as lengths, raw.RawServer() as echoes:
        kinds = ("bytes", "memoryview")
        rows = _call_rows(size, lengths.call_blocking, echoes.call_blocking, kinds)
    # The yardstick for "one copy": a new 64 MiB bytes object made from another one.
    data = b"x" * (64 * MIB)
    copy_ms = median_ms(max(3, size.repeat), lambda: bytes(memoryview(data)))
    rows.append(row(BYTES_COPY, copy_ms, "ms", "lower", "bytes(memoryview(data)), in-process"))
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

    one = functools.partial(ti.run_sync, limiter=None)
    return asyncio.run(
        _call_rows_async(
            size,
            functools.partial(one, bench_actors.length),
            functools.partial(one, bench_actors.echo),
        )
    )


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


RUNNERS = runners(globals(), raw=raw_baseline)
