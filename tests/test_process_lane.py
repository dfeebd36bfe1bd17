"""The direct lane between the host and a process actor (``_backend/lane.py``).

The host's own asks and tells take a shorter way to a process actor than other actors'
messages, and its answers come back that way too. Whatever way a message takes, users
see the order they would see between interpreter actors: one sender's messages arrive in
the order sent, a message an actor sends before it answers arrives before the answer,
and a stop comes after what was sent before it.
"""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

import interactors

pytestmark = pytest.mark.anyio

BIG = b"x" * (200 * 1024)  # larger than a lane message: this one takes the bridge


async def test_tells_and_asks_from_the_host_arrive_in_order() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            journal = await system.spawn("process_actors:Journal", isolation="process")
            expected = []
            for i in range(300):
                if i % 3 == 0:
                    await journal.tell.note(i)
                elif i % 3 == 1:
                    journal.tell_nowait.note(i)
                else:
                    assert await journal.ask.note(i) == i + 1
                expected.append(i)
            assert await journal.ask.read() == expected


async def test_small_and_large_messages_keep_their_order() -> None:
    # Large envelopes go through the bridge, small ones on the lane: still in order.
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            journal = await system.spawn("process_actors:Journal", isolation="process")
            for i in range(60):
                if i % 4 == 0:
                    await journal.tell.note(i, BIG)
                else:
                    await journal.tell.note(i)
            assert await journal.ask.echo(BIG) == BIG
            assert await journal.ask.read() == list(range(60))


async def test_what_an_actor_sends_before_answering_arrives_before_the_answer() -> None:
    # The answer comes back on the lane; the tell goes through the host's bridge.
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            other = await system.spawn("process_actors:Journal", name="other")
            sender = await system.spawn("process_actors:Journal", isolation="process")
            for i in range(50):
                assert await sender.ask.note_elsewhere(other, i) == "told"
                assert (await other.ask.read())[-1] == i


async def test_another_actors_message_and_the_hosts_keep_cause_and_effect() -> None:
    # An actor tells the process actor (through the bridge), answers the host, and the
    # host then asks the process actor (on the lane): the tell is handled first.
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            journal = await system.spawn("process_actors:Journal", isolation="process")
            relay = await system.spawn("process_actors:Journal", name="relay")
            for i in range(50):
                await relay.ask.note_elsewhere(journal, i)
                assert await journal.ask.note(f"host {i}") == 2 * i + 2
            entries = await journal.ask.read()
            assert entries == [e for i in range(50) for e in (i, f"host {i}")]


async def test_another_actors_message_waits_for_the_hosts_earlier_ones() -> None:
    # The host's tells wait behind a slow one; a relay's tell, sent after them (the host
    # waited for the relay's answer), must not overtake them.
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            journal = await system.spawn("process_actors:Journal", isolation="process")
            relay = await system.spawn("process_actors:Journal", name="relay")
            await journal.tell.nap(0.2)
            for i in range(5):
                await journal.tell.note(f"host {i}")
                await relay.ask.note_elsewhere(journal, f"relay {i}")
            entries = await journal.ask.read()
            assert entries == [e for i in range(5) for e in (f"host {i}", f"relay {i}")]


async def test_a_stop_comes_after_the_hosts_messages() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            journal = await system.spawn(
                "process_actors:Journal", isolation="process", mailbox_size=10_000
            )
            for i in range(500):
                journal.tell_nowait.note(i)
            await journal.stop()
            assert journal.statistics().messages_handled == 500


async def test_asks_waiting_on_the_lane_fail_when_the_process_dies() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            crasher = await system.spawn("process_actors:Crasher", isolation="process")
            assert await crasher.ask.add(1) == 1
            with pytest.raises(interactors.ActorCrashed):
                await crasher.ask.hard_exit(3)
            # Restarted in a new process, with a new lane.
            assert await crasher.ask.add(2) == 2


async def test_many_callers_at_once_get_their_own_answers() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            journal = await system.spawn("process_actors:Journal", isolation="process")
            results: dict[int, object] = {}

            async def call(i: int) -> None:
                for j in range(20):
                    results[i * 100 + j] = await journal.ask.echo(i * 100 + j)

            async with anyio.create_task_group() as tg:
                for i in range(20):
                    tg.start_soon(call, i)
            assert len(results) == 400
            assert all(key == value for key, value in results.items())


async def test_slow_answers_and_idle_actors_wake_their_callers() -> None:
    # A caller that stops looking for its answer sleeps until the child wakes it; a
    # worker that parked is woken by the host's next message.
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            journal = await system.spawn("process_actors:Journal", isolation="process")
            for i in range(5):
                await journal.ask.nap(0.05)  # longer than any caller looks for it
                await anyio.sleep(0.05)  # the worker parks
                assert await journal.ask.note(i) == i + 1


@pytest.mark.parametrize("lane", [True, False], ids=["lane", "no_lane"])
async def test_the_order_holds_with_and_without_the_lane(
    lane: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without shared-memory rings (a platform other than x86-64), everything takes the
    # bridge, as it did before the lane.
    from interactors._backend import process

    monkeypatch.setattr(process, "RING_SUPPORTED", lane)
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            journal = await system.spawn("process_actors:Journal", isolation="process")
            other = await system.spawn("process_actors:Journal", name="other")
            for i in range(20):
                await journal.tell.note(i)
                assert await journal.ask.note_elsewhere(other, i) == "told"
                assert (await other.ask.read())[-1] == i
            assert await journal.ask.read() == list(range(20))


@pytest.mark.parametrize("isolation", ["isolated", "process"])
async def test_a_caller_asking_in_a_tight_loop_lets_other_tasks_run(isolation: str) -> None:
    # Answers taken without suspending (spinning for them) must not starve the event loop.
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            journal = await system.spawn("process_actors:Journal", isolation=isolation)
            ticks = 0
            done = False

            async def ticker() -> None:
                nonlocal ticks
                while not done:
                    ticks += 1
                    await anyio.lowlevel.checkpoint()

            async with anyio.create_task_group() as tg:
                tg.start_soon(ticker)
                for i in range(2000):
                    assert await journal.ask.echo(i) == i
                seen = ticks
                done = True
            assert seen >= 2000 // 64 - 1  # at least once per 64 answers taken in a row
