"""A ``Pool`` spec as a child of a supervision tree, next to actors and supervisors."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

import interactors
from interactors import Backoff, ChildCounts, ChildSpec, Pool, Supervisor, testing
from sup_actors import PoolWorker, Recorder

pytestmark = pytest.mark.anyio

FAST = Backoff(min=0.0, max=0.0, jitter=0.0)


def events(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


async def test_a_pool_in_a_tree_starts_in_order_answers_and_stops_with_it(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            app = await system.start(
                Supervisor(
                    name="app",
                    children=[
                        ChildSpec(Recorder, str(log), name="db"),
                        Pool(Recorder, str(log), size=2, name="workers", policy="least_busy"),
                        ChildSpec(Recorder, str(log), name="web"),
                    ],
                )
            )
            assert events(log) == ["db:start", "workers-0:start", "workers-1:start", "web:start"]
            workers = app.pool("workers")
            assert isinstance(workers, interactors.ActorPool)
            assert (workers.name, workers.policy, workers.size) == ("workers", "least_busy", 2)
            assert await workers.ask.add(5) == 5
            assert app.children() == ["db", "workers", "web"]
            with pytest.raises(TypeError, match=r"is a pool: use \.pool\('workers'\)"):
                app.child("workers")
            with pytest.raises(KeyError, match="no child pool 'db'"):
                app.pool("db")

            info = {c.name: c for c in app.which_children()}
            assert info["workers"].supervisor
            assert info["workers"].state == "running"
            assert isinstance(info["workers"].ref, interactors.ActorPool)
            assert info["workers"].ref == workers
            assert app.count_children() == ChildCounts(
                specs=3, active=3, restarting=0, supervisors=1, workers=2
            )

            members = workers.members
            await app.stop()
            assert not any(m.is_alive() for m in members)
            # Stopped in reverse start order, the pool's members as one child.
            assert events(log)[4:] == ["web:stop", "workers-1:stop", "workers-0:stop", "db:stop"]


async def test_a_crashed_member_is_restarted_in_place_by_the_pool(tmp_path: Path) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            app = await system.start(
                Supervisor(name="app", children=[Pool(PoolWorker, size=3, name="p")])
            )
            pool = app.pool("p")
            victim = pool.members[1]
            await testing.crash(victim)
            await testing.wait_restarts(victim, 1)
            assert pool.members[1] is victim  # same ref
            assert sorted({await pool.ask.whoami() for _ in range(3)}) == ["p-0", "p-1", "p-2"]
            assert app.which_children()[0].restarts == 0  # the pool itself was not restarted


async def test_a_pool_that_gives_up_is_restarted_by_its_parent(tmp_path: Path) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            app = await system.start(
                Supervisor(
                    name="app",
                    backoff=FAST,
                    children=[Pool(PoolWorker, size=2, name="p", max_restarts=0, backoff=FAST)],
                )
            )
            pool = app.pool("p")
            await testing.crash(pool.members[0])  # one restart is past its intensity
            with anyio.fail_after(10):
                while app.which_children()[0].restarts < 1:  # noqa: ASYNC110
                    await anyio.sleep(0.01)
            assert not app.failed
            assert await pool.ask.whoami() in ("p-0", "p-1")
            assert [m.name for m in app.pool("p").members] == ["p-0", "p-1"]


async def test_start_terminate_restart_and_delete_a_pool_child(tmp_path: Path) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            app = await system.start(Supervisor(name="app"))
            pool = await app.start_child(Pool(PoolWorker, size=2, name="jobs"))
            assert isinstance(pool, interactors.ActorPool)
            assert await pool.ask.whoami() == "jobs-0"
            members = pool.members
            await app.terminate_child("jobs")
            assert not any(m.is_alive() for m in members)
            assert [(c.name, c.state, c.ref) for c in app.which_children()] == [
                ("jobs", "terminated", None)
            ]
            again = await app.restart_child("jobs")
            assert isinstance(again, interactors.ActorPool)
            assert [m.name for m in again.members] == ["jobs-0", "jobs-1"]
            assert await again.ask.whoami() == "jobs-0"
            await again.resize(3)
            assert app.pool("jobs").size == 3
            await app.terminate_child("jobs")
            await app.delete_child("jobs")
            assert app.children() == []


async def test_members_take_the_pools_options(tmp_path: Path) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            app = await system.start(
                Supervisor(
                    name="app",
                    shutdown=1.5,
                    children=[Pool(PoolWorker, size=1, name="p", mailbox_size=7)],
                )
            )
            member = app.pool("p").members[0]
            assert member.statistics().mailbox_size == 7
            assert member._cell.shutdown_timeout == 1.5  # its parent's default


def test_pool_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="policy must be one of"):
        Pool(PoolWorker, size=2, policy="random")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="key= is for policy='hash'"):
        Pool(PoolWorker, size=2, key=str)
    with pytest.raises(ValueError, match="size must be at least 0"):
        Pool(PoolWorker, size=-1)
    with pytest.raises(ValueError, match="restart must be one of"):
        Pool(PoolWorker, size=1, restart="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="duplicate child names"):
        Supervisor(children=[Pool(PoolWorker, size=1, name="a"), ChildSpec(PoolWorker, name="a")])
    spec = Pool(PoolWorker, 1, size=2, name="p", policy="hash", key=len, on_error="stop")
    assert repr(spec) == f"Pool({PoolWorker!r}, size=2, name='p', policy='hash')"
    assert spec.child is not None
    assert (spec.child.args, spec.child.options) == ((1,), {"on_error": "stop"})


def test_a_pool_cannot_be_significant() -> None:
    with pytest.raises(ValueError, match="a pool cannot be significant"):
        Pool(PoolWorker, size=1, restart="transient", significant=True)
    with pytest.raises(ValueError, match="a Supervisor child is significant and permanent"):
        Supervisor(significant=True)
    with pytest.raises(ValueError, match=r"the child of .*PoolWorker.* significant and perm"):
        ChildSpec(PoolWorker, significant=True)
