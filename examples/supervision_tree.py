"""A supervision tree at work: a crash restarted in place, a hung handler broken by the
watchdog, a one-off job watched by a monitor, and the statistics that record it all.

    python -m examples.supervision_tree [--backend trio]
    interactors run examples.supervision_tree:main

The tree (``app`` restarts one child at a time, ``workers`` restarts both workers together)::

    app (one_for_one)
    ├── cache              permanent
    ├── workers (one_for_all)
    │   ├── worker-1       permanent, handler_timeout 0.5 s
    │   └── worker-2       permanent, handler_timeout 0.5 s
    └── reporter           temporary

Finishes in a couple of seconds and exits 0.
"""

from __future__ import annotations

import argparse
import logging
import time

import anyio

import interactors
from examples.supervision_actors import Cache, Reporter, Worker
from interactors import Backoff, ChildSpec, Supervisor, testing

TREE = Supervisor(
    name="app",
    strategy="one_for_one",
    max_restarts=5,
    within=10.0,
    backoff=Backoff(min=0.01, max=1.0, jitter=0.2),
    children=[
        ChildSpec(Cache, name="cache", restart="permanent", shutdown=2.0),
        Supervisor(
            name="workers",
            strategy="one_for_all",
            max_restarts=3,
            within=5.0,
            children=[ChildSpec(Worker, name="worker-1"), ChildSpec(Worker, name="worker-2")],
        ),
        ChildSpec(Reporter, name="reporter", restart="temporary"),
    ],
)

EVENTS = ("crashed", "restarted", "hung", "gave_up")


async def crash_and_restart_in_place(root: interactors.SupervisorRef) -> None:
    cache = root.child("cache")  # this ref stays valid across the cache's restarts
    await cache.ask.put("greeting", "hello")
    interpreter = cache.statistics().interpreter_id
    try:
        await cache.ask.get("missing")
    except interactors.ActorCrashed as exc:
        print(f"cache crashed: {exc.type_name}: {exc.remote_message}")
    # Queued behind the crash, this ask is answered by the next incarnation.
    entries = await cache.ask.size()
    same = cache.statistics().interpreter_id == interpreter
    print(f"cache restarted in place: same interpreter {same}, {entries} entries (fresh instance)")
    built = await cache.ask.built()
    print(f"cache module-level state survived the restart: {built} instances built")


async def break_a_hung_handler(root: interactors.SupervisorRef) -> None:
    workers = root.supervisor("workers")
    first, second = workers.child("worker-1"), workers.child("worker-2")
    await first.ask.work(3)
    await second.ask.work(4)
    started = time.monotonic()
    try:
        await first.ask.spin(60)
    except interactors.ActorCrashed as exc:
        took = time.monotonic() - started
        print(f"worker-1 hung: the watchdog broke it after {took:.2f} s ({exc.type_name})")
    await testing.wait_restarts(second, 1)  # one_for_all: its sibling restarts too
    counters = await first.ask.work(1), await second.ask.work(1)
    print(f"workers restarted together (one_for_all): fresh counters {counters}")


async def watch_a_temporary_job(
    system: interactors.ActorSystem, root: interactors.SupervisorRef
) -> None:
    reporter = root.child("reporter")
    down = anyio.Event()

    def on_down(ref: interactors.ActorRef, reason: str) -> None:
        print(f"monitor: {ref.name} stopped for good ({reason})")
        down.set()

    system.monitor(reporter, on_down)
    print("report:", await reporter.ask.report(["cache ok", "workers ok"]))
    await reporter.stop()
    await down.wait()
    print(f"app children now: {', '.join(root.children())}")


def print_statistics(system: interactors.ActorSystem) -> None:
    stats = system.statistics()
    events = ", ".join(f"{name} {stats.events.get(name, 0)}" for name in EVENTS)
    print(f"events: {events}")
    print(
        f"interpreters: {stats.interpreters_created} created, "
        f"{stats.interpreters_destroyed} destroyed, {len(stats.abandoned)} abandoned"
    )
    for actor in stats.actors:
        print(
            f"  {actor.name:<9} {actor.state:<8} restarts {actor.restarts}  "
            f"handled {actor.messages_handled}  errors {actor.errors}  "
            f"interpreter {actor.interpreter_id}"
        )


async def main(system: interactors.ActorSystem) -> None:
    root = await system.start(TREE)
    print(f"started tree {root.name!r}: {', '.join(root.children())}")
    await crash_and_restart_in_place(root)
    await break_a_hung_handler(root)
    await watch_a_temporary_job(system, root)
    print_statistics(system)
    print("done")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    options = parser.parse_args()
    logging.basicConfig(format="log: %(levelname)s %(name)s: %(message)s")
    interactors.run(main, backend=options.backend)
