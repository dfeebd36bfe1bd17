"""Memory under a long stream of tells: does RSS come back when an actor lags behind?

    python -m benchmarks.soak [--tells N] [--out DIR]

For each host backend (asyncio, trio) and pacing (the actors keep up; they pause 5 ms
every 1,000 messages), 4 actors with 5,000-message mailboxes receive N tells, round
robin, of a small tuple with a string and bytes in it (``await ref.tell.add(i, "t",
b"x")``). Reported: RSS growth of this process
over the N tells (after a 10,000-tell warm-up, every tell handled, settled), and what is
left after the system closed (interpreters' memory, which CPython does not give back). On
CPython 3.13 before the int-handle transport, this grew by 20-23 MiB per million tells
with the lag, and more stayed after close (cross-interpreter releases dropped by a
300-entry pending-call queue). Target: < 10 MiB over 1,000,000 tells at any pacing, on
both backends. "Left after close" is a fixed cost per system: 4 actors' interpreters and
a spare, whose memory CPython does not give back.
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

# A deep mailbox lets the actor fall far behind: it then drains thousands of messages
# in a burst (the pattern that overflowed CPython 3.13's 300 pending releases).
MAILBOX = 5000
ACTORS = 4
PACINGS = {"keep up": (0, 0.0), "pause 5 ms / 1,000": (1000, 0.005)}


async def _soak(tells: int, every: int, pause: float) -> tuple[float, float, float]:
    """RSS growth over the tells (measured after a warm-up of 10,000, system open), what
    is left after the system closed (its interpreters' memory is not given back by
    CPython: a fixed cost per system, not per message), and the rate."""
    settle_memory()
    at_start = rss_kib()
    async with interactors.ActorSystem(mailbox_size=MAILBOX) as system:
        actors = [await system.spawn(Lagging, every, pause) for _ in range(ACTORS)]
        for i in range(10_000):
            await actors[i % ACTORS].tell.add(i, "t", b"x")
        assert sum([await actor.ask.count() for actor in actors]) == 10_000
        settle_memory()
        before = rss_kib()
        start = time.perf_counter()
        for i in range(tells):
            await actors[i % ACTORS].tell.add(i, "t", b"x")
        assert sum([await actor.ask.count() for actor in actors]) == tells + 10_000
        seconds = time.perf_counter() - start
        settle_memory()
        grown_mib = (rss_kib() - before) / 1024
    settle_memory()
    left_mib = (rss_kib() - at_start) / 1024
    return grown_mib, left_mib, tells / seconds


def run(tells: int) -> list[dict[str, object]]:
    rows = []
    for backend in ("asyncio", "trio"):
        for pacing, (every, pause) in PACINGS.items():
            grown_mib, left_mib, rate = anyio.run(_soak, tells, every, pause, backend=backend)
            note = f"{backend}, actors {pacing}"
            rows.append(row(f"RSS growth over {tells:,} tells", grown_mib, "MiB", "lower", note))
            rows.append(row("RSS left after the system closed", left_mib, "MiB", "lower", note))
            rows.append(row(f"tells/s, {tells:,} tells", rate, "msg/s", "higher", note))
            print(
                f"{note:36} over the tells {grown_mib:+6.1f} MiB   left after close"
                f" {left_mib:+6.1f} MiB   {rate:>9,.0f} tells/s",
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
    worst = max(r["value"] for r in rows if str(r["metric"]).startswith("RSS growth"))  # type: ignore[type-var]
    print(f"worst growth over the tells {worst:+.1f} MiB (target < 10 MiB)")
    options.out.mkdir(parents=True, exist_ok=True)
    path = save_json(options.out / f"soak-{time.strftime('%Y-%m-%d')}.json", {"rows": rows})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
