"""Soaks: exact message totals and bounded memory under load, and 1,000 restarts.

Scaled to run in well under a minute on 2 CPUs; the issue-sized runs (1,000,000 tells)
live in the benchmarks.
"""

from __future__ import annotations

import gc

import anyio
import pytest

import interactors
from fault_actors import Chaotic, Tally
from interactors import Backoff, ChildSpec, Supervisor, testing

pytestmark = pytest.mark.anyio

TELLS = 100_000
MiB = 1024 * 1024


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


async def test_tells_arrive_exactly_with_rss_bounded_while_actors_lag() -> None:
    """4 actors, one lagging (5 ms every 1,000), 100k tells of tuples with bytes: exact totals,
    and the memory comes back (cross-interpreter releases must not pile up)."""
    with anyio.fail_after(120):
        async with interactors.ActorSystem(mailbox_size=5000) as system:
            actors = [await system.spawn(Tally) for _ in range(3)]
            actors.append(await system.spawn(Tally, 1000, 0.005))
            await actors[0].ask.totals()
            # Spare interpreters are made in the background after spawns (importing what
            # the actors needed ahead): memory that is not the tells'.
            await anyio.sleep(0.3)
            await anyio.to_thread.run_sync(system._interpreters.settle)
            gc.collect()
            before = rss()
            for i in range(TELLS):
                await actors[i % 4].tell.add(i, "t", b"x")
            results = [await actor.ask.totals() for actor in actors]
            assert sum(count for count, _ in results) == TELLS
            assert sum(total for _, total in results) == TELLS * (TELLS - 1) // 2
            for index, (count, _) in enumerate(results):
                assert count == len(range(index, TELLS, 4))
            gc.collect()
            grown = rss() - before
    assert grown < 10 * MiB, f"RSS grew {grown / MiB:.1f} MiB over {TELLS} tells"


async def test_a_thousand_restarts_leave_no_ask_hung_and_lose_no_tell() -> None:
    tree = Supervisor(
        max_restarts=100_000,
        within=1.0,
        backoff=Backoff(min=0.0, max=0.0, jitter=0.0),
        children=[ChildSpec(Chaotic, name="victim", on_error="restart")],
    )
    with anyio.fail_after(120):
        async with interactors.ActorSystem() as system:
            victim = (await system.start(tree)).child("victim")
            gc.collect()
            before = rss()
            for round_ in range(1000):
                # queued behind the crash: must reach the next incarnation
                await victim.tell.work(round_)
                error = await testing.crash(victim)
                assert isinstance(error, interactors.ActorCrashed)
                assert await victim.ask.work(round_) == round_ * 2
            stats = victim.statistics()
            assert stats.restarts == 1000
            gc.collect()
            grown = rss() - before
    assert grown < 20 * MiB, f"RSS grew {grown / MiB:.1f} MiB over 1,000 restarts"
