"""Where the time goes: per message path, the profiler's µs per message for each step.

    python -m benchmarks.where [--messages N]

For each path, cProfile runs on the sending side (the host's event loop thread, or the
asking actor's interpreter) and on the receiving actor's interpreter, and each step's own
time is divided by the number of messages. Profiling slows Python code down several
times, so read the shares and the order of the steps, not the absolute µs. A full
``make bench`` run puts these tables into docs/performance.md.
"""

from __future__ import annotations

import argparse
import cProfile
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from .bench_actors import AsyncPinger, Echo, Pinger, profile_steps

TOP = 8
MESSAGES = {"smoke": 2_000, "quick": 10_000, "full": 20_000}
CALLERS = 100  # the concurrent callers of the "100 callers" path
Steps = list[tuple[str, float, int]]


def _path(name: str, messages: int, seconds: float, sides: dict[str, Steps]) -> dict[str, Any]:
    return {
        "path": name,
        "messages": messages,
        "us_per_message": seconds / messages * 1e6,
        "sides": {
            side: [
                {"step": step, "us": own / messages * 1e6, "calls_per_message": calls / messages}
                for step, own, calls in steps
            ]
            for side, steps in sides.items()
        },
    }


async def _profiled(call: Callable[[], Awaitable[Any]]) -> tuple[float, Steps]:
    profiler = cProfile.Profile()
    begin = time.perf_counter()
    profiler.enable()
    await call()
    profiler.disable()
    return time.perf_counter() - begin, profile_steps(profiler, TOP)


def measure(messages: int) -> list[dict[str, Any]]:
    import interactors as ia

    big = b"x" * (64 * 1024 * 1024)
    copies = max(3, messages // 5000)

    async def main() -> list[dict[str, Any]]:
        paths = []
        async with ia.ActorSystem() as system:
            echo = await system.spawn(Echo)
            pinger = await system.spawn(Pinger)
            awaiting = await system.spawn(AsyncPinger)
            await pinger.ask.ping_many(echo, 1000)
            await awaiting.ask.ping_many(echo, 1000)

            async def asks() -> None:
                for i in range(messages):
                    await echo.ask.ping(i)

            async def many_callers() -> None:
                async def caller(count: int) -> None:
                    for i in range(count):
                        await echo.ask.ping(i)

                async with anyio.create_task_group() as tg:
                    for _ in range(CALLERS):
                        tg.start_soon(caller, messages // CALLERS)

            async def tells() -> None:
                put_nowait, put = echo.tell_nowait.put, echo.tell.put
                for _ in range(messages):
                    try:
                        put_nowait(1)
                    except ia.MailboxFull:
                        await put(1)
                await echo.ask.count()

            async def large() -> None:
                for _ in range(copies):
                    await echo.ask.length(big)

            many = messages // CALLERS * CALLERS
            for name, run, n in (
                ("ask from the host, 1 caller", asks, messages),
                (f"ask from the host, {CALLERS} callers", many_callers, many),
                ("tell from the host, one sender", tells, messages),
                ("64 MiB bytes, one way", large, copies),
            ):
                await echo.ask.start_profile()
                seconds, host = await _profiled(run)
                actor = await echo.ask.stop_profile_steps(TOP)
                paths.append(_path(name, n, seconds, {"host": host, "answering actor": actor}))

            for name, asker in (
                ("actor→actor, sync handler (.result())", pinger.ask.profile_ping_many_steps),
                ("actor→actor, async handler (await)", awaiting.ask.profile_ping_many),
            ):
                await echo.ask.start_profile()
                begin = time.perf_counter()
                asking = await asker(echo, messages, TOP)
                seconds = time.perf_counter() - begin
                actor = await echo.ask.stop_profile_steps(TOP)
                sides = {"asking actor": asking, "answering actor": actor}
                paths.append(_path(name, messages, seconds, sides))
        return paths

    result: list[dict[str, Any]] = ia.run(main)
    return result


def markdown(paths: list[dict[str, Any]]) -> str:
    """One short table per path and side: the steps with the most own time."""
    lines = [
        "Measured under cProfile, which slows Python code several times: the shares and the",
        "order of the steps are what to read. `µs/msg` is a step's own time per message;",
        "waiting (`select`, `epoll`, `sched_yield`) is time the other side was working.",
        "",
    ]
    for path in paths:
        lines += [
            f"### {path['path']}",
            "",
            f"{path['messages']:,} messages, {path['us_per_message']:.1f} µs each under the "
            "profiler.",
            "",
        ]
        for side, steps in path["sides"].items():
            lines += [f"*{side}*", "", "| step | µs/msg | calls/msg |", "|---|---:|---:|"]
            lines += [
                f"| `{s['step']}` | {s['us']:.2f} | {s['calls_per_message']:.2f} |" for s in steps
            ]
            lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    options = parser.parse_args(argv)
    print(markdown(measure(options.messages)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
