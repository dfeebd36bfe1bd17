"""An app for ``interactors run`` whose actors are busy in their own processes."""

from __future__ import annotations

import os
import time

import anyio

import interactors


def _log(event: str) -> None:
    with open(os.environ["CLI_APPS_LOG"], "a", encoding="utf-8") as f:
        f.write(event + "\n")


class Churner(interactors.Actor):
    """Busy with a stream of short messages that it keeps sending itself."""

    def on_start(self) -> None:
        _log(f"{self.name}:start:{os.getpid()}")

    def on_stop(self) -> None:
        _log(f"{self.name}:stop")

    def churn(self) -> None:
        end = time.perf_counter() + 0.005
        while time.perf_counter() < end:
            pass
        self.ref.tell.churn()

    def spin(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass


async def main(system: interactors.ActorSystem) -> None:
    churner = await system.spawn(Churner, name="churner", isolation="process")
    spinner = await system.spawn(Churner, name="spinner", isolation="process", shutdown=1.0)
    await churner.tell.churn()
    await spinner.tell.spin(60)
    print("ready", flush=True)
    await anyio.sleep_forever()
