"""Where an ask's time goes on the host: cProfile of one caller and of 100 callers.

    python -m benchmarks.profile_ask [--asks N] [--top K] [--backend asyncio|trio]

Profiles the caller's side (the event loop thread: the ref, the cell, the reply pump, the
event loop itself). The actor runs in its own interpreter and thread, which cProfile does
not see; its share shows up as time spent waiting (``select``/``epoll``/spinning).
Profiling slows Python code down several times: read the shares, not the absolute rates.
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

from .bench_actors import Echo


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
            await _one_caller(ref, 1000)  # warm up
            for label, run in (("1 caller", _one_caller), ("100 callers", _many_callers)):
                profiler = cProfile.Profile()
                begin = time.perf_counter()
                profiler.enable()
                await run(ref, asks)
                profiler.disable()
                elapsed = time.perf_counter() - begin
                print(
                    f"\n===== {label}, {backend}: {asks} asks, {asks / elapsed:,.0f}/s "
                    f"under the profiler =====",
                    file=out,
                )
                stats = pstats.Stats(profiler, stream=out)
                stats.sort_stats("tottime").print_stats(top)

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
