"""An ask in flight never hangs, whoever asked: when the actor handling it exits, is killed
or abandoned, or its incarnation ends under other async handlers, the asker (the host or
another actor) gets ActorCrashed. And stopping an actor whose mailbox is full stops it."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable

import anyio
import pytest

import interactors
from actors import Exiter, Failing
from interactors import testing
from worker_fault_actors import Concurrent, ConcurrentWithPlainExit, Napper, PeerAsker

pytestmark = pytest.mark.anyio


def _actor_threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"interactors-actor-{name}"]


async def _naps_while(
    target: interactors.ActorRef,
    asker: interactors.ActorRef,
    end: Callable[[], Awaitable[None]],
    delay: float,
) -> dict[str, tuple[str, str, float]]:
    """Two asks from the host and one from ``asker`` nap 10 s in ``target``; ``end()`` runs
    ``delay`` s later. How each nap's ask ended, and when (seconds after they began)."""
    outcomes: dict[str, tuple[str, str, float]] = {}
    start = time.monotonic()

    async def host_nap(key: str) -> None:
        try:
            answer: tuple[str, str] = ("answered", repr(await target.ask.nap(10.0)))
        except interactors.ActorError as error:
            answer = (type(error).__name__, str(error))
        outcomes[key] = (*answer, time.monotonic() - start)

    async def peer_nap() -> None:
        answer = await asker.ask.ask_peer_async("nap", 10.0)
        outcomes["peer"] = (*answer, time.monotonic() - start)

    async with anyio.create_task_group() as tg:
        tg.start_soon(host_nap, "host 1")
        tg.start_soon(host_nap, "host 2")
        tg.start_soon(peer_nap)
        await anyio.sleep(delay)
        tg.start_soon(end)
    assert set(outcomes) == {"host 1", "host 2", "peer"}
    return outcomes


@pytest.mark.parametrize("code", [3, 0])
async def test_an_actors_ask_in_flight_fails_when_its_target_exits(code: int) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            target = await system.spawn(Concurrent)
            asker = await system.spawn(PeerAsker, target)
            how, message = await asker.ask.ask_peer("exit_soon", code)
            assert how == "ActorCrashed"
            why = "a normal exit (SystemExit: 0)" if code == 0 else f"SystemExit: {code}"
            assert f"died handling this message: {why}" in message
            how, message = await asker.ask.ask_peer_async("exit_soon", code)
            assert (how, f"SystemExit: {code}" in message) == ("ActorCrashed", True)
            assert await target.ask.ping() == "pong"  # restarted (permanent)


async def test_an_actors_ask_in_flight_fails_when_its_target_is_killed() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            target = await system.spawn(Napper, name="napper")
            asker = await system.spawn(PeerAsker, target)
            async with anyio.create_task_group() as tg:
                outcome: list[tuple[str, str]] = []

                async def ask() -> None:
                    outcome.append(await asker.ask.ask_peer("nap", 2.0))

                tg.start_soon(ask)
                while target.statistics().busy_seconds is None:  # noqa: ASYNC110
                    await anyio.sleep(0.01)  # (until the nap has begun: its ask is in flight)
                await target.stop(0)
            # Not the nap's result, which the abandoned handler would have sent later.
            how, message = outcome[0]
            assert how == "ActorCrashed", message
            assert "was killed" in message
            deadline = time.monotonic() + 10
            while _actor_threads("napper") and time.monotonic() < deadline:  # noqa: ASYNC110
                await anyio.sleep(0.02)
            assert not _actor_threads("napper"), "the abandoned worker never left"


@pytest.mark.parametrize("ending", ["exit_soon", "fail_soon", "exit_now"])
async def test_concurrent_handlers_asks_fail_when_one_ends_the_incarnation(ending: str) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            target = await system.spawn(
                ConcurrentWithPlainExit, max_concurrency=4, on_error="restart"
            )
            asker = await system.spawn(PeerAsker, target)

            async def end_it() -> None:
                with pytest.raises(interactors.ActorCrashed):
                    await getattr(target.ask, ending)(*(() if ending == "fail_soon" else (1,)))

            outcomes = await _naps_while(target, asker, end_it, 0.02)
            for how, message, _ in outcomes.values():
                assert how == "ActorCrashed", message
                cause = "RuntimeError: boom" if ending == "fail_soon" else "SystemExit: 1"
                assert cause in message
            assert await target.ask.ping() == "pong"  # restarted; nothing left hanging


async def test_concurrent_handlers_asks_fail_when_the_incarnation_is_abandoned() -> None:
    """One async handler blocks the actor's loop in C past handler_timeout and shutdown:
    the host abandons the incarnation. The asks the other handlers were running (the
    host's and another actor's) are answered then, not when the blocking call returns."""
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            target = await system.spawn(
                Concurrent, name="blocked", max_concurrency=4, handler_timeout=0.2, shutdown=0.3
            )
            asker = await system.spawn(PeerAsker, target)

            async def block() -> None:
                with pytest.raises(interactors.ActorCrashed, match="stuck in a handler"):
                    await target.ask.block_loop(3.0)

            outcomes = await _naps_while(target, asker, block, 0.05)
            for how, message, after in outcomes.values():
                assert how == "ActorCrashed", message
                assert "abandoned while another handler blocked its event loop" in message
                assert after < 2.5, after  # before the blocking call returns (3 s)
            assert await target.ask.ping() == "pong"  # a new incarnation serves
            deadline = time.monotonic() + 10
            while _actor_threads("blocked")[1:] and time.monotonic() < deadline:  # noqa: ASYNC110
                await anyio.sleep(0.02)  # (the abandoned one leaves once its call returns)


