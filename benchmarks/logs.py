"""Logging inside actors: what a filtered-out ``debug`` costs, and shipping throughput.

    python -m benchmarks.logs [--records N]

1. ``N`` calls of ``log.debug("record %d", i)`` inside an actor while the host's level is
   INFO (so the actor's root logger filters them out), against the same loop calling a
   no-op function with the same arguments, both timed in CPU time of the actor's thread.
   Target: < 2x the plain loop.
2. ``N`` INFO records logged by an actor in one handler, until the last one has come out
   of a handler on the host: records/s, and how many were lost. Target: none lost.

Prints a table and writes ``benchmarks/results/logs-<date>.json``.
"""

from __future__ import annotations

import logging
import statistics
import time

import interactors

LOGGER = "benchmarks.logs.actor"
log = logging.getLogger(LOGGER)
TARGET_RATIO = 2.0


def filtered_debug(count: int) -> tuple[float, float]:
    """CPU seconds of this thread for ``count`` filtered-out debug calls, then for a plain
    loop (CPU time, not wall time: other processes on a shared machine do not count)."""
    debug = log.debug
    clock = time.thread_time
    start = clock()
    for i in range(count):
        debug("record %d", i)
    logged = clock() - start

    def noop(*args: object) -> None:
        pass

    start = clock()
    for i in range(count):
        noop("record %d", i)
    return logged, clock() - start


class Logger(interactors.Actor):
    def filtered_debug(self, count: int) -> tuple[float, float]:
        return filtered_debug(count)

    def emit(self, count: int) -> None:
        for i in range(count):
            log.info("record %d", i)


class Counting(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.last = 0.0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.last = time.perf_counter()


async def measure(records: int) -> dict[str, float]:
    import anyio

    counter = Counting()
    log.addHandler(counter)
    log.propagate = False
    logging.getLogger().setLevel(logging.INFO)
    try:
        async with interactors.ActorSystem() as system:
            actor = await system.spawn(Logger)
            # 15 rounds of both loops back to back; the median of the rounds' ratios (the
            # machine may be shared, and its speed change between rounds).
            inside = [await actor.ask.filtered_debug(records) for _ in range(15)]
            debug_s, plain_s = min(d for d, _ in inside), min(p for _, p in inside)
            host = [filtered_debug(records) for _ in range(15)]
            start = time.perf_counter()
            await actor.ask.emit(records)
            with anyio.move_on_after(60):
                while counter.count < records:  # noqa: ASYNC110
                    await anyio.sleep(0.001)
            seconds = counter.last - start
    finally:
        log.removeHandler(counter)
        log.propagate = True
    return {
        "filtered_debug_s": debug_s,
        "plain_loop_s": plain_s,
        "ratio": statistics.median(d / p for d, p in inside),
        "host_ratio": statistics.median(d / p for d, p in host),
        "records": records,
        "received": counter.count,
        "lost": records - counter.count,
        "records_per_s": counter.count / seconds,
    }


def main() -> None:
    import argparse
    import datetime
    from pathlib import Path

    import anyio

    from .measure import save_json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    result = anyio.run(measure, args.records)
    n = result["records"]
    print(f"{'metric':<48} {'value':>14}")
    debug_ms = result["filtered_debug_s"] * 1e3
    print(f"{f'{n:,} filtered log.debug in an actor (ms)':<48} {debug_ms:>14.2f}")
    print(f"{f'{n:,} no-op calls, plain loop (ms)':<48} {result['plain_loop_s'] * 1e3:>14.2f}")
    ratio = result["ratio"]
    print(
        f"{'ratio (target < 2x)':<48} {ratio:>13.2f}x {'ok' if ratio < TARGET_RATIO else 'MISSED'}"
    )
    host = result["host_ratio"]
    print(f"{'same ratio on the host, no actor (stdlib floor)':<48} {host:>13.2f}x")
    print(
        f"{f'{n:,} INFO records shipped to the host (rec/s)':<48} {result['records_per_s']:>14,.0f}"
    )
    print(f"{'records lost (target 0)':<48} {result['lost']:>14}")
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    path = results / f"logs-{datetime.date.today().isoformat()}.json"
    print(f"wrote {save_json(path, result)}")


if __name__ == "__main__":
    main()
