"""The host's tells, coalesced: those made in one turn of the event loop travel as one
queue item (``_host/mailbox.py``, ``_inside/batches.py``).

Users see nothing of it but the speed: one sender's messages arrive in order, what a
message caused never overtakes it, a crash within a batch loses nothing of the rest, a
stop comes after what was sent before it, and the mailbox bound counts messages.
"""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest
import sniffio

import interactors
from actors import AsyncLedger, Ledger, Sleeper, Turns
from interactors import _backend as backend
from interactors._wire import envelope as P

pytestmark = pytest.mark.anyio

BIG = b"x" * 4096  # a tell with this argument goes alone, not in a batch


def test_the_backend_and_the_actors_agree_on_the_batch_kind() -> None:
    assert backend.BATCHED == P.BATCH


async def test_tells_of_one_turn_arrive_in_order_with_asks_and_large_ones(
    tmp_path: Path,
) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            ledger = await system.spawn(Ledger, str(tmp_path / "ledger"))
            expected = []
            for i in range(1000):
                if i % 97 == 0:
                    await ledger.ask.note(i)
                elif i % 31 == 0:
                    ledger.tell_nowait.note(i, BIG)
                elif i % 7 == 0:
                    await ledger.tell.note(i)
                else:
                    ledger.tell_nowait.note(i)
                expected.append(i)
            assert await ledger.ask.read() == expected
            assert ledger.statistics().messages_handled == 1001


async def test_a_tell_with_buffers_keeps_them_out_of_the_batch(tmp_path: Path) -> None:
    # A memoryview goes out of band, as it does for `await tell`: it arrives as a
    # memoryview, in order with the batched tells around it, not copied into the batch.
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            ledger = await system.spawn(Ledger, str(tmp_path / "ledger"))
            ledger.tell_nowait.note(0)
            ledger.tell_nowait.note(1, memoryview(b"small view"))
            ledger.tell_nowait.note(2, b"small bytes")
            await ledger.tell.note(3, memoryview(b"awaited view"))
            assert await ledger.ask.read() == [0, 1, 2, 3]
            assert await ledger.ask.blob_kinds() == [
                ("memoryview", b"small view"),
                ("bytes", b"small bytes"),
                ("memoryview", b"awaited view"),
            ]


