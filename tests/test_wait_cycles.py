"""A cycle of synchronous waits (A waits for B's answer while B waits for A's) raises
RuntimeError at once in the actor that closes it, instead of waiting for a timeout."""

from __future__ import annotations

import time

import anyio
import pytest

import interactors
from cycle_actors import AsyncNode, Node, SlowToWake

pytestmark = pytest.mark.anyio


async def _ring(system: interactors.ActorSystem, *kinds: type[Node]) -> list[interactors.ActorRef]:
    nodes = [await system.spawn(kind) for kind in kinds]
    for node, nxt in zip(nodes, nodes[1:] + nodes[:1], strict=True):
        await node.ask.link(nxt)
    return nodes


@pytest.mark.parametrize("size", [2, 3])
async def test_a_cycle_of_synchronous_asks_raises_at_once(size: int) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            nodes = await _ring(system, *[Node] * size)
            started = time.monotonic()
            with pytest.raises(interactors.ActorError) as caught:
                await nodes[0].ask.around(size)  # comes back to nodes[0]: a cycle
            assert time.monotonic() - started < 5  # not the 10 s timeout
            assert caught.value.type_name == "RuntimeError"
            assert "would wait forever for an answer" in caught.value.remote_message
            through = "" if size == 2 else ", through 1 other actor(s)"
            assert f"waits for an answer from it{through}, and" in caught.value.remote_message
            # Every actor carries on, and a chain that is not a cycle is fine.
            assert await nodes[0].ask.around(size - 1) == nodes[-1].name
            assert [await node.ask.hello() for node in nodes] == [
                f"hello from {node.name}" for node in nodes
            ]


async def test_an_answered_asker_that_wakes_late_is_no_cycle() -> None:
    # B waits for A's answer. A answers, then asks B before B's thread has woken up to read
    # the answer (a thread of B's own holds B's GIL). B no longer waits for A: no cycle.
    # (A saw B's WAITING_ON still naming it, and refused.)
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            a, b = await _ring(system, Node, SlowToWake)
            await a.tell.pause(0.5)  # A's mailbox holds B's ask, then the host's
            while a.statistics().mailbox_depth:  # noqa: ASYNC110 (A pauses)
                await anyio.sleep(0.005)
            async with anyio.create_task_group() as tg:
                tg.start_soon(b.ask.hello_from_next_while_hogged, 1.5)
                while a.statistics().mailbox_depth < 1:  # noqa: ASYNC110 (B's ask is in)
                    await anyio.sleep(0.005)
                assert await a.ask.hello_from_next() == f"hello from {b.name}"


async def test_an_async_handler_alone_in_its_actor_closes_a_cycle_too() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            first, second = await _ring(system, AsyncNode, Node)
            with pytest.raises(interactors.ActorError, match="would wait forever"):
                await first.ask.around_async(2)
            assert await first.ask.around_async(1) == second.name


async def test_an_actor_that_handles_other_messages_while_it_awaits_is_no_cycle() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            first = await system.spawn(AsyncNode, max_concurrency=2)
            second = await system.spawn(Node)
            await first.ask.link(second)
            await second.ask.link(first)
            # first awaits second, which asks first: first answers with its other slot.
            assert await first.ask.around_async(2) == first.name


async def test_waits_that_are_no_cycle_are_never_refused() -> None:
    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            a, b, c = [await system.spawn(Node) for _ in range(3)]
            await a.ask.link(b)
            await b.ask.link(c)
            await c.ask.link(a)
            async with anyio.create_task_group() as tg:  # chains that never close, at once
                for _ in range(50):
                    tg.start_soon(a.ask.around, 2)
                    tg.start_soon(b.ask.around, 1)
            assert await a.ask.around(2) == c.name


async def test_a_thread_of_an_actor_that_waits_does_not_count_as_the_actor_waiting() -> None:
    from cycle_actors import Relay

    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            a, c, b = [await system.spawn(Relay) for _ in range(3)]
            # A's own thread waits for C, C for B, and B for A: A's handlers are free to
            # answer B, so this is no cycle, and it ends.
            await a.ask.wait_in_a_thread(c, b)
            await a.tell.nap(0.3)  # busy: B's ask waits long enough to look for a cycle
            while not (results := await a.ask.results_so_far()):  # noqa: ASYNC110
                await anyio.sleep(0.01)
            assert results == [f"hello from {a.name}"]
