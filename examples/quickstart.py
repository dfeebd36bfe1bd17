"""The README's quickstart, runnable: ``python -m examples.quickstart``."""

from __future__ import annotations

import asyncio

import interactors


class Counter(interactors.Actor):
    def __init__(self, start: int = 0) -> None:
        self.value = start

    def add(self, n: int) -> int:  # sync handler: runs in the actor's interpreter
        self.value += n
        return self.value

    async def add_later(self, n: int, delay: float) -> int:  # async handler: actor's own loop
        await asyncio.sleep(delay)
        return self.add(n)


async def main() -> None:
    async with interactors.ActorSystem() as system:
        counter = await system.spawn(Counter, 10)  # -> interactors.ActorRef
        assert await counter.ask.add(5) == 15
        await counter.tell.add(1)  # enqueue; waits only if the mailbox is full
        counter.tell_nowait.add(1)  # raises interactors.MailboxFull when full
        assert await counter.ask.add(0) == 17
        assert await counter.ask.add_later(3, 0.01) == 20
        by_path = await system.spawn("examples.quickstart:Counter")  # import path works too
        print("by path:", await by_path.ask.add(2))
        print("stats:", counter.statistics())


if __name__ == "__main__":
    interactors.run(main)  # like anyio.run; backend="trio" works too
