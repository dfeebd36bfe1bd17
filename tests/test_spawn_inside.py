"""Actors that start actors: ``self.spawn`` inside an actor, and who stops what it started."""

from __future__ import annotations

import logging

import anyio
import pytest

import interactors
from interactors import testing
from spawning_actors import Boss, Factory, Farm, Fragile, Mistakes, Nest, Watcher, Worker

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("isolation", ["isolated", "process"])
async def test_an_actor_starts_actors_and_they_stop_after_it(isolation: str) -> None:
    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            boss = await system.spawn(Boss, isolation=isolation)
            assert await boss.ask.total(10) == 10 + 20  # the two started in on_start
            hired = await boss.ask.hire(5, name="fifth")  # from an async handler
            assert isinstance(hired, interactors.ActorRef)
            assert hired.name == "fifth"
            assert await hired.ask.work(2) == 10  # the host talks to it too
            assert await boss.ask.total(1) == 1 + 2 + 5
            staff = await boss.ask.staff()
            assert [ref.is_alive() for ref in staff] == [True] * 3
            await boss.stop()
            with anyio.fail_after(20):
                reasons = [await ref.wait_stopped() for ref in staff]
            assert reasons == ["shutdown"] * 3
            assert await boss.wait_stopped() == "normal"
            assert system.statistics().actors == ()


async def test_a_restart_stops_what_the_last_incarnation_started() -> None:
    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            fragile = await system.spawn(Fragile)
            first = await fragile.ask.worker_ref()
            assert first.name == "fragile-worker"
            with pytest.raises(interactors.ActorCrashed):
                await fragile.ask.fail()
            second = await fragile.ask.worker_ref()  # waits for the restart
            # Stopped before the new incarnation started one of the same name.
            assert await first.wait_stopped() == "shutdown"
            assert second != first
            assert second.name == "fragile-worker"
            assert await second.ask.work(2) == 6
            assert len(system.statistics().actors) == 2


async def test_actors_started_by_started_actors_stop_with_the_first() -> None:
    with anyio.fail_after(90):
        async with interactors.ActorSystem() as system:
            root = await system.spawn(Nest, 2)  # 1 + 2 + 4 actors, each started in __init__
            assert await root.ask.size() == 7
            everyone = await root.ask.refs()
            assert len(set(everyone)) == 7
            await root.stop()
            with anyio.fail_after(30):
                reasons = sorted([await ref.wait_stopped() for ref in everyone])
            assert reasons == ["normal"] + ["shutdown"] * 6
            assert system.statistics().actors == ()


async def test_an_actor_that_stopped_on_its_own_is_forgotten_by_its_starter() -> None:
    with anyio.fail_after(90):
        async with interactors.ActorSystem() as system:
            boss = await system.spawn(Boss)
            answered, started = await boss.ask.start_and_stop(20)
            assert answered == 20
            with anyio.fail_after(20):
                assert {await ref.wait_stopped() for ref in started} == {"normal"}
            # Refs of actors gone for good still come back to the host, as stopped refs.
            assert not started[0].is_alive()
            with pytest.raises(interactors.ActorStopped):
                await started[0].ask.work(1)
            assert len(system.statistics().actors) == 3  # the boss and its first two
            # Nothing is kept for the stopped ones (a long-lived starter does not grow).
            assert sum(map(len, system._spawned.children.values())) == 2
            assert len(system._spawned.starters) == 2


async def test_mistakes_raise_in_the_actor_that_made_them_and_it_carries_on() -> None:
    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            mistakes = await system.spawn(Mistakes)
            unimportable = await mistakes.ask.unimportable()
            assert unimportable.startswith("SpawnError: cannot start actor")
            assert "No module named 'no_such_module'" in unimportable
            assert await mistakes.ask.unpicklable() == (
                "EncodeError: cannot send spawn()'s arguments to the host (TypeError: cannot "
                "pickle '_thread.lock' object); pass values that pickle"
            )
            assert await mistakes.ask.bad_option() == (
                "ValueError: mailbox_size must be at least 1, got 0"
            )
            init_fails = await mistakes.ask.init_fails()
            assert init_fails.startswith("SpawnError: ")
            assert "takes from 1 to 2 positional arguments but 4 were given" in init_fails
            assert await mistakes.ask.not_a_class() == (
                "TypeError: spawn() takes an actor class or 'module:Class', got 42"
            )
            assert len(system.statistics().actors) == 1  # nothing left behind by the failures
            assert await mistakes.ask.bad_option() == (
                "ValueError: mailbox_size must be at least 1, got 0"
            )


