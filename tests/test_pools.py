"""Actor pools: one ref over N supervised members, each message to one member."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

import anyio
import pytest

import interactors
from interactors import ChildSpec, testing
from sup_actors import PoolWorker

pytestmark = pytest.mark.anyio


async def test_round_robin_spreads_evenly() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            pool = await system.spawn_pool(PoolWorker, size=3, name="rr")
            assert isinstance(pool, interactors.ActorPool)
            assert [m.name for m in pool.members] == ["rr-0", "rr-1", "rr-2"]
            names = [await pool.ask.whoami() for _ in range(9)]
            assert names == ["rr-0", "rr-1", "rr-2"] * 3
            await pool.tell.whoami()
            pool.tell_nowait.whoami()
            with anyio.fail_after(5):
                while pool.statistics().messages_handled < 11:  # noqa: ASYNC110
                    await anyio.sleep(0.01)
            stats = pool.statistics()
            assert (stats.name, stats.policy, stats.size) == ("rr", "round_robin", 3)
            assert [s.messages_handled for s in stats.members] == [4, 4, 3]
            assert (stats.errors, stats.restarts, stats.mailbox_depth) == (0, 0, 0)


async def test_least_busy_avoids_a_member_blocked_on_a_long_call() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            pool = await system.spawn_pool(PoolWorker, size=2, policy="least_busy", name="lb")
            busy, _idle = pool.members
            async with anyio.create_task_group() as tg:
                tg.start_soon(busy.ask.sleep, 1.0)
                while busy.statistics().busy_seconds is None:  # noqa: ASYNC110
                    await anyio.sleep(0.01)
                names = [await pool.ask.whoami() for _ in range(6)]
                assert names == ["lb-1"] * 6
                assert busy.statistics().busy_seconds is not None  # still blocked


async def test_hash_sends_equal_keys_to_the_same_member() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            pool = await system.spawn_pool(PoolWorker, size=4, policy="hash", name="h")
            keys = [f"user-{i}" for i in range(20)]
            first = [await pool.ask.whoami(k) for k in keys]
            again = [await pool.ask.whoami(k) for k in reversed(keys)]
            assert first == again[::-1]
            assert len(set(first)) > 1  # 20 keys do not all land on one member
            with pytest.raises(TypeError, match="key= function"):
                pool.ask.whoami()
            by_kw = await system.spawn_pool(
                PoolWorker, size=3, policy="hash", key=lambda *a, user, **kw: user, name="k"
            )
            assert len({await by_kw.ask.whoami(user="ann", n=i) for i in range(5)}) == 1


async def test_a_member_crash_under_load_is_replaced_and_every_ask_ends() -> None:
    outcomes: Counter[str] = Counter()

    async def ask(pool: interactors.ActorPool) -> None:
        try:
            outcomes[await pool.ask.whoami()] += 1
        except interactors.ActorCrashed:
            outcomes["crashed"] += 1

    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            pool = await system.spawn_pool(PoolWorker, size=3, name="c")
            victim = pool.members[1]
            async with anyio.create_task_group() as tg:
                for _ in range(30):
                    tg.start_soon(ask, pool)
                assert isinstance(await testing.crash(victim), interactors.ActorCrashed)
                for _ in range(30):
                    tg.start_soon(ask, pool)
            assert sum(outcomes.values()) == 60  # every ask ended
            assert outcomes["c-0"] == outcomes["c-2"] == 20  # the others lost nothing
            await testing.wait_restarts(victim, 1)
            assert pool.members[1] == victim  # replaced in place, same ref
            assert pool.statistics().restarts == 1
            assert [await pool.ask.whoami() for _ in range(3)] == ["c-0", "c-1", "c-2"]


async def test_resize_up_and_down() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            pool = await system.spawn_pool(PoolWorker, size=2, name="r")
            await pool.resize(4)
            assert [m.name for m in pool.members] == ["r-0", "r-1", "r-2", "r-3"]
            assert sorted({await pool.ask.whoami() for _ in range(4)}) == [
                "r-0",
                "r-1",
                "r-2",
                "r-3",
            ]
            last = pool.members[-1]
            async with anyio.create_task_group() as tg:
                queued: list[str] = []

                async def slow() -> None:
                    queued.append(await last.ask.sleep(0.2))

                tg.start_soon(slow)
                while last.statistics().busy_seconds is None:  # noqa: ASYNC110
                    await anyio.sleep(0.01)
                await pool.resize(1)
            assert queued == ["r-3"]  # a removed member finishes its work first
            assert not last.is_alive()
            assert [m.name for m in pool.members] == ["r-0"]
            assert pool.supervisor.children() == ["r-0"]
            assert {await pool.ask.whoami() for _ in range(3)} == {"r-0"}
            await pool.resize(2)
            assert [m.name for m in pool.members] == ["r-0", "r-4"]
            await pool.resize(0)
            with pytest.raises(interactors.ActorStopped, match="has no members"):
                await pool.ask.whoami()
            assert pool.statistics().size == 0


async def test_spawn_pool_checks_its_arguments() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            with pytest.raises(ValueError, match="policy must be one of"):
                await system.spawn_pool(PoolWorker, size=2, policy="random")  # type: ignore[arg-type]
            with pytest.raises(ValueError, match="key= is for policy='hash'"):
                await system.spawn_pool(PoolWorker, size=2, key=str)
            with pytest.raises(ValueError, match="size must be at least 0"):
                await system.spawn_pool(PoolWorker, size=-1)
            with pytest.raises(interactors.SpawnError):
                await system.spawn_pool(PoolWorker, "no such argument", size=2)
            assert system.actors() == []


KEYS = ["ann", "bob", b"raw", 7, -300, 2**70, ("tenant", 3), ("a", ("b", b"c")), "é"]
SHARD_PROGRAM = """
import json, anyio, interactors
from sup_actors import PoolWorker
KEYS = ["ann", "bob", b"raw", 7, -300, 2**70, ("tenant", 3), ("a", ("b", b"c")), "é"]

