"""Stopping a dynamic supervisor: how long ``stop()`` takes with many instances.

    python -m benchmarks.dynamic [--children 200]

Starts a ``DynamicSupervisor`` of ``--children`` instances (isolated interpreters), then
times ``await sup.stop()``: every instance's ``on_stop`` runs and its thread ends. The
instances are stopped all at once, so the time is about one stop, not the sum of them.
Prints a table and writes ``benchmarks/results/dynamic-<date>.json``. Target: 200
children stopped in <= 1 s on 2 CPUs.
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
TARGET_S = 1.0


async def measure(children: int) -> dict[str, Any]:
    import interactors
    from interactors import ChildSpec, DynamicSupervisor

    from .bench_actors import Echo

    async with interactors.ActorSystem() as system:
        sup = await system.start(DynamicSupervisor(child=ChildSpec(Echo), name="bench"))
        started = time.perf_counter()
        for _ in range(children):
            await sup.start_child()
        start_s = time.perf_counter() - started
        stopping = time.perf_counter()
        await sup.stop()
        stop_s = time.perf_counter() - stopping
    return {
        "children": children,
        "start_s": start_s,
        "stop_s": stop_s,
        "rows": [
            row(f"start {children} children (one by one)", start_s, "s", "lower"),
            row(f"stop {children} children", stop_s, "s", "lower", f"target <= {TARGET_S} s"),
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=200)
    options = parser.parse_args()
    result = anyio.run(measure, options.children)
    print(f"{'metric':<34} {'value':>8}")
    for r in result["rows"]:
        print(f"{r['metric']:<34} {r['value']:>7.3f}s  {r['note']}")
    result["machine"] = {"python": platform.python_version(), "cpus": _cpus()}
    day = datetime.date.today().isoformat()
    print("wrote", save_json(RESULTS / f"dynamic-{day}.json", result))


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