async def test_tells_are_delivered_when_the_loop_turns(tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            ledger = await system.spawn(Ledger, str(path))
            for i in range(10):
                ledger.tell_nowait.note(i)
            # No other message follows: the turn of the loop sends them.
            while not path.exists() or len(path.read_text().split()) < 10:  # noqa: ASYNC110
                await anyio.sleep(0.01)
            assert path.read_text().split() == [str(i) for i in range(10)]


async def test_what_a_tell_caused_does_not_overtake_it(tmp_path: Path) -> None:
    # The host tells the ledger a round of entries, then asks another actor to tell it
    # one more: the batch goes before the ask, so that one comes after the round. (The
    # answer often comes back before the loop turns: the caller spins for it.)
    rounds, each = 50, 20
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            # (Room for every entry: the order is what is tested, not how fast the ledger
            # writes its file on a loaded machine.)
            ledger = await system.spawn(Ledger, str(tmp_path / "ledger"), mailbox_size=2000)
            relay = await system.spawn("process_actors:Journal")
            await relay.ask.note_elsewhere(ledger, -1)  # (its ref to the ledger is made)
            for round_ in range(rounds):
                for i in range(each):
                    ledger.tell_nowait.note(round_ * 100 + i)
                assert await relay.ask.note_elsewhere(ledger, 10_000 + round_) == "told"
            entries = await ledger.ask.read()
            assert len(entries) == rounds * (each + 1) + 1
            for round_ in range(rounds):
                assert entries.index(10_000 + round_) > entries.index(round_ * 100 + each - 1)


async def test_tells_to_two_actors_in_one_turn_keep_what_they_cause_in_order() -> None:
    # In one turn: the relay is told something, the journal is told n, then the relay is
    # told to tell the journal n + 1000. The journal must see n first: the host's tell to
    # it was sent before the one that caused n + 1000.
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            journal = await system.spawn("process_actors:Journal")
            relay = await system.spawn("process_actors:Journal")
            for n in range(200):
                relay.tell_nowait.note(n)
                journal.tell_nowait.note(n)
                relay.tell_nowait.note_elsewhere(journal, n + 1000)
                if n % 10 == 9:
                    await anyio.lowlevel.checkpoint()
            assert await relay.ask.echo(0) == 0  # the relay has told everything by now
            entries = await journal.ask.read()
            assert sorted(entries) == sorted([*range(200), *range(1000, 1200)])
            for n in range(200):
                assert entries.index(n) < entries.index(n + 1000)


@pytest.mark.parametrize("handler", ["note", "anote"])
async def test_a_crash_within_a_batch_loses_none_of_the_rest(tmp_path: Path, handler: str) -> None:
    # on_error="restart": the incarnation ends at entry 20, in the middle of a batch; the
    # next one goes on with entry 21, and nothing is handled twice.
    cls = Ledger if handler == "note" else AsyncLedger
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            ledger = await system.spawn(
                cls, str(tmp_path / "ledger"), crash_on=20, on_error="restart"
            )
            send = getattr(ledger.tell_nowait, handler)
            for i in range(200):
                send(i)
            entries = await ledger.ask.read()
            while len(entries) < 200:  # (asks are not held back by a restart's start)
                await anyio.sleep(0.01)
                entries = await ledger.ask.read()
            assert entries == list(range(200))
            assert ledger.statistics().restarts == 1


async def test_batched_tells_are_counted_and_timed_like_any_message(tmp_path: Path) -> None:
    # Tells in a batch keep every message's bookkeeping: handled and error counts (a
    # failing tell under on_error="resume" is logged, counted, and the rest go on), and
    # the handler timeout, which breaks a tell that runs too long within a batch.
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            ledger = await system.spawn(
                Ledger,
                str(tmp_path / "ledger"),
                crash_on=7,
                on_error="resume",
                handler_timeout=0.5,
            )
            for i in range(50):
                ledger.tell_nowait.note(i)
            ledger.tell_nowait.spin(20.0)  # broken at 0.5 s: a crash, then a restart
            for i in range(50, 60):
                ledger.tell_nowait.note(i)
            entries = await ledger.ask.read()
            while len(entries) < 60:  # (asks are not held back by a restart's start)
                await anyio.sleep(0.01)
                entries = await ledger.ask.read()
            assert entries == list(range(60))
            stats = ledger.statistics()
            assert (stats.errors, stats.restarts) == (2, 1)  # entry 7, and the spin
            assert stats.messages_handled == 50 + 1 + 10 + 1  # the read above too


async def test_a_stop_comes_after_the_tells_before_it(tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            ledger = await system.spawn(Ledger, str(path))
            for i in range(300):
                ledger.tell_nowait.note(i)
            await ledger.stop()
            assert path.read_text().split() == [str(i) for i in range(300)]


async def busy_sleeper(
    system: interactors.ActorSystem, mailbox_size: int
) -> interactors.ActorRef[Sleeper]:
    """A Sleeper busy with one message for the next 0.4 s, its mailbox empty."""
    sleeper = await system.spawn(Sleeper, mailbox_size=mailbox_size)
    sleeper.tell_nowait.sleep(0.5)
    await anyio.sleep(0.1)  # the actor is now busy with that one
    return sleeper


async def test_the_mailbox_bound_counts_batched_messages() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sleeper = await busy_sleeper(system, mailbox_size=100)
            for _ in range(100):
                sleeper.tell_nowait.sleep(0)
            assert sleeper.statistics().mailbox_depth == 100
            with pytest.raises(interactors.MailboxFull, match="mailbox_size"):
                sleeper.tell_nowait.sleep(0)
            await anyio.lowlevel.checkpoint()  # the batch is in the queue now, and still counts
            assert sleeper.statistics().mailbox_depth == 100
            with pytest.raises(interactors.MailboxFull):
                sleeper.tell_nowait.sleep(0)
            await sleeper.tell.sleep(0)  # waits for room
            assert await sleeper.ask.count() == 102
            assert sleeper.statistics().mailbox_depth == 0


# -- asks: those of concurrent callers go in the batch of the turn ---------------------------


@pytest.mark.parametrize("handler", ["note", "anote"])
async def test_concurrent_callers_asks_and_tells_keep_each_callers_order(
    tmp_path: Path, handler: str
) -> None:
    # While other callers await answers, an ask goes with the turn's batch. Each caller
    # gets its own answer, and sees its messages handled in the order it sent them.
    cls = Ledger if handler == "note" else AsyncLedger
    callers, each = 40, 30
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            ledger = await system.spawn(cls, str(tmp_path / "ledger"))
            ask, tell = getattr(ledger.ask, handler), getattr(ledger.tell_nowait, handler)

            async def caller(c: int) -> None:
                for i in range(each):
                    entry = c * 1000 + i
                    if i % 3:
                        tell(entry)
                    else:
                        assert await ask(entry) == entry

            async with anyio.create_task_group() as tg:
                for c in range(callers):
                    tg.start_soon(caller, c)
            entries = await ledger.ask.read()
            sent = [c * 1000 + i for c in range(callers) for i in range(each)]
            assert sorted(entries) == sent
            for c in range(callers):
                mine = [e for e in entries if e // 1000 == c]
                assert mine == [c * 1000 + i for i in range(each)]
            assert ledger.statistics().messages_handled == callers * each + 1


async def test_a_crash_among_batched_asks_fails_only_its_own(tmp_path: Path) -> None:
    # on_error="restart": the ask noting 20 fails with the handler's error; every other
    # ask, before or after it in the batch, is answered (the rest by the next incarnation),
    # and nothing is handled twice.
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            ledger = await system.spawn(
                Ledger, str(tmp_path / "ledger"), crash_on=20, on_error="restart"
            )
            answers: dict[int, object] = {}

            async def caller(entry: int) -> None:
                try:
                    answers[entry] = await ledger.ask.note(entry)
                except interactors.ActorError as exc:
                    answers[entry] = exc

            async with anyio.create_task_group() as tg:
                for entry in range(60):
                    tg.start_soon(caller, entry)
            failed = answers.pop(20)
            assert isinstance(failed, interactors.ActorError)
            assert "crashing on 20" in str(failed)
            assert answers == {entry: entry for entry in range(60) if entry != 20}
            assert sorted(await ledger.ask.read()) == list(range(60))
            assert ledger.statistics().restarts == 1


async def test_concurrent_asks_wait_for_room_in_a_full_mailbox() -> None:
    # 30 callers ask an actor whose mailbox holds 10 while it is busy: none is refused,
    # each waits for room, and every one is answered.
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sleeper = await busy_sleeper(system, mailbox_size=10)
            answers: list[float] = []

            async def caller() -> None:
                answers.append(await sleeper.ask.sleep(0))

            async with anyio.create_task_group() as tg:
                for _ in range(30):
                    tg.start_soon(caller)
                await anyio.sleep(0.05)
                assert sleeper.statistics().mailbox_depth == 10
            assert answers == [0] * 30
            assert await sleeper.ask.count() == 31


async def test_answers_held_in_a_batch_do_not_wait_for_a_slow_handler() -> None:
    # The actor holds the answers to a batch's asks to put them as one item, but puts them
    # before a handler of a method never run (first round) or slow the last time (second
    # round): the quick asks handled before the slow one are answered long before it ends.
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            turns = await system.spawn(Turns)
            answered: dict[int, float] = {}

            async def ask_quick(n: int) -> None:
                await turns.ask.quick(n)
                answered[n] = time.monotonic()

            async def ask_slow() -> None:
                await turns.ask.slow(99, 1.0)
                answered[99] = time.monotonic()

            for round_ in range(2):
                answered.clear()
                async with anyio.create_task_group() as tg:
                    for n in range(10):
                        tg.start_soon(ask_quick, n)
                    tg.start_soon(ask_slow)
                order = (await turns.ask.ran())[-11:]
                assert sorted(order) == [*range(10), 99], round_
                before = order[: order.index(99)]
                if sniffio.current_async_library() == "asyncio":  # (trio shuffles tasks)
                    assert before == list(range(10))
                for n in before:
                    assert answered[n] < answered[99] - 0.5, (round_, n, order)
