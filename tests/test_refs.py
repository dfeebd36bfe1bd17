"""Refs travel: an ActorRef sent to an actor talks to the other actor directly."""

from __future__ import annotations

import inspect
import pickle
import time
from pathlib import Path

import anyio
import pytest

import interactors
from actors import Forwarder, SyncCounter, Turns
from interactors import ChildSpec, Supervisor

pytestmark = pytest.mark.anyio


async def test_a_blocking_wait_on_an_actors_loop_leaves_the_loop_running() -> None:
    # The loop had queued its reader for the reply fd when the handler's .result() took
    # the wake-up: that reader blocked the actor's loop for good (it answered nothing more
    # and could not be stopped).
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            turns = await system.spawn(Turns)
            forwarder = await system.spawn(Forwarder, turns, shutdown=2.0)
            for _ in range(3):
                assert await forwarder.ask.wait_after_an_answer(0.02) == 3
                with anyio.fail_after(5):
                    assert await forwarder.ask.target_ref() == turns
            await forwarder.stop()
            assert await forwarder.wait_stopped() == "normal"  # not "killed": it stopped


async def test_ref_passed_to_an_actor_asks_directly() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            counter = await system.spawn(SyncCounter)
            forwarder = await system.spawn(Forwarder, counter)
            assert await forwarder.ask.forward_add(2) == 2
            assert await forwarder.ask.forward_add_async(3) == 5
            await forwarder.ask.forward_tell(4)
            assert await counter.ask.get() == 9
            assert await forwarder.ask.ping_many(200) == 200
            assert await counter.ask.get() == 209


async def test_host_proxies_look_like_what_they_are() -> None:
    # Libraries tell coroutine functions apart (task groups, web frameworks' handlers):
    # ask and tell are, tell_nowait is not; an ask started and never awaited sends nothing.
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            counter = await system.spawn(SyncCounter)
            assert inspect.iscoroutinefunction(counter.ask.add)
            assert inspect.iscoroutinefunction(counter.tell.add)
            assert not inspect.iscoroutinefunction(counter.tell_nowait.add)
            unawaited = counter.ask.add(5)
            assert inspect.iscoroutine(unawaited)
            unawaited.close()
            async with anyio.create_task_group() as tg:
                tg.start_soon(counter.ask.add, 2)
            assert await counter.ask.get() == 2


async def test_direct_messages_bypass_the_host_loop() -> None:
    """While the host loop is blocked, actors keep talking to each other."""
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            counter = await system.spawn(SyncCounter)
            forwarder = await system.spawn(Forwarder, counter)
            handled_before = counter.statistics().messages_handled
            await forwarder.tell.ping_many(500)
            # Block this event loop on purpose (up to 10 s, however loaded the machine):
            # the counter's statistics are read from shared memory, not through the loop.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if counter.statistics().messages_handled - handled_before >= 500:
                    break
                time.sleep(0.01)  # noqa: ASYNC251
            assert counter.statistics().messages_handled - handled_before == 500


async def test_refs_come_back_to_the_host_as_refs() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            counter = await system.spawn(SyncCounter)
            forwarder = await system.spawn(Forwarder)
            await forwarder.ask.set_target(counter)
            returned = await forwarder.ask.target_ref()
            assert returned == counter
            assert await returned.ask.add(1) == 1
            own = await forwarder.ask.my_ref()
            assert own == forwarder
            assert pickle.loads(pickle.dumps(counter)) == counter


async def test_unknown_method_on_an_inner_ref() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            counter = await system.spawn(SyncCounter)
            forwarder = await system.spawn("actors:Forwarder", counter)
            await forwarder.ask.set_target(counter)
            with pytest.raises(interactors.ActorError) as info:
                await forwarder.ask.call_unknown()
            assert info.value.type_name == "interactors.UnknownMethodError"


async def test_asking_a_stopped_actor_from_an_actor_fails_fast() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            counter = await system.spawn(SyncCounter)
            forwarder = await system.spawn(Forwarder, counter)
            await counter.stop()
            with pytest.raises(interactors.ActorError, match="ActorStopped"):
                await forwarder.ask.forward_add(1)


async def test_an_actor_module_may_import_actorref_at_run_time() -> None:
    # `from interactors import ActorRef` at the top of an actor's module (for annotations)
    # loads the host's ref module inside the actor: refs must still arrive as PeerRefs.
    from ref_import_actors import Keeper

    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            first = await system.spawn(Keeper)
            second = await system.spawn(Keeper, first)
            assert await second.ask.ping_other() == "pong"
            await first.ask.keep("ref", second)  # a ref as a handler's argument too
            assert await first.ask.give("ref") == second


async def test_typed_call_form_takes_static_and_class_methods() -> None:
    from worker_fault_actors import WithStaticAndClassMethods as Methods

    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            ref = await system.spawn(Methods)
            assert await ref.ask(Methods.double, 2) == 4
            assert await ref.ask(Methods.triple, 2) == 6
            with pytest.raises(TypeError, match=r"write ref\.ask\.double\(\.\.\.\)"):
                ref.ask("double", 2)  # type: ignore[call-overload]
            with pytest.raises(interactors.UnknownMethodError):
                await ref.ask(SyncCounter.add, 1)  # type: ignore[arg-type]