async def main():
    async with interactors.ActorSystem() as system:
        pool = await system.spawn_pool(PoolWorker, size=5, policy="hash", name="h")
        print(json.dumps([await pool.ask.whoami(k) for k in KEYS]))

anyio.run(main)
"""


async def test_hash_is_the_same_in_another_process_and_run() -> None:
    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            pool = await system.spawn_pool(PoolWorker, size=5, policy="hash", name="h")
            here = [await pool.ask.whoami(k) for k in KEYS]
            assert len(set(here)) > 1
        tests = Path(__file__).parent
        env = {
            **os.environ,
            "PYTHONHASHSEED": "12345",  # hash() of str and bytes differs from ours
            "PYTHONPATH": os.pathsep.join([str(tests), *sys.path]),
        }
        done = await anyio.run_process([sys.executable, "-c", SHARD_PROGRAM], env=env)
        assert json.loads(done.stdout) == here


async def test_hash_accepts_equal_keys_alike_and_refuses_other_types() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            pool = await system.spawn_pool(PoolWorker, size=7, policy="hash", name="h")
            for a, b in [(1, True), (b"k", bytearray(b"k")), (("x", 1), ("x", True))]:
                assert await pool.ask.whoami(a) == await pool.ask.whoami(b)
            for bad in (1.5, None, ["list"], ("ok", 2.0), object()):
                with pytest.raises(TypeError, match=r"str, bytes, int or a tuple of them, got"):
                    await pool.ask.whoami(bad)
            assert pool.statistics().messages_handled == 6


async def test_members_administered_through_the_pools_supervisor() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            pool = await system.spawn_pool(PoolWorker, size=3, name="e")
            await pool.supervisor.terminate_child("e-1")
            assert [m.name for m in pool.members] == ["e-0", "e-2"]
            assert pool.size == 2
            await pool.resize(3)  # starts one, up to 3 serving members
            assert [m.name for m in pool.members] == ["e-0", "e-2", "e-3"]
            await pool.resize(2)  # stops the last serving member
            assert [m.name for m in pool.members] == ["e-0", "e-2"]
            assert {await pool.ask.whoami() for _ in range(4)} == {"e-0", "e-2"}
            await pool.supervisor.restart_child("e-1")  # back in the rotation
            assert [m.name for m in pool.members] == ["e-0", "e-1", "e-2"]
            await pool.supervisor.terminate_child("e-2")
            await pool.supervisor.delete_child("e-2")
            assert pool.supervisor.children() == ["e-0", "e-1"]
            with pytest.raises(TypeError, match=r"pool's supervisor.*ActorPool\.resize\(n\)"):
                await pool.supervisor.start_child(ChildSpec(PoolWorker, name="other"))
            assert {await pool.ask.whoami() for _ in range(4)} == {"e-0", "e-1"}
