"""An app whose actors are busy in ``while True: pass`` handlers when it is signalled.

Run by tests/test_cli.py with ``interactors run``: a graceful stop must interrupt both
handlers, run both ``on_stop`` hooks and exit 0, well within the shutdown timeout. Each
actor writes its lifecycle events to ``$CLI_APPS_LOG``. Stdlib and interactors only.
"""

from __future__ import annotations

import os

import anyio

import interactors


def _log(event: str) -> None:
    with open(os.environ["CLI_APPS_LOG"], "a", encoding="utf-8") as f:
        f.write(event + "\n")


class Spinner(interactors.Actor):
    """A plain handler that never returns."""

    def spin(self) -> None:
        _log(f"{self.name}:spinning")
        while True:
            pass

    def on_stop(self) -> None:
        _log(f"{self.name}:stop")


class AsyncSpinner(interactors.Actor):
    """An ``async def`` handler stuck in a CPU loop: its event loop never gets back."""

    async def spin(self) -> None:
        _log(f"{self.name}:spinning")
        while True:
            pass

    async def on_stop(self) -> None:
        _log(f"{self.name}:stop")


async def main(system: interactors.ActorSystem) -> None:
    plain = await system.spawn(Spinner, name="plain")
    coroutine = await system.spawn(AsyncSpinner, name="coroutine")
    await plain.tell.spin()
    await coroutine.tell.spin()
    print("ready", flush=True)
    await anyio.sleep_forever()