def test_blocking_refs_come_back_from_actors_as_blocking_refs() -> None:
    from ref_import_actors import Keeper

    with interactors.BlockingActorSystem() as system:
        keeper = system.spawn(Keeper)
        other = system.spawn(Keeper)
        keeper.ask.keep("ref", other).result(timeout=10)
        back = keeper.ask.give("ref").result(timeout=10)
        assert isinstance(back, interactors.BlockingActorRef)
        assert back == other
        assert len({back, other}) == 1
        assert back.ask.ping().result(timeout=10) == "pong"  # usable from this thread


@pytest.mark.parametrize("isolation", ["isolated", "process"])
async def test_an_actor_stops_itself_through_its_own_ref(tmp_path: Path, isolation: str) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            quitter = await system.spawn("actors:Quitter", str(log), isolation=isolation)
            other = await system.spawn("actors:Quitter", str(log), name="other")
            quitter.tell_nowait.quit()
            quitter.tell_nowait.note("queued")  # in the mailbox before the stop: handled
            assert await quitter.wait_stopped() == "normal"
            with pytest.raises(interactors.ActorStopped):
                await quitter.ask.note("late")
            assert await other.ask.note("other") == "other"
    assert log.read_text().split() == [
        f"{quitter.name}:start",
        "other:start",
        f"{quitter.name}:quit",
        f"{quitter.name}:queued",
        f"{quitter.name}:stop",
        "other:other",
        "other:stop",
    ]


async def test_an_actor_stops_another_and_a_supervised_one_is_not_restarted(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log"
    tree = Supervisor(
        children=[
            ChildSpec("actors:Quitter", str(log), name="boss"),
            ChildSpec("actors:Quitter", str(log), name="worker"),
        ]
    )
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(tree)
            boss, worker = sup.child("boss"), sup.child("worker")
            await boss.ask.stop_other(worker)
            assert await worker.wait_stopped() == "normal"  # for good: not restarted
            assert sup.children() == ["boss"]
            assert await boss.ask.quit_async() == "quitting"  # the awaited form
            assert await boss.wait_stopped() == "normal"
            assert sup.children() == []
    assert log.read_text().split() == [
        "boss:start",
        "worker:start",
        "worker:stop",
        "boss:stop",
    ]


@pytest.mark.parametrize("isolation", ["isolated", "process"])
async def test_an_error_keeps_its_type_and_cause_through_a_chain_of_actors(
    isolation: str,
) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            end = await system.spawn("actors:Relay", name="end")
            middle = await system.spawn("actors:Relay", end, name="middle", isolation=isolation)
            first = await system.spawn("actors:Relay", middle, name="first")
            with pytest.raises(interactors.ActorError) as caught:
                await first.ask.go(0)
    error = caught.value
    assert (error.actor, error.type_name, error.remote_message) == (
        "first",
        "KeyError",
        "'end of the chain at 2'",
    )
    assert isinstance(error.__cause__, KeyError)  # the original, as for a direct ask
    assert str(error).startswith("KeyError: 'end of the chain at 2' (in actor 'first')")
    # Each actor's frames, once: where it was raised, and the asks it went through.
    assert error.remote_traceback.count('raise KeyError(f"end of the chain at {n}")') == 1
    assert error.remote_traceback.count("self.nxt.ask.go(n + 1)") == 2
    assert "(in actor 'end')" in error.remote_traceback
    assert "(in actor 'middle')" in error.remote_traceback
    again = pickle.loads(pickle.dumps(error))  # an ActorError pickles, with its cause
    assert (type(again), str(again)) == (interactors.ActorError, str(error))
    assert isinstance(again.__cause__, KeyError)


@pytest.mark.parametrize("isolation", ["isolated", "process"])
async def test_an_actor_waiting_for_its_own_answer_gets_an_error_not_a_deadlock(
    isolation: str,
) -> None:
    started = time.monotonic()
    with anyio.fail_after(30):  # the waits below allow 60 s: an error, not their timeout
        async with interactors.ActorSystem() as system:
            relay = await system.spawn("actors:Relay", isolation=isolation)
            for method in ("ask_myself", "ask_myself_async"):
                with pytest.raises(interactors.ActorError) as caught:
                    await getattr(relay.ask, method)()
                assert caught.value.type_name == "RuntimeError"
                assert "waits for its own answer" in caught.value.remote_message
                assert "max_concurrency > 1" in caught.value.remote_message
            assert await relay.ask.ping() == "pong"  # it goes on
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("isolation", ["isolated", "process"])
async def test_an_actor_with_room_for_two_handlers_awaits_its_own_ask(isolation: str) -> None:
    # A process actor takes other actors' mail (here its own) while it handles the host's.
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            roomy = await system.spawn("actors:Relay", max_concurrency=2, isolation=isolation)
            assert await roomy.ask.ask_myself_async() == "pong"
            other = await system.spawn("actors:Relay")
            assert await roomy.ask.through(other) == "pong"