async def test_spawn_outside_a_running_actor_says_where_it_works() -> None:
    with pytest.raises(RuntimeError, match=r"Worker\.spawn\(\) works inside a running actor"):
        Worker().spawn(Worker)


async def test_a_handler_named_spawn_is_a_message() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            factory = await system.spawn(Factory)
            assert await factory.ask.spawn("tree") == "spawned tree"
            assert "spawn" in factory.methods
            worker = await system.spawn(Worker)
            assert "spawn" not in worker.methods  # Actor.spawn itself is not a message


async def _downs(watcher: interactors.ActorRef, count: int) -> list[tuple[str, str, bool]]:
    with anyio.fail_after(20):
        while len(seen := await watcher.ask.seen()) < count:  # noqa: ASYNC110
            await anyio.sleep(0.01)
    return [tuple(down) for down in seen]


async def test_an_actor_monitors_others_and_is_told_why_they_stopped_for_good() -> None:
    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            watcher = await system.spawn(Watcher)
            await watcher.ask.stop_worker()  # the one it started and monitors
            assert await _downs(watcher, 1) == [("watched", "normal", True)]

            flaky = await system.spawn(Worker, name="flaky")  # permanent: restarted
            await watcher.ask.watch(flaky)
            await flaky.tell.exit(3)
            await testing.wait_restarts(flaky, 1)  # a restart is not the end
            assert await flaky.ask.work(2) == 2
            temp = await system.spawn(Worker, name="temp", restart="temporary")
            await watcher.ask.watch(temp)
            await temp.tell.exit(3)  # not restarted: that is its end
            assert (await _downs(watcher, 2))[1] == ("temp", "SystemExit: 3", True)
            await flaky.stop()
            assert (await _downs(watcher, 3))[2] == ("flaky", "normal", True)

            await watcher.ask.watch(temp)  # gone already: told at once
            assert (await _downs(watcher, 4))[3] == ("temp", "SystemExit: 3", True)
            assert await watcher.ask.mistakes() == [
                "UnknownMethodError: actor 'Watcher-1' has no public method 'no_such_handler'; "
                "it has: mistakes, seen, stop_worker, watch, worker_down",
                "TypeError: monitor() takes an actor's ref, got 'not a ref'",
            ]


async def test_a_monitor_ends_with_the_actor_that_asked_for_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            watcher = await system.spawn(Watcher)
            other = await system.spawn(Worker, name="other")
            for _ in range(20):
                await watcher.ask.watch(other)
            watching = system._spawned.watching
            while len(watching.get(watcher.actor_id, ())) < 20:  # noqa: ASYNC110
                await anyio.sleep(0.01)  # (each monitor waits in a task of the host's)
            await watcher.stop()
            assert watcher.actor_id not in system._spawned.watching  # its waits are gone too
            await other.stop()  # nobody to tell: nothing fails, nothing is logged
            assert await other.wait_stopped() == "normal"
            assert system.actors() == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("isolation", ["isolated", "process"])
async def test_an_actor_starts_a_pool_and_it_stops_with_it(isolation: str) -> None:
    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            farm = await system.spawn(Farm, isolation=isolation)
            assert await farm.ask.work_all(4) == [0, 3, 6, 9]  # in turn over two members
            members = await farm.ask.members()
            assert [m.name for m in members] == ["farm-pool-0", "farm-pool-1"]
            pool, answers = await farm.ask.another(3)
            assert isinstance(pool, interactors.PeerPool)
            assert (pool.name, pool.size, pool.policy) == ("hashed", 3, "hash")
            assert len(set(answers)) == 1  # one key, one member
            assert (await farm.ask.bad_size()).startswith("ValueError: size must be at least 0")
            await farm.stop()
            with anyio.fail_after(20):
                reasons = {await m.wait_stopped() for m in [*members, *pool.members]}
            assert reasons == {"shutdown"}
            assert system.actors() == []
