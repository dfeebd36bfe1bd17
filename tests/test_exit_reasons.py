"""Exit reasons: "normal", "shutdown", "killed" and a crash's text, in wait_stopped(),
monitors and logs, for actors and supervisors."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import anyio
import pytest

import interactors
from interactors import ChildSpec, Supervisor, testing
from sup_actors import Recorder

pytestmark = pytest.mark.anyio


async def test_an_actor_stopped_by_its_ref_or_exiting_by_itself_ends_normal(
    tmp_path: Path,
) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            stopped = await system.spawn(Recorder, str(tmp_path / "l"))
            await stopped.stop()
            assert await stopped.wait_stopped() == "normal"
            exiting = await system.spawn(Recorder, str(tmp_path / "l"), restart="transient")
            with pytest.raises(interactors.ActorCrashed):
                await exiting.ask.exit(0)
            assert await exiting.wait_stopped() == "normal"


async def test_an_actor_stopped_by_its_supervisor_ends_shutdown(tmp_path: Path) -> None:
    seen: list[tuple[str, str]] = []
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            app = await system.start(
                Supervisor(
                    name="app",
                    children=[
                        ChildSpec(Recorder, str(tmp_path / "l"), name=n) for n in ("a", "b", "c")
                    ],
                )
            )
            a, b, c = (app.child(n) for n in "abc")
            for ref in (a, b, c):
                system.monitor(ref, lambda ref, why: seen.append((ref.name, why)))
            await app.terminate_child("a")
            assert await a.wait_stopped() == "shutdown"
            await app.stop()
            assert [await b.wait_stopped(), await c.wait_stopped()] == ["shutdown"] * 2
            assert await app.wait_stopped() == "normal"  # its own stop() was asked for
            await anyio.sleep(0.05)
            assert sorted(seen) == [("a", "shutdown"), ("b", "shutdown"), ("c", "shutdown")]
            spawned = await system.spawn(Recorder, str(tmp_path / "l"))
    # The system's shutdown stops what is left with reason "shutdown" too.
    assert await spawned.wait_stopped() == "shutdown"


async def test_an_actor_abandoned_while_its_supervisor_stops_it_ends_killed(
    tmp_path: Path,
) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            app = await system.start(
                Supervisor(children=[ChildSpec(Recorder, str(tmp_path / "l"), name="stuck")])
            )
            stuck = app.child("stuck")
            await testing.hang(stuck, 1.0, in_c=True)
            await anyio.sleep(0.1)
            await app.terminate_child("stuck")  # (its shutdown is the system's: 5 s)
            assert await stuck.wait_stopped() == "shutdown"  # on_stop ran
            spec = ChildSpec(Recorder, str(tmp_path / "l"), name="brutal", shutdown=0.2)
            brutal = await app.start_child(spec)
            assert isinstance(brutal, interactors.ActorRef)
            await testing.hang(brutal, 0.8, in_c=True)
            await anyio.sleep(0.1)
            await app.terminate_child("brutal")
            assert await brutal.wait_stopped() == "killed"
            while any(t.name == "interactors-actor-brutal" for t in threading.enumerate()):  # noqa: ASYNC110
                await anyio.sleep(0.02)  # the abandoned worker leaves once its call returns


async def test_a_crash_that_is_not_restarted_keeps_its_text(tmp_path: Path) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            ref = await system.spawn(Recorder, str(tmp_path / "l"), restart="temporary")
            reasons: list[str] = []
            system.monitor(ref, lambda ref, why: reasons.append(why))
            with pytest.raises(interactors.ActorCrashed):
                await ref.ask.fail()
            assert await ref.wait_stopped() == "RuntimeError: recorder failed"
            await anyio.sleep(0.05)
            assert reasons == ["RuntimeError: recorder failed"]


async def test_the_log_says_why_an_actor_stopped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="interactors"), anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            mine = await system.spawn(Recorder, str(tmp_path / "l"), name="mine")
            await mine.stop()
            await system.spawn(Recorder, str(tmp_path / "l"), name="left")
    stops = [r.getMessage() for r in caplog.records if " stopped: " in r.getMessage()]
    assert stops == ["actor 'mine' stopped: normal", "actor 'left' stopped: shutdown"]


async def test_a_supervisor_reports_why_it_stopped(tmp_path: Path) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            nested = Supervisor(
                name="nested", children=[ChildSpec(Recorder, str(tmp_path / "l"), name="x")]
            )
            app = await system.start(Supervisor(name="app", children=[nested]))
            inner = app.supervisor("nested")
            await app.terminate_child("nested")
            assert await inner.wait_stopped() == "shutdown"
            again = await app.restart_child("nested")
            assert isinstance(again, interactors.SupervisorRef)
            assert not again.stopped


@pytest.mark.parametrize("isolation", ["isolated", "shared_gil"])
async def test_a_kill_just_before_the_system_closes_leaves_nothing_behind(
    isolation: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # ref.stop(0) abandons the idle worker, which leaves as soon as it is woken: the
    # system's close waits that moment for it, instead of reporting it as stuck.
    with anyio.fail_after(30):
        for _ in range(3):
            async with interactors.ActorSystem() as system:
                ref = await system.spawn(Recorder, str(tmp_path / "l"), isolation=isolation)
                assert await ref.ask.add(1) == 1
                await ref.stop(0)
                assert await ref.wait_stopped() == "killed"
            assert not [t for t in threading.enumerate() if t.name.startswith("interactors-")]
    assert "did not stop and were abandoned" not in caplog.text
