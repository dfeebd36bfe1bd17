"""A BlockingActorSystem's messages to interpreter actors go from the calling thread
straight to the mailbox, and their answers come back without the event loop: the same
results, errors and order as through the loop, at several times the rate."""

from __future__ import annotations

import threading
import time
from concurrent.futures import CancelledError, Future

import pytest

import interactors
from actors import Counter, Echo, Exiter, Sleeper, Spin
from interactors import BlockingActorSystem
from interactors._host.thread_sends import AnswerFuture, answer_of

TIMEOUT = 20


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_one_threads_tells_and_asks_keep_their_order(backend: str) -> None:
    with BlockingActorSystem(backend=backend) as system:
        counter = system.spawn(Counter)
        process = system.spawn(Counter, isolation="process")  # (through the loop, as before)
        for ref in (counter, process):
            futures = []
            for i in range(300):
                if i % 3 == 0:
                    ref.tell.add(1)
                elif i % 3 == 1:
                    ref.tell_nowait.add(1)
                else:
                    futures.append(ref.ask.add(1))
            assert [f.result(timeout=TIMEOUT) for f in futures] == list(range(3, 301, 3))
            assert ref.ask.get().result(timeout=TIMEOUT) == 300


def test_many_threads_ask_at_once() -> None:
    with BlockingActorSystem() as system:
        counters = [system.spawn(Counter) for _ in range(2)]
        results: list[int] = []

        def work(ref: interactors.BlockingActorRef[Counter]) -> None:
            results.extend(ref.ask.add(1).result(timeout=TIMEOUT) for _ in range(200))

        threads = [threading.Thread(target=work, args=(counters[i % 2],)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT)
        assert sorted(results) == sorted(list(range(1, 801)) * 2)
        assert [c.ask.get().result(timeout=TIMEOUT) for c in counters] == [800, 800]


def test_errors_come_in_the_future_as_through_the_loop() -> None:
    with BlockingActorSystem() as system:
        echo = system.spawn(Echo)
        unpicklable = echo.ask.echo(lambda: None)
        with pytest.raises(interactors.EncodeError):
            unpicklable.result(timeout=TIMEOUT)  # nothing was sent
        with pytest.raises(interactors.EncodeError):
            echo.tell.echo(lambda: None)  # a tell raises at once
        exiter = system.spawn(Exiter, restart="temporary")
        dying = exiter.ask.exit()
        with pytest.raises(interactors.ActorCrashed, match="SystemExit"):
            dying.result(timeout=TIMEOUT)
        # Sent once it has stopped for good (or as it does: refused with why it is gone).
        with pytest.raises((interactors.ActorStopped, interactors.ActorCrashed)):
            exiter.ask.ping().result(timeout=TIMEOUT)
        deadline = time.monotonic() + TIMEOUT
        while exiter.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(interactors.ActorStopped):
            exiter.ask.ping().result(timeout=TIMEOUT)
        with pytest.raises(interactors.ActorStopped):
            exiter.tell.ping()
        assert echo.ask.echo("still here").result(timeout=TIMEOUT) == ("still here",)


def test_an_ask_queued_behind_a_crash_is_answered_by_the_restarted_actor() -> None:
    with BlockingActorSystem() as system:
        exiter = system.spawn(Exiter)  # permanent: restarted
        dying, queued = exiter.ask.exit(), exiter.ask.ping()
        with pytest.raises(interactors.ActorCrashed):
            dying.result(timeout=TIMEOUT)
        assert queued.result(timeout=TIMEOUT) == "pong"


def test_a_cancelled_ask_drops_its_answer() -> None:
    with BlockingActorSystem() as system:
        sleeper = system.spawn(Sleeper)
        slow = sleeper.ask.sleep(0.3)
        assert slow.cancel()  # the message was sent: it runs, its answer is dropped
        assert sleeper.ask.count().result(timeout=TIMEOUT) == 1
        assert slow.cancelled()


def test_leaving_the_block_answers_every_ask() -> None:
    futures: list[Future[int]] = []
    started = time.monotonic()
    # (The interruption lands in milliseconds when the machine is idle. The first one in
    # an interpreter imports ctypes, with a spinning handler taking the GIL at every file
    # read: with three test suites on 2 CPUs, it took longer than 0.3 s.)
    with BlockingActorSystem(shutdown_timeout=3.0) as system:
        spin = system.spawn(Spin)
        futures += [spin.ask.burn(10**10), spin.ask.burn(1)]  # the first would take hours
        time.sleep(0.1)
    for future in futures:  # interrupted, and not handled: each answered all the same
        with pytest.raises((interactors.ActorCrashed, interactors.ActorStopped)):
            future.result(timeout=TIMEOUT)
    assert time.monotonic() - started < TIMEOUT
    with pytest.raises(interactors.SystemClosed):
        spin.ask.burn(1)


def test_asks_do_not_wait_for_the_event_loop() -> None:
    with BlockingActorSystem() as system:
        counter = system.spawn(Counter)
        busy = threading.Thread(target=system.call, args=(time.sleep, 5.0))
        busy.start()  # the system's loop is blocked for 5 s
        try:
            time.sleep(0.1)
            sent = time.monotonic()
            futures = [counter.ask.add(1) for _ in range(100)]
            assert futures[-1].result(timeout=2.5) == 100
            assert time.monotonic() - sent < 2.5  # sent and answered while it is blocked
        finally:
            busy.join(TIMEOUT)


def test_pools_and_trees_from_synchronous_code() -> None:
    from interactors import (
        BlockingActorPool,
        BlockingActorRef,
        BlockingSupervisorRef,
        ChildSpec,
        DynamicSupervisor,
        Pool,
        Supervisor,
    )
    from sup_actors import PoolWorker

    with BlockingActorSystem() as system:
        pool = system.spawn_pool(PoolWorker, size=2, name="workers")
        assert isinstance(pool, BlockingActorPool)
        answers = [pool.ask.whoami().result(timeout=TIMEOUT) for _ in range(4)]
        assert answers == ["workers-0", "workers-1"] * 2  # round robin
        assert pool.ask(PoolWorker.whoami).result(timeout=TIMEOUT) == "workers-0"
        pool.tell.whoami()
        pool.tell_nowait.whoami()
        assert [m.name for m in pool.members] == ["workers-0", "workers-1"]
        assert all(isinstance(m, BlockingActorRef) for m in pool.members)
        pool.resize(3)
        assert pool.size == 3
        assert pool.statistics().messages_handled >= 5
        assert pool.supervisor.children() == ["workers-0", "workers-1", "workers-2"]

        tree = system.start(
            Supervisor(
                children=[
                    ChildSpec(Counter, name="counter"),
                    Pool(PoolWorker, size=2, name="inner"),
                    DynamicSupervisor(child=ChildSpec(Counter), name="dyn"),
                ],
                name="root",
            )
        )
        assert isinstance(tree, BlockingSupervisorRef)
        assert tree.children() == ["counter", "inner", "dyn"]
        counter = tree.child("counter")
        assert counter.ask.add(2).result(timeout=TIMEOUT) == 2
        assert tree.pool("inner").ask.whoami().result(timeout=TIMEOUT) == "inner-0"
        dyn = tree.supervisor("dyn")
        started = dyn.start_child(5)  # a blocking ref to the new instance
        assert started.ask.get().result(timeout=TIMEOUT) == 5
        dyn.terminate_child(started)  # named by its ref
        assert dyn.count_children().active == 0
        with pytest.raises(KeyError):
            tree.child("nobody")
        tree.stop()
        assert tree.stopped
        assert not counter.is_alive()
        pool.stop()
        assert system.actors() == []


@pytest.mark.parametrize("isolation", ["isolated", "process"])
def test_answer_futures_wait_as_concurrent_futures_do(isolation: str) -> None:
    # They wait in slices (so that a Ctrl-C is never lost: test_ctrl_c.py); what a
    # caller sees is a concurrent.futures.Future's behaviour.
    with BlockingActorSystem() as system:
        sleeper = system.spawn(Sleeper, isolation=isolation)
        assert sleeper.ask.sleep(0).result(timeout=TIMEOUT) == 0  # (started)
        slow = sleeper.ask.sleep(0.4)
        assert isinstance(slow, Future)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            slow.result(timeout=0.12)
        assert time.monotonic() - started >= 0.1  # its timeout, not one slice's 50 ms
        with pytest.raises(TimeoutError):
            slow.exception(timeout=0)
        assert slow.result() == 0.4  # no timeout: past several slices
        assert slow.exception() is None
        queued = [sleeper.ask.sleep(0.2), sleeper.ask.sleep(0.2)]
        assert queued[1].cancel()  # not running yet: cancelled, its answer dropped
        assert queued[1].cancelled()
        with pytest.raises(CancelledError):
            queued[1].result()
        assert queued[0].result(timeout=TIMEOUT) == 0.2
        assert sleeper.ask.count().result(timeout=TIMEOUT) in (3, 4)  # (the cancelled one may run)


def test_an_answer_that_is_a_timeout_error_is_raised_as_itself() -> None:
    # (as a ref with options(timeout=...) gives it): not taken for a slice's end
    future: AnswerFuture[int] = AnswerFuture()
    late = threading.Timer(0.08, future.set_exception, (TimeoutError("no answer in time"),))
    late.start()
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="no answer in time"):
        future.result()
    assert time.monotonic() - started < 5  # raised as it came, not waited past
    assert isinstance(future.exception(timeout=0), TimeoutError)
    late.join()
    source: Future[int] = Future()
    copy = answer_of(source)
    assert copy.cancel()
    assert source.cancelled()  # cancelling the copy cancels the task
