"""Typed refs that mypy --strict and pyright accept (checked by tests/test_typing.py)."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, assert_type

import interactors
from interactors import ActorRef, BlockingActorRef, PendingReply
from typed_actors import Adder, Counter


async def host_side(system: interactors.ActorSystem) -> None:
    counter = await system.spawn(Counter, 10)
    assert_type(counter, ActorRef[Counter])
    assert_type(await counter.ask(Counter.add, 5), int)
    assert_type(await counter.ask(Counter.add_later, 5, delay=0.1), int)  # async: unwrapped
    assert_type(await counter.ask(Counter.get), int)
    await counter.tell(Counter.add, 1)
    counter.tell_nowait(Counter.add, 1)
    assert_type(await counter.options(timeout=1).ask(Counter.add, 1), int)
    # The proxy form still works, untyped.
    assert_type(await counter.ask.add(5), Any)
    by_path = await system.spawn("typed_actors:Counter")
    assert_type(by_path, ActorRef[Any])
    adder = await system.spawn(Adder, counter)
    assert_type(await adder.ask(Adder.add_twice, 2), int)


def inside(peer: interactors.PeerRef[Counter]) -> None:
    reply = peer.ask(Counter.add, 5)
    assert_type(reply, PendingReply[int])
    assert_type(reply.result(timeout=1), int)
    assert_type(peer.ask(Counter.add_later, 5).result(), int)
    peer.tell(Counter.add, 1)
    peer.tell_nowait(Counter.add, 1)


async def inside_async(peer: interactors.PeerRef[Counter]) -> None:
    assert_type(await peer.ask(Counter.add, 5), int)
    assert_type(await peer.ask(Counter.add_later, 5), int)
    await peer.tell(Counter.add, 1)


def blocking(system: interactors.BlockingActorSystem) -> None:
    counter = system.spawn(Counter, 10)
    assert_type(counter, BlockingActorRef[Counter])
    assert_type(counter.ask(Counter.add, 5), Future[int])
    assert_type(counter.ask(Counter.add_later, 5, delay=0.1).result(timeout=1), int)
    counter.tell(Counter.add, 1)
    counter.tell_nowait(Counter.add, n=1)
    assert_type(counter.ref, ActorRef[Counter])
    assert_type(counter.ask.get(), Any)  # the attribute form: untyped
    assert_type(system.spawn("typed_actors:Counter"), BlockingActorRef[Any])


class Spawner(interactors.Actor):
    """Starts actors from inside: ``self.spawn`` gives typed refs."""

    def start_one(self) -> int:
        child = self.spawn(Counter, 1).result(timeout=5)
        assert_type(child, interactors.PeerRef[Counter])
        return child.ask(Counter.add, 1).result()

    async def start_async(self) -> int:
        pending = self.spawn(Counter, 1, name="counter")
        assert_type(pending, interactors.PendingSpawn[Counter])
        child = await pending
        by_path = await self.spawn("typed_actors:Counter")
        assert_type(by_path, interactors.PeerRef[Any])
        return await child.ask(Counter.add, 1)
