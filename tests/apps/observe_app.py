"""An app for ``interactors top``, ``stats`` and the metrics exporter to look at.

``steady`` starts a small supervision tree, sends known traffic (25 asks to ``counter``, one
crash of ``flaky``), prints ``ready`` and idles; ``busy`` does the same, then keeps the
actors busy so that rates show. Stdlib, anyio and interactors only: the actors'
interpreters import this module.
"""

from __future__ import annotations

import contextlib
import os

import anyio

import interactors


class Counter(interactors.Actor):
    def __init__(self) -> None:
        self.value = 0

    def add(self, n: int) -> int:
        self.value += n
        return self.value


class Flaky(interactors.Actor):
    on_error = "restart"  # its crash shows as a restart in `interactors top`

    def crash(self) -> None:
        raise RuntimeError("crash on request")

    def ping(self) -> str:
        return "pong"


class Store(interactors.Actor):
    def put(self, key: str, value: int) -> None:
        setattr(self, key, value)


tree = interactors.Supervisor(
    name="app",
    children=[
        interactors.ChildSpec(Counter, name="counter"),
        interactors.ChildSpec(Flaky, name="flaky"),
        interactors.Supervisor(
            name="storage",
            strategy="rest_for_one",
            children=[
                interactors.ChildSpec(Store, name="store-a"),
                interactors.ChildSpec(Store, name="store-b", restart="transient"),
            ],
        ),
    ],
)


async def _start(system: interactors.ActorSystem) -> tuple[interactors.ActorRef, ...]:
    app = await system.start(tree)
    await system.spawn(Counter, name="loose")
    counter, flaky = app.child("counter"), app.child("flaky")
    for _ in range(25):
        await counter.ask.add(1)
    with contextlib.suppress(interactors.ActorError):
        await flaky.ask.crash()
    while (await flaky.ask.ping()) != "pong":  # answered once it has restarted
        pass
    print("ready", flush=True)
    return counter, app.supervisor("storage").child("store-a")


async def steady(system: interactors.ActorSystem) -> None:
    await _start(system)
    await anyio.sleep_forever()


async def busy(system: interactors.ActorSystem) -> None:
    counter, store = await _start(system)
    while True:
        for i in range(200):
            await counter.ask.add(1)
            await store.tell.put("k", i)
        await anyio.sleep(0.01)


async def embedded() -> None:
    async with interactors.ActorSystem(control=True, metrics_port=0) as system:
        counter = await system.spawn(Counter, name="counter")
        await counter.ask.add(1)
        print(f"pid {os.getpid()}, metrics on port {system.metrics_port}", flush=True)
