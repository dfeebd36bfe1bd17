"""Where an ask's time goes: cProfile of the caller's side and of the actors' side.

    python -m benchmarks.profile_ask [--asks N] [--top K] [--backend asyncio|trio]

Three cases: one caller and 100 callers asking from the event loop (the ref, the cell, the
reply pump, the loop itself), then one actor asking another (actor to actor). For each,
the answering actor profiles its own thread (its worker loop included), since cProfile only
sees the thread it runs in. Profiling slows Python code down several times: read the
shares, not the absolute rates.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from typing import Any

import anyio

from .bench_actors import Echo, Pinger


async def _one_caller(ref: Any, n: int) -> None:
    for i in range(n):
        await ref.ask.ping(i)


async def _many_callers(ref: Any, n: int) -> None:
    async def caller() -> None:
        for i in range(n // 100):
            await ref.ask.ping(i)

    async with anyio.create_task_group() as tg:
        for _ in range(100):
            tg.start_soon(caller)


def profile(asks: int, top: int, backend: str) -> str:
    import interactors

    out = io.StringIO()

    async def main() -> None:
        async with interactors.ActorSystem() as system:
            ref = await system.spawn(Echo)
            pinger = await system.spawn(Pinger)
            await _one_caller(ref, 1000)  # warm up
            for label, run in (("1 caller", _one_caller), ("100 callers", _many_callers)):
                profiler = cProfile.Profile()
                await ref.ask.start_profile()
                begin = time.perf_counter()
                profiler.enable()
                await run(ref, asks)
                profiler.disable()
                elapsed = time.perf_counter() - begin
                actor_side = await ref.ask.stop_profile(top)
                print(
                    f"\n===== {label}, {backend}: {asks} asks, {asks / elapsed:,.0f}/s "
                    f"under the profiler =====\n--- caller (event loop thread) ---",
                    file=out,
                )
                stats = pstats.Stats(profiler, stream=out)
                stats.sort_stats("tottime").print_stats(top)
                print(f"--- answering actor ---\n{actor_side}", file=out)
            await ref.ask.start_profile()
            begin = time.perf_counter()
            asking_side = await pinger.ask.profile_ping_many(ref, asks, top)
            elapsed = time.perf_counter() - begin
            actor_side = await ref.ask.stop_profile(top)
            print(
                f"\n===== actor to actor: {asks} asks, {asks / elapsed:,.0f}/s under the "
                f"profiler =====\n--- asking actor ---\n{asking_side}"
                f"--- answering actor ---\n{actor_side}",
                file=out,
            )

    interactors.run(main, backend=backend)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks", type=int, default=50_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    options = parser.parse_args(argv)
    print(profile(options.asks, options.top, options.backend))
    return 0


if __name__ == "__main__":
    sys.exit(main())
