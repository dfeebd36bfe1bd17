"""Apps for the launcher-option tests (``tests/test_launcher_options.py``). Stdlib only.

``show`` prints what the app was given: its ``sys.argv`` and the settings that reached it.
"""

from __future__ import annotations

import logging
import os
import sys

import anyio

import interactors


class Worker(interactors.Actor):
    def ping(self) -> str:
        return "pong"


async def show(system: interactors.ActorSystem) -> None:
    print("argv", sys.argv)
    print("MESSAGE", os.environ.get("MESSAGE"))
    logging.getLogger("launcher_apps").warning("the app logs")


async def spawns_three(system: interactors.ActorSystem) -> None:
    """Spawns one actor, then two more a moment later, and keeps them a while."""
    await system.spawn(Worker)
    await anyio.sleep(0.1)
    await system.spawn(Worker)
    await system.spawn(Worker)
    await anyio.sleep(1.5)


def make_app() -> object:
    """An app factory: `interactors run --factory launcher_apps:make_app`."""

    async def main(system: interactors.ActorSystem) -> None:
        worker = await system.spawn(Worker)
        print("factory app:", await worker.ask.ping())

    return main


def failing_factory() -> object:
    raise RuntimeError("no database configured")


def makes_a_plain_function() -> object:
    """A factory whose app is a plain function."""

    def main(system: interactors.ActorSystem) -> None:
        pass

    return main


def makes_nothing() -> None:
    """A factory that forgets to return the app."""
