"""A script pressed Ctrl-C on: ``python ctrl_c.py run|blocking|plain BACKEND ACTOR [TIMEOUT]``.

``run`` uses ``interactors.run(main)``, ``blocking`` a ``BlockingActorSystem``, ``plain``
``async with ActorSystem()`` under the backend's own ``run`` (no help from interactors
with signals); ACTOR is
``spin`` (an actor looping in Python), ``nap`` (one blocked in C for 10 minutes, which
nothing can stop) or ``idle`` (one waiting for messages); TIMEOUT is the shutdown timeout. It
prints ``ready`` once the actor is up and ``stopping`` once a Ctrl-C was taken; the actor
prints ``on_stop ran`` when it stops.
Stdlib and interactors only.
"""

from __future__ import annotations

import sys
import time

import anyio

import interactors


class Looper(interactors.Actor):
    def spin(self) -> None:
        while True:
            pass

    def nap(self) -> None:
        time.sleep(600)

    def ping(self) -> str:
        return "pong"

    def on_stop(self) -> None:
        print("on_stop ran", flush=True)


async def main(system: interactors.ActorSystem) -> None:
    looper = await system.spawn(Looper)
    if sys.argv[3] != "idle":
        getattr(looper.tell_nowait, sys.argv[3])()
    try:  # (before "ready": a Ctrl-C sent right after it must reach the finally)
        print("ready", flush=True)
        await anyio.sleep_forever()
    finally:
        print("stopping", flush=True)  # the first Ctrl-C was taken


async def plain() -> None:
    async with interactors.ActorSystem(shutdown_timeout=TIMEOUT) as system:
        await main(system)


def blocking() -> None:
    with interactors.BlockingActorSystem(backend=sys.argv[2], shutdown_timeout=TIMEOUT) as system:
        looper = system.spawn(Looper)
        try:
            if sys.argv[3] != "idle":
                busy = getattr(looper.ask, sys.argv[3])()  # queued before "ready"
                print("ready", flush=True)
                busy.result()
            else:
                print("ready", flush=True)
                looper.ask.ping().result()
                time.sleep(60)  # a Ctrl-C lands in a plain wait
        except KeyboardInterrupt:
            print("stopping", flush=True)  # the first Ctrl-C was taken
            raise


TIMEOUT = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0

if __name__ == "__main__":
    if sys.argv[1] == "run":
        interactors.run(main, backend=sys.argv[2], shutdown_timeout=TIMEOUT)
    elif sys.argv[1] == "plain":
        anyio.run(plain, backend=sys.argv[2])
    else:
        blocking()
