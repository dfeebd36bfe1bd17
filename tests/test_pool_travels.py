"""A pool sent to an actor: a PeerPool there, choosing members by the pool's policy."""

from __future__ import annotations

import pickle

import anyio
import pytest

import interactors
from sup_actors import PoolClient, PoolWorker


@pytest.mark.anyio
@pytest.mark.parametrize("isolation", ["isolated", "process"])
async def test_round_robin_from_inside_an_actor(isolation: str) -> None:
    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            pool = await system.spawn_pool(PoolWorker, size=3, name="rr")
            client = await system.spawn(PoolClient, pool, isolation=isolation)
            assert await client.ask.describe() == ("PeerPool", "rr", 3, "round_robin")
            assert await client.ask.whoami_each(list(range(6))) == ["rr-0", "rr-1", "rr-2"] * 2
            assert await client.ask.whoami_async(3) == ["rr-0", "rr-1", "rr-2"]
            await client.ask.tell_each(5)  # 6 tells: two to each member
            with anyio.fail_after(10):
                while pool.statistics().messages_handled < 15:  # noqa: ASYNC110
                    await anyio.sleep(0.01)
            assert [s.messages_handled for s in pool.statistics().members] == [5, 5, 5]
            back = await client.ask.sent_back()  # back on the host: still a pool of its refs
            assert back.members == tuple(pool.members)
            assert await back.ask.whoami() == "rr-0"


@pytest.mark.anyio
async def test_hash_sends_a_key_where_the_host_sends_it() -> None:
    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            pool = await system.spawn_pool(PoolWorker, size=4, policy="hash", name="h")
            client = await system.spawn(PoolClient, pool)
            keys = [f"user-{i}" for i in range(12)] + [7, (1, "a")]
            on_host = [await pool.ask.whoami(key) for key in keys]
            assert await client.ask.whoami_each(keys) == on_host
            assert len(set(on_host)) > 1
            with pytest.raises(interactors.ActorError, match="hashes the message's key"):
                await client.ask.whoami_each([1.5])


@pytest.mark.anyio
async def test_least_busy_from_inside_avoids_a_busy_member() -> None:
    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            pool = await system.spawn_pool(PoolWorker, size=2, policy="least_busy", name="lb")
            client = await system.spawn(PoolClient, pool)
            busy = pool.members[0]
            async with anyio.create_task_group() as tg:
                tg.start_soon(busy.ask.sleep, 1.0)
                while busy.statistics().busy_seconds is None:  # noqa: ASYNC110
                    await anyio.sleep(0.01)
                assert await client.ask.whoami_each(list(range(4))) == ["lb-1"] * 4
                assert busy.statistics().busy_seconds is not None  # still blocked


@pytest.mark.anyio
async def test_a_pool_whose_key_does_not_pickle_is_refused_with_what_to_do() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            pool = await system.spawn_pool(
                PoolWorker, size=2, policy="hash", key=lambda user: user, name="k"
            )
            with pytest.raises(interactors.EncodeError, match="key= function does not pickle"):
                await system.spawn(PoolClient, pool)
            assert len(system.actors()) == 2  # the members; nothing left behind
            assert pickle.loads(pickle.dumps(pool.members[0])) == pool.members[0]


@pytest.mark.timeout(60)
def test_a_blocking_pool_travels_too() -> None:
    with interactors.BlockingActorSystem() as system:
        pool = system.spawn_pool(PoolWorker, size=2, name="bp")
        client = system.spawn(PoolClient, pool)
        assert client.ask.describe().result(timeout=10) == ("PeerPool", "bp", 2, "round_robin")
        assert client.ask.whoami_each([0, 1, 2]).result(timeout=10) == ["bp-0", "bp-1", "bp-0"]
