"""Scenario 6 — scale: many idle actors, and a token passed round a ring of actors.

- many idle actors: spawn ``size.scale_actors`` (in batches of 100, stopping at the first
  failure, whose reason is recorded), then ask each once; spawn time, RSS growth per actor
  (VmRSS of this process) and the time to ask them all;
- ring: ``size.ring_actors`` actors, each sending the token to the next with a tell;
  ``size.ring_laps`` laps; hops per second and the time per hop.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import anyio

from .bench_actors import Echo, RingHead, RingNode
from .measure import (
    RssGrowth,
    Size,
    Timer,
    best_time,
    best_time_async,
    elapsed,
    row,
    runners,
)

TITLE = "Scale: many actors, ring"
BATCH = 100


def _many_rows(
    size: Size, reached: int, spawn_s: float, rss_mib: float, ask_s: float, why: str
) -> list[dict[str, Any]]:
    note = f"stopped at {reached}: {why}" if reached < size.scale_actors else ""
    return [
        row(f"spawn {size.scale_actors} idle actors", spawn_s, "s", "lower", note, n=reached),
        row(f"RSS per actor at {size.scale_actors}", rss_mib, "MiB", "lower", n=reached),
        row(f"ask each of {size.scale_actors} once", ask_s, "s", "lower", n=reached),
    ]


def _ring_rows(
    size: Size, seconds: float, hops: int | None = None, note: str = ""
) -> list[dict[str, Any]]:
    """``hops`` (default: ``size.ring_laps`` laps of ``size.ring_actors``) in ``seconds``."""
    hops = hops or size.ring_actors * size.ring_laps
    return [
        row(f"ring of {size.ring_actors}: hops/s", hops / seconds, "/s", "higher", note),
        row(f"ring of {size.ring_actors}: time per hop", seconds / hops * 1e6, "µs", "lower"),
    ]


def interactors(size: Size) -> list[dict[str, Any]]:
    import interactors as ia

    async def many(system: Any) -> list[dict[str, Any]]:
        refs: list[Any] = []
        why = ""

        async def spawn_one() -> None:
            refs.append(await system.spawn(Echo))

        with RssGrowth() as rss, Timer() as spawning:
            try:
                while len(refs) < size.scale_actors:
                    async with anyio.create_task_group() as tg:
                        for _ in range(min(BATCH, size.scale_actors - len(refs))):
                            tg.start_soon(spawn_one)
            except Exception as exc:
                why = f"{type(exc).__name__}: {exc}"[:300]
        with Timer() as asking:
            async with anyio.create_task_group() as tg:
                for ref in refs:
                    tg.start_soon(ref.ask.ping, 0)
        for ref in reversed(refs):
            await ref.stop()
        rss_mib = rss.mib_each(max(1, len(refs)))
        return _many_rows(size, len(refs), spawning.seconds, rss_mib, asking.seconds, why)

    async def ring(system: Any) -> list[dict[str, Any]]:
        head = await system.spawn(RingHead)
        nodes = [head, *[await system.spawn(RingNode) for _ in range(size.ring_actors - 1)]]
        for node, after in zip(nodes, nodes[1:] + nodes[:1], strict=True):
            await node.ask.link(after)
        await head.ask.run(size.ring_actors)  # warm up: one lap
        hops = size.ring_actors * size.ring_laps
        return _ring_rows(size, await best_time_async(size.repeat, lambda: head.ask.run(hops)))

    async def main() -> list[dict[str, Any]]:
        async with ia.ActorSystem(shutdown_timeout=30) as system:
            rows = await many(system)
            rows += await ring(system)
        return rows

    return ia.run(main)


def threads(size: Size) -> list[dict[str, Any]]:
    """Threads blocked on a ``SimpleQueue`` each; the ring passes the token queue to queue."""
    inboxes: list[queue.SimpleQueue[Any]] = []
    workers: list[threading.Thread] = []
    done = threading.Event()

    def serve(me: int) -> None:
        inbox = inboxes[me]
        while (item := inbox.get()) is not None:
            kind, value = item
            if kind == "ping":
                value.put(0)
            elif value <= 0:
                done.set()
            else:
                inboxes[(me + 1) % len(ring_members)].put(("token", value - 1))

    replies: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def ask_each() -> None:
        for inbox in inboxes:
            inbox.put(("ping", replies))
        for _ in inboxes:
            replies.get()

    def lap() -> None:
        inboxes[1].put(("token", size.ring_actors * size.ring_laps - 1))
        done.wait()
        done.clear()

    ring_members: list[int] = []
    with RssGrowth() as rss, Timer() as spawning:
        for i in range(size.scale_actors):
            inboxes.append(queue.SimpleQueue())
            workers.append(threading.Thread(target=serve, args=(i,), name=f"bench-idle-{i}"))
            workers[-1].start()
    try:
        rss_mib = rss.mib_each(size.scale_actors)
        rows = _many_rows(size, size.scale_actors, spawning.seconds, rss_mib, elapsed(ask_each), "")
        ring_members.extend(range(min(size.ring_actors, len(inboxes))))
        rows += _ring_rows(size, best_time(size.repeat, lap))
    finally:
        for inbox in inboxes:
            inbox.put(None)
        for worker in workers:
            worker.join()
    return rows


def pykka(size: Size) -> list[dict[str, Any]]:
    from .peer_pykka import PykkaEcho

    with RssGrowth() as rss, Timer() as spawning:
        refs = [PykkaEcho.start() for _ in range(size.scale_actors)]

    def ask_each() -> None:
        for future in [ref.ask(("ping", 0), block=False) for ref in refs]:
            future.get()

    def lap() -> None:
        done = threading.Event()
        members[0].tell(("run", size.ring_actors * size.ring_laps, done))
        done.wait()

    try:
        rss_mib = rss.mib_each(size.scale_actors)
        rows = _many_rows(size, size.scale_actors, spawning.seconds, rss_mib, elapsed(ask_each), "")
        members = refs[: size.ring_actors]
        for node, after in zip(members, members[1:] + members[:1], strict=True):
            node.ask(("link", after))
        rows += _ring_rows(size, best_time(size.repeat, lap))
    finally:
        for ref in refs:
            ref.stop()
    return rows


def thespian(size: Size) -> list[dict[str, Any]]:
    from .peer_thespian import ThespianEcho, start_system

    system = start_system()
    try:
        nodes = [system.createActor(ThespianEcho) for _ in range(size.ring_actors)]
        for node, after in zip(nodes, nodes[1:] + nodes[:1], strict=True):
            system.ask(node, ("link", after), 30)

        def lap() -> None:
            if system.ask(nodes[0], ("run", size.ring_actors * size.ring_laps), 120) is None:
                raise TimeoutError("the Thespian ring did not finish within 120 s")

        return _ring_rows(size, best_time(size.repeat, lap))
    finally:
        system.shutdown()


def ray(size: Size) -> list[dict[str, Any]]:
    from . import peer_ray

    raym = peer_ray.init()
    try:
        classes = peer_ray.actor_classes()
        members = RAY_RING
        nodes = [
            classes["ring_head"].remote(),
            *[classes["echo"].remote() for _ in range(members - 1)],
        ]
        raym.get(
            [
                node.link.remote(after)
                for node, after in zip(nodes, nodes[1:] + nodes[:1], strict=True)
            ]
        )
        hops = members * size.ring_laps
        raym.get(nodes[0].run.remote(members))
        best = best_time(size.repeat, lambda: raym.get(nodes[0].run.remote(hops)))
    finally:
        raym.shutdown()
    return _ring_rows(size, best, hops, f"ring of {members}")


RAY_RING = 10

RUNNERS = runners(globals())
NOT_APPLICABLE = {
    "raw": "no raw baseline",
    "processes": "a process per idle actor: see the spawn scenario (about 14 MiB RSS each)",
    "to_interpreter": "no actors: a pool of interpreters capped at one per CPU",
}
