"""What an actor sent is delivered after it stops, and what is sent to a stopping actor
is answered or refused, never lost.

CPython drops the queue items a destroyed interpreter put and nobody read yet; the host
keeps a stopped actor's interpreter until its mail has been read. And an ask put on the
mailbox of an actor that is gone for good, after the host took what was left there, is
refused at the sender (the mailbox's CLOSED flag) instead of being destroyed with it.
"""

from __future__ import annotations

import anyio
import pytest

import interactors
from stopping_actors import Inbox, Sender

pytestmark = pytest.mark.anyio


async def test_tells_from_an_actor_that_stopped_arrive_all() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            inbox = await system.spawn(Inbox)
            await inbox.tell.nap(0.5)  # busy: the tells wait in its mailbox
            sender = await system.spawn(Sender)
            await sender.ask.tell_many(inbox, 200)
            await sender.stop()  # gone before the inbox reads a single one
            assert await inbox.ask.received() == list(range(200))


async def test_an_answer_from_an_actor_that_stopped_reaches_its_asker() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            inbox = await system.spawn(Inbox)
            sender = await system.spawn(Sender)
            async with anyio.create_task_group() as tg:
                answers: list[int] = []

                async def ask() -> None:
                    answers.append(await sender.ask.ask_then_nap(inbox, 0.5))

                tg.start_soon(ask)
                await anyio.sleep(0.2)  # answered, not yet read
                await inbox.stop()
            assert answers == [1]


@pytest.mark.parametrize("isolation", ["isolated", "process"])
async def test_asks_racing_a_stop_are_answered_or_refused(isolation: str) -> None:
    with anyio.fail_after(120):
        async with interactors.ActorSystem() as system:
            senders = [await system.spawn(Sender) for _ in range(2)]
            endings: list[str] = []

            async def hammer(sender: interactors.ActorRef, target: interactors.ActorRef) -> None:
                endings.append((await sender.ask.hammer(target, 20.0))[1])

            for _ in range(25):
                inbox = await system.spawn(Inbox, isolation=isolation)
                async with anyio.create_task_group() as tg:
                    for sender in senders:
                        tg.start_soon(hammer, sender, inbox)
                    await anyio.sleep(0.005)
                    await inbox.stop()
            assert endings == ["refused"] * 50
