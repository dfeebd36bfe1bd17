"""Choosing a pool member: the cost a pool adds to every message, per policy.

    python -m benchmarks.pool_pick [--size 8] [--picks 20000]

Starts a pool of ``--size`` idle members per policy and times how long the pool takes to
choose the member of one message (no message is sent; ``least_busy`` takes the first idle
member it reads, so this is its best case), then a whole ``tell_nowait`` through the pool
against one straight to a member's ref. Prints a table and writes
``benchmarks/results/pool_pick-<date>.json``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from pathlib import Path
from typing import Any

import anyio

from .measure import row, save_json

RESULTS = Path(__file__).parent / "results"


def _per_call_us(fn: Any, n: int, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for i in range(n):
            fn(i)
        best = min(best, time.perf_counter() - started)
    return best / n * 1e6


async def measure(size: int, picks: int) -> dict[str, Any]:
    import interactors

    from .bench_actors import Echo

    rows = []
    async with interactors.ActorSystem() as system:
        for policy in ("round_robin", "least_busy", "hash"):
            pool = await system.spawn_pool(Echo, size=size, policy=policy, name=policy)
            us = _per_call_us(lambda i, pick=pool._pick: pick((f"key-{i}",), {}), picks)
            rows.append(row(f"choose a member, {policy}", us, "µs", "lower", f"size {size}"))
            await pool.stop()
        pool = await system.spawn_pool(Echo, size=size, name="sends")
        member = pool.members[0]
        sends = min(picks, 500)  # within one mailbox (1000 by default)
        direct = _per_call_us(lambda i: member.tell_nowait.ping(i), sends, repeat=1)
        await anyio.sleep(0.2)
        pooled = _per_call_us(lambda i: pool.tell_nowait.ping(i), sends, repeat=1)
        rows.append(row("tell_nowait straight to a member", direct, "µs", "lower"))
        rows.append(row("tell_nowait through the pool", pooled, "µs", "lower", "round_robin"))
    return {"size": size, "picks": picks, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8)
    parser.add_argument("--picks", type=int, default=20_000)
    options = parser.parse_args()
    result = anyio.run(measure, options.size, options.picks)
    print(f"{'metric':<36} {'value':>9}")
    for r in result["rows"]:
        print(f"{r['metric']:<36} {r['value']:>7.2f}µs  {r['note']}")
    result["machine"] = {"python": platform.python_version(), "cpus": len(os.sched_getaffinity(0))}
    day = datetime.date.today().isoformat()
    print("wrote", save_json(RESULTS / f"pool_pick-{day}.json", result))


if __name__ == "__main__":
    main()