async def test_stopping_an_actor_whose_mailbox_is_full() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem(shutdown_timeout=1.0) as system:
            target = await system.spawn(Napper, mailbox_size=1)
            await target.tell.nap(5.0)  # busy (a Python loop: a stop interrupts it)
            while target.statistics().busy_seconds is None:  # noqa: ASYNC110
                await anyio.sleep(0.01)
            await target.tell.ping()  # the mailbox is full now
            refused: list[BaseException] = []

            async def tell_when_room() -> None:
                try:
                    await target.tell.ping()
                except interactors.ActorStopped as error:
                    refused.append(error)

            async with anyio.create_task_group() as tg:
                tg.start_soon(tell_when_room)
                await anyio.sleep(0.05)
                await target.stop()  # waits for room for its STOP, then interrupts the nap
            assert not target.is_alive()
            assert len(refused) == 1  # the tell that waited for room: refused, not lost


async def test_leaving_the_system_with_a_full_mailbox() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem(shutdown_timeout=1.0) as system:
            target = await system.spawn(Napper, mailbox_size=1)
            await target.tell.nap(5.0)
            await target.tell.ping()
        assert not target.is_alive()


@pytest.mark.parametrize("isolation", ["isolated", "process"])
async def test_an_actor_exiting_under_its_host_ask(isolation: str) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            exiter = await system.spawn(Exiter, isolation=isolation)
            # The same words whatever the isolation: what ended the worker, and why.
            with pytest.raises(
                interactors.ActorCrashed, match="died handling this message: SystemExit: 3"
            ):
                await exiter.ask.exit()
            assert await exiter.ask.ping() == "pong"
            with pytest.raises(
                interactors.ActorCrashed,
                match=r"died handling this message: a normal exit \(SystemExit: 0\)",
            ):
                await exiter.ask.exit(0)
            assert await exiter.ask.ping() == "pong"


@pytest.mark.parametrize("batched", [False, True], ids=["one_by_one", "in_one_batch"])
async def test_tells_left_to_an_actor_gone_for_good_are_reported(
    batched: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # Its asks are answered (ActorCrashed); its tells cannot be: they are counted, and a
    # warning says how many, instead of vanishing. In one batch, the host's tells go as one
    # item, which the actor was handling when it stopped.
    caplog.set_level(logging.WARNING, logger="interactors")
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            failing = await system.spawn(Failing, on_error="stop", name="failing")
            if batched:
                failing.tell_nowait.fail("gone")  # the four leave in one turn: one batch
                for _ in range(3):
                    failing.tell_nowait.count()
            else:
                await testing.hang(failing, 0.3)  # queued behind it, one by one
                await failing.tell.fail("gone")
                for _ in range(3):
                    await failing.tell.count()
            assert await failing.wait_stopped() == "stopped after ValueError: gone"
            assert system.statistics().events["tells_dropped"] == 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert (
        "actor 'failing' is gone (stopped after ValueError: gone), with 3 tells left in its "
        "mailbox: not handled"
    ) in warnings


@pytest.mark.parametrize(
    ("how", "words"),
    [
        ("killed", "the actor's process was killed by SIGKILL"),
        ("exit", "a normal exit (SystemExit: 0)"),
    ],
)
async def test_tells_lost_with_a_process_are_reported(
    how: str, words: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A process actor's tells handed to its process end with it: a warning says how many,
    # and they are counted. The tell whose handler was running is not among them (it ran).
    # The actor is restarted and takes messages again.
    caplog.set_level(logging.WARNING, logger="interactors")
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            doomed = await system.spawn(
                "process_actors:Crasher", isolation="process", name="doomed"
            )
            assert await doomed.ask.add(1) == 1
            pid = doomed.statistics().process_id
            assert pid is not None
            await doomed.tell.sleep(30 if how == "killed" else 0.5)
            if how == "exit":
                await doomed.tell.system_exit(0)
            for _ in range(3):
                await doomed.tell.add(1)
            while doomed.statistics().mailbox_depth:  # noqa: ASYNC110 - handed to the process
                await anyio.sleep(0.01)
            while doomed.statistics().busy_seconds is None:  # noqa: ASYNC110 - sleeping
                await anyio.sleep(0.01)
            if how == "killed":
                os.kill(pid, signal.SIGKILL)
            await testing.wait_restarts(doomed, 1)
            assert system.statistics().events["tells_dropped"] == 3
            assert await doomed.ask.add(1) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert (
        f"actor 'doomed': 3 tells handed to its process were not handled, lost with it: {words}"
    ) in warnings
