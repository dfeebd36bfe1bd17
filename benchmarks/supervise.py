"""Scenario 8 — Supervision at run time: start_child, pools, stopping a dynamic supervisor.

start_child → first answer against spawn in the same system; CPU work over a pool of 2
against one worker; a mixed short/long workload on a ``least_busy`` and a ``round_robin``
pool of 2 beside 2-worker thread and process executors; stopping a dynamic supervisor.

- start_child → first answer: ``await sup.start_child()`` on a ``DynamicSupervisor`` until
  the instance's first reply, against ``system.spawn`` measured the same way in the same
  system (interleaved, each after a pause, so both find the warm spare interpreter ready;
  median). "In a row" starts them back to back, with no pause: past the first, each start
  takes an interpreter made while the previous one started;
- CPU work over a pool of 2 against one worker: ``CHUNKS`` equal calls of
  ``bench_actors.burn``, all in flight (best of ``size.repeat``), through
  ``spawn_pool(size=2)`` and through one actor; threads and processes run the same calls on a
  2-worker executor and on 1 worker;
- a mixed workload: 8 callers, each sending requests one after the other, every fourth of
  them ``LONG`` times longer than the others, to 2 workers; requests/s and latency p50/p99.
  A ``least_busy`` pool sends a request to the member with the fewest queued; ``round_robin``
  alternates, so a short request can queue behind a long one while the other member is
  idle. Executors share one queue (a free worker takes the next request);
- stopping a dynamic supervisor of ``CHILDREN`` instances (all at once).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from .bench_actors import Echo, burn
from .cpu import CHUNKS
from .measure import Size, Timer, best_time, best_time_async, row, runners

TITLE = "Supervision: start_child, pools, dynamic stop"
PAUSE = 0.3  # seconds, untimed: the spare interpreter is ready again (as in "spawn")
SAMPLES = {"smoke": 3, "quick": 9, "full": 15}
IN_A_ROW = {"smoke": 3, "quick": 10, "full": 20}
CHILDREN = {"smoke": 4, "quick": 50, "full": 200}
DEADLINE = 0.1  # seconds: the handler_timeout of the interruption row
CALLERS = 8
PER_CALLER = {"smoke": 4, "quick": 24, "full": 60}
SHORT = {"smoke": 2_000, "quick": 30_000, "full": 30_000}  # burn steps: ~2 ms
LONG = 8  # a long request is this many short ones
NOT_APPLICABLE = {
    "raw": "no raw baseline: supervision is framework code",
}


def _steps(size: Size, caller: int, i: int) -> int:
    return SHORT[size.name] * (LONG if (caller + i) % 4 == 0 else 1)


async def _mixed(size: Size, call: Callable[[int], Awaitable[Any]]) -> dict[str, float]:
    """``CALLERS`` callers, each awaiting ``call(steps)`` in turn; rate and latencies."""
    samples: list[float] = []

    async def caller(c: int) -> None:
        for i in range(PER_CALLER[size.name]):
            begin = time.perf_counter()
            await call(_steps(size, c, i))
            samples.append(time.perf_counter() - begin)

    with Timer() as wall:
        async with anyio.create_task_group() as tg:
            for c in range(CALLERS):
                tg.start_soon(caller, c)
    ordered = sorted(samples)
    return {
        "rate": len(samples) / wall.seconds,
        "p50": ordered[len(ordered) // 2] * 1e3,
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3,
    }


def _mixed_rows(result: dict[str, float], suffix: str = "", note: str = "") -> list[dict[str, Any]]:
    return [
        row(f"mixed requests/s{suffix}", result["rate"], "/s", "higher", note),
        row(f"mixed p50{suffix}", result["p50"], "ms", "lower"),
        row(f"mixed p99{suffix}", result["p99"], "ms", "lower"),
    ]


def _cpu_rows(one: float, two: float, note: str) -> list[dict[str, Any]]:
    return [
        row("CPU wall, 1 worker", one, "s", "lower"),
        row("CPU wall, pool of 2", two, "s", "lower", note),
        row("CPU speedup, pool of 2", one / two, "x", "higher"),
    ]


def interactors(size: Size) -> list[dict[str, Any]]:
    import interactors as ia
    from interactors import ChildSpec, DynamicSupervisor

    n = size.cpu_steps // CHUNKS

    async def first_answer(start: Callable[[], Awaitable[Any]]) -> float:
        with Timer() as first:
            ref = await start()
            await ref.ask.ping(0)
        return first.seconds

    async def main() -> list[dict[str, Any]]:
        rows = []
        async with ia.ActorSystem() as system:
            sup = await system.start(DynamicSupervisor(child=ChildSpec(Echo), name="bench"))
            spawned, started = [], []
            for _ in range(SAMPLES[size.name]):
                await anyio.sleep(PAUSE)
                spawned.append(await first_answer(lambda: system.spawn(Echo)))
                await anyio.sleep(PAUSE)
                started.append(await first_answer(sup.start_child))
            await anyio.sleep(PAUSE)
            in_a_row = [await first_answer(sup.start_child) for _ in range(IN_A_ROW[size.name])]
            await anyio.sleep(PAUSE)
            spawn_row = [
                await first_answer(lambda: system.spawn(Echo)) for _ in range(IN_A_ROW[size.name])
            ]
            rows += [
                row("spawn → first answer", statistics.median(spawned) * 1e3, "ms", "lower"),
                row(
                    "start_child → first answer",
                    statistics.median(started) * 1e3,
                    "ms",
                    "lower",
                    "DynamicSupervisor.start_child, spare ready as for spawn",
                ),
                row(
                    "start_child → first answer, in a row",
                    statistics.median(in_a_row) * 1e3,
                    "ms",
                    "lower",
                    "back to back: no pause for the spare",
                ),
                row(
                    "spawn → first answer, in a row",
                    statistics.median(spawn_row) * 1e3,
                    "ms",
                    "lower",
                ),
            ]
            await sup.stop()
            for ref in system.actors():
                await ref.stop()

            one = await system.spawn(Echo)
            pool = await system.spawn_pool(Echo, size=2)

            def all_chunks(target: Any) -> Callable[[], Awaitable[None]]:
                async def run() -> None:
                    async with anyio.create_task_group() as tg:
                        for _ in range(CHUNKS):
                            tg.start_soon(target.ask.burn, n)

                return run

            one_s = await best_time_async(size.repeat, all_chunks(one))
            two_s = await best_time_async(size.repeat, all_chunks(pool))
            rows += _cpu_rows(one_s, two_s, "spawn_pool(Echo, size=2) against one actor")
            await pool.stop()
            await one.stop()

            for policy in ("least_busy", "round_robin"):
                pool = await system.spawn_pool(Echo, size=2, policy=policy)
                await _mixed(size, pool.ask.burn)  # untimed: both members warm
                result = await _mixed(size, pool.ask.burn)
                await pool.stop()
                suffix = "" if policy == "least_busy" else ", round_robin"
                note = "spawn_pool(size=2, policy='least_busy')" if not suffix else ""
                rows += _mixed_rows(result, suffix, note)

            sup = await system.start(DynamicSupervisor(child=ChildSpec(Echo), name="many"))
            for _ in range(CHILDREN[size.name]):
                await sup.start_child()
            with Timer() as stop:
                await sup.stop()
            rows.append(
                row(
                    f"stop a dynamic supervisor of {CHILDREN[size.name]}",
                    stop.seconds,
                    "s",
                    "lower",
                    n=CHILDREN[size.name],
                )
            )

            late = []  # the first interruption in an actor: the watchdog imports ctypes
            for _ in range(SAMPLES[size.name]):
                spinner = await system.spawn(Echo, handler_timeout=DEADLINE, on_error="stop")
                with Timer() as asked, contextlib.suppress(ia.ActorCrashed):
                    await spinner.ask.burn(10**12)
                late.append(asked.seconds - DEADLINE)
                await spinner.wait_stopped()
            rows.append(
                row(
                    "handler_timeout: answer after the deadline",
                    statistics.median(late) * 1e3,
                    "ms",
                    "lower",
                    f"a spinning handler, handler_timeout={DEADLINE} s: how late its asker "
                    "gets ActorCrashed (first interruption in a fresh actor)",
                )
            )
        return rows

    return ia.run(main)


def _executor_rows(make: Callable[[int], Any], size: Size, note: str) -> list[dict[str, Any]]:
    n = size.cpu_steps // CHUNKS
    walls = {}
    for w in (1, 2):
        with make(w) as pool:
            list(pool.map(burn, [1] * w * 4))  # every worker started before timing
            walls[w] = best_time(size.repeat, lambda: list(pool.map(burn, [n] * CHUNKS)))
    with make(2) as pool:
        list(pool.map(burn, [1] * 8))

        async def main() -> dict[str, float]:
            loop = asyncio.get_running_loop()

            async def call(steps: int) -> Any:
                return await loop.run_in_executor(pool, burn, steps)

            await _mixed(size, call)
            return await _mixed(size, call)

        mixed = asyncio.run(main())
    return _cpu_rows(walls[1], walls[2], note) + _mixed_rows(mixed)


def threads(size: Size) -> list[dict[str, Any]]:
    return _executor_rows(
        lambda w: concurrent.futures.ThreadPoolExecutor(w), size, "ThreadPoolExecutor(2)"
    )


def processes(size: Size) -> list[dict[str, Any]]:
    return _executor_rows(
        lambda w: concurrent.futures.ProcessPoolExecutor(w), size, "ProcessPoolExecutor(2)"
    )


RUNNERS = runners(globals())
