"""A busy app for the signal-chaos test: actors in Python loops, callers asking them."""

from __future__ import annotations

import os

import anyio

import interactors


class Busy(interactors.Actor):
    def burn(self, n: int) -> int:
        total = 0
        for i in range(n):
            total += i % 7
        return total

    def on_stop(self) -> None:
        path = os.environ.get("CHAOS_LOG")
        if path:
            with open(path, "a", encoding="utf-8") as f:
                f.write(f"{self.name}:stop\n")


async def main(system: interactors.ActorSystem) -> None:
    actors = [await system.spawn(Busy, name=f"busy{i}") for i in range(3)]
    print("ready", flush=True)

    async def keep_busy(actor: interactors.ActorRef) -> None:
        while True:
            await actor.ask.burn(200_000)

    async with anyio.create_task_group() as group:
        for actor in actors:
            group.start_soon(keep_busy, actor)
