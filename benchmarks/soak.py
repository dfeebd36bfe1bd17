"""Memory under a long stream of tells: does RSS come back when an actor lags behind?

    python -m benchmarks.soak [--tells N] [--out DIR]

For each host backend (asyncio, trio) and pacing (the actor keeps up; the actor pauses
5 ms every 1,000 messages), one actor receives N tells of a small tuple with a string and
bytes in it (``await ref.tell.add(i, "t", b"x")``). Reported: RSS growth of this process
while the system is open (after every tell was handled) and after it closed, settled. On
CPython 3.13 before the int-handle transport, this grew by ~150 MiB per 300k tells with the
lag and never came back (cross-interpreter releases dropped by a 300-entry pending-call
queue). Target: < 10 MiB over 1,000,000 tells at any pacing, on both backends.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import anyio

import interactors

from .bench_actors import Lagging
from .measure import row, rss_kib, save_json, settle_memory
from .suite import ROOT

PACINGS = {"keeps up": (0, 0.0), "pauses 5 ms / 1,000": (1000, 0.005)}


async def _soak(tells: int, every: int, pause: float) -> tuple[float, float, float]:
    settle_memory()
    before = rss_kib()
    start = time.perf_counter()
    async with interactors.ActorSystem() as system:
        actor = await system.spawn(Lagging, every, pause)
        for i in range(tells):
            await actor.tell.add(i, "t", b"x")
        assert await actor.ask.count() == tells
        seconds = time.perf_counter() - start
        settle_memory()
        open_mib = (rss_kib() - before) / 1024
    settle_memory()
    closed_mib = (rss_kib() - before) / 1024
    return open_mib, closed_mib, tells / seconds


def run(tells: int) -> list[dict[str, object]]:
    rows = []
    for backend in ("asyncio", "trio"):
        for pacing, (every, pause) in PACINGS.items():
            open_mib, closed_mib, rate = anyio.run(_soak, tells, every, pause, backend=backend)
            note = f"{backend}, actor {pacing}"
            rows.append(row(f"RSS growth, {tells:,} tells, open", open_mib, "MiB", "lower", note))
            rows.append(
                row(f"RSS growth, {tells:,} tells, closed", closed_mib, "MiB", "lower", note)
            )
            rows.append(row(f"tells/s, {tells:,} tells", rate, "msg/s", "higher", note))
            print(
                f"{note:32} open {open_mib:+7.1f} MiB  closed {closed_mib:+7.1f} MiB"
                f"  {rate:>9,.0f} tells/s",
                flush=True,
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--tells", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    options = parser.parse_args(argv)
    print(f"interactors {interactors.__version__}, Python {sys.version.split()[0]}")
    rows = run(options.tells)
    worst = max(r["value"] for r in rows if r["unit"] == "MiB")  # type: ignore[type-var]
    print(f"worst growth {worst:+.1f} MiB (target < 10 MiB)")
    options.out.mkdir(parents=True, exist_ok=True)
    path = save_json(options.out / f"soak-{time.strftime('%Y-%m-%d')}.json", {"rows": rows})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
