"""Fault-injection suite: OTP supervision over real sub-interpreter actors."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import pytest

import interactors
from interactors import Backoff, ChildSpec, Supervisor, testing
from sup_actors import AsyncSlow, BadStop, Recorder, Resumer, Slow, Stopper

pytestmark = pytest.mark.anyio

FAST = Backoff(min=0.0, max=0.0, jitter=0.0)


def events(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def tree(strategy: str, path: Path, **kwargs: object) -> Supervisor:
    return Supervisor(
        strategy=strategy,  # type: ignore[arg-type]
        max_restarts=5,
        within=5.0,
        backoff=FAST,
        children=[ChildSpec(Recorder, str(path), name=n) for n in ("a", "b", "c")],
        name="top",
        **kwargs,  # type: ignore[arg-type]
    )


async def test_one_for_one_restarts_only_the_failed_child(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            root = await system.start(tree("one_for_one", log))
            a, b, c = (root.child(n) for n in "abc")
            await a.ask.add(1)
            await c.ask.add(1)
            error = await testing.crash(b)
            assert isinstance(error, interactors.ActorCrashed)
            assert error.type_name == "interactors.testing.InjectedFault"
            assert "injected crash" in error.remote_traceback
            await testing.wait_restarts(b, 1)
            assert await b.ask.get() == 0  # fresh instance
            assert await a.ask.get() == 1  # untouched
            assert await c.ask.get() == 1
            assert events(log) == ["a:start", "b:start", "c:start", "b:start"]


async def test_one_for_all_restarts_everyone_in_order(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            root = await system.start(tree("one_for_all", log))
            a, b, c = (root.child(n) for n in "abc")
            await a.ask.add(5)
            await testing.crash(b)
            await testing.wait_restarts(a, 1)
            await testing.wait_restarts(c, 1)
            assert await a.ask.get() == 0
            # siblings stop in reverse start order, then all start in order
            assert events(log)[3:] == ["c:stop", "a:stop", "a:start", "b:start", "c:start"]


async def test_one_for_all_removes_temporary_siblings_instead_of_restarting(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log"
    spec = Supervisor(
        strategy="one_for_all",
        backoff=FAST,
        shutdown=1.5,
        children=[
            ChildSpec(Recorder, str(log), name="a"),
            ChildSpec(Recorder, str(log), name="t", restart="temporary"),
        ],
    )
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            root = await system.start(spec)
            assert root.child("a")._cell.shutdown_timeout == 1.5  # the supervisor's default
            await testing.crash(root.child("a"))
            await testing.wait_restarts(root.child("a"), 1)
            assert root.children() == ["a"]
            assert events(log) == ["a:start", "t:start", "t:stop", "a:start"]


async def test_rest_for_one_restarts_the_failed_and_later_children(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            root = await system.start(tree("rest_for_one", log))
            a, b, c = (root.child(n) for n in "abc")
            await a.ask.add(5)
            await testing.crash(b)
            await testing.wait_restarts(c, 1)
            assert await a.ask.get() == 5
            assert a.statistics().restarts == 0
            assert b.statistics().restarts == 1
            assert events(log)[3:] == ["c:stop", "b:start", "c:start"]


@pytest.mark.parametrize(
    ("restart", "code", "restarted"),
    [
        ("permanent", 0, True),
        ("permanent", 1, True),
        ("transient", 0, False),
        ("transient", 1, True),
        ("temporary", 1, False),
    ],
)
async def test_restart_types_vs_exit_reasons(
    tmp_path: Path, restart: str, code: int, restarted: bool
) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            root = await system.start(
                Supervisor(
                    backoff=FAST,
                    children=[ChildSpec(Recorder, str(tmp_path / "l"), name="x", restart=restart)],  # type: ignore[arg-type]
                )
            )
            ref = root.child("x")
            with pytest.raises(interactors.ActorCrashed):
                await ref.ask.exit(code)
            if restarted:
                await testing.wait_restarts(ref, 1)
                assert await ref.ask.add(1) == 1
                assert root.children() == ["x"]
            else:
                reason = await ref.wait_stopped()
                assert reason == ("normal" if code == 0 else f"SystemExit: {code}")
                assert root.children() == []
                with pytest.raises(interactors.ActorStopped):
                    await ref.ask.add(1)


async def test_a_crashed_child_that_is_not_restarted_reports_why() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            ref = await system.spawn(Recorder, os.devnull, restart="temporary")
            with pytest.raises(interactors.ActorCrashed):
                await ref.ask.fail()
            assert await ref.wait_stopped() == "RuntimeError: recorder failed"
            assert ref.statistics().state == "crashed"


async def test_crash_policy_resume_keeps_state_and_stop_stops_for_good() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            resumer = await system.spawn(Resumer)
            await resumer.ask.add(3)
            with pytest.raises(interactors.ActorError) as info:
                await resumer.ask.fail()
            assert not isinstance(info.value, interactors.ActorCrashed)
            assert await resumer.ask.add(1) == 4
            assert resumer.statistics().restarts == 0

            stopper = await system.spawn(Stopper)
            with pytest.raises(interactors.ActorCrashed, match="stop me"):
                await stopper.ask.fail()
            assert "stop me" in await stopper.wait_stopped()
            with pytest.raises(interactors.ActorStopped):
                await stopper.ask.ping()


async def test_messages_queued_during_a_crash_reach_the_next_incarnation(tmp_path: Path) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            ref = await system.spawn(Recorder, str(tmp_path / "l"))
            await testing.hang(ref, 0.2)  # busy: what follows queues up
            async with anyio.create_task_group() as tg:
                tg.start_soon(testing.crash, ref)
                await anyio.sleep(0.05)
                for _ in range(10):
                    await ref.tell.add(1)
            assert await ref.ask.get() == 10
            assert ref.statistics().restarts == 1


async def test_hung_handler_is_interrupted_by_the_watchdog() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            slow = await system.spawn(Slow)
            assert await slow.ask.ping() == 1
            started = anyio.current_time()
            with pytest.raises(interactors.ActorCrashed, match="handler_timeout") as info:
                await slow.ask.spin(30)
            took = anyio.current_time() - started
            assert 0.3 <= took < 2.0
            assert info.value.type_name == "interactors.HandlerTimeout"
            await testing.wait_restarts(slow, 1)
            assert await slow.ask.ping() == 1  # fresh instance, same interpreter
            assert system.statistics().abandoned == ()


@pytest.mark.parametrize("isolation", ["isolated", "shared_gil"])
async def test_an_interruption_leaves_the_switch_interval_as_it_was(isolation: str) -> None:
    # The watchdog shortens the GIL's switch interval while it injects (where the GIL is
    # the actor's own), so that the spinning handler lets it import what it needs: after
    # the interruption, the actor's interval is as before, and the host's untouched.
    host = sys.getswitchinterval()
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            slow = await system.spawn(Slow, isolation=isolation)
            interpreter = slow.statistics().interpreter_id
            before = await slow.ask.switch_interval()
            for n in range(2):  # (the first injection imports ctypes; the second does not)
                with pytest.raises(interactors.ActorCrashed, match="handler_timeout"):
                    await slow.ask.spin(30)
                await testing.wait_restarts(slow, 1 + n)
                assert await slow.ask.switch_interval() == before
            assert sys.getswitchinterval() == host
            assert slow.statistics().interpreter_id == interpreter  # (restarted in place)


async def test_async_handler_deadline_and_loop_heartbeat() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn(AsyncSlow)
            assert await actor.ask.wait(0.01) == "done"
            started = anyio.current_time()
            with pytest.raises(interactors.ActorCrashed, match="handler_timeout"):
                await actor.ask.wait(30)
            assert anyio.current_time() - started < 2.0
            await testing.wait_restarts(actor, 1)
            assert await actor.ask.ping() == "pong"
            # a sync call blocking the actor's loop: its heartbeat goes stale
            with pytest.raises(interactors.ActorCrashed, match="HandlerTimeout"):
                await actor.ask.spin(30)
            await testing.wait_restarts(actor, 2)
            assert await actor.ask.ping() == "pong"
            assert system.statistics().abandoned == ()


async def test_actor_blocked_in_c_is_abandoned_and_replaced() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            slow = await system.spawn(Slow, shutdown=0.3)
            first_interpreter = slow.statistics().interpreter_id
            with pytest.raises(interactors.ActorCrashed, match="hung"):
                await slow.ask.block(3)  # time.sleep: the watchdog cannot break it
            # (read at once: the stuck worker leaves by itself when its sleep ends)
            assert system.statistics().abandoned == (slow.name,)
            await testing.wait_restarts(slow, 1)
            assert await slow.ask.ping() == 1
            stats = system.statistics()
            assert stats.events["hung"] == 1
            assert slow.statistics().interpreter_id != first_interpreter
            # once the C call returns, the stuck worker sees it was replaced and leaves
            while system.statistics().abandoned:  # noqa: ASYNC110
                await anyio.sleep(0.05)
            assert await slow.ask.ping() == 2


def test_a_process_with_an_actor_stuck_in_c_still_exits() -> None:
    """Python would join the stuck thread forever at exit; interactors leaves instead."""
    code = textwrap.dedent(
        """
        import anyio, interactors

        async def main():
            async with interactors.ActorSystem(shutdown_timeout=0.3) as system:
                slow = await system.spawn("sup_actors:Slow", shutdown=0.3)
                await slow.tell.block(60)
                await anyio.sleep(0.1)
            print("left the block")

        anyio.run(main)
        """
    )
    # This checkout's sources (conftest put them in PYTHONPATH), and the test actors.
    path = os.pathsep.join(
        p for p in (str(Path(__file__).parent), os.environ.get("PYTHONPATH")) if p
    )
    env = {**os.environ, "PYTHONPATH": path}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )
    assert "left the block" in result.stdout
    assert result.returncode == 1
    assert "actors Slow-1 did not stop and were abandoned" in result.stderr


async def test_failing_restarts_count_toward_intensity_and_escalate(tmp_path: Path) -> None:
    spec = Supervisor(
        name="outer",
        max_restarts=1,
        within=10,
        backoff=FAST,
        children=[
            Supervisor(
                name="inner",
                max_restarts=2,
                within=10,
                backoff=FAST,
                children=[ChildSpec(Recorder, str(tmp_path / "l"), name="w")],
            )
        ],
    )

    async def body() -> None:
        async with interactors.ActorSystem() as system:
            root = await system.start(spec)
            worker = root.supervisor("inner").child("w")
            await testing.fail_next_start(worker, times=100)  # a crash loop in __init__
            await testing.crash(worker)
            await anyio.sleep(30)  # cancelled when the root gives up

    with anyio.fail_after(30), pytest.raises(interactors.SupervisorGaveUp, match="outer"):
        await body()


async def test_crash_loop_in_on_start_gives_up_without_a_storm(tmp_path: Path) -> None:
    log = tmp_path / "log"
    spec = Supervisor(
        name="solo",
        max_restarts=3,
        within=10,
        backoff=Backoff(min=0.01, max=0.05, jitter=0.1),
        children=[ChildSpec(Recorder, str(log), name="r")],
    )
    system = interactors.ActorSystem()

    async def body() -> None:
        async with system:
            root = await system.start(spec)
            await testing.fail_next_start(root.child("r"), times=100)
            await testing.crash(root.child("r"))
            await anyio.sleep(30)

    with anyio.fail_after(30):
        with pytest.raises(interactors.SupervisorGaveUp, match="more than 3 restarts"):
            await body()
        assert events(log) == ["r:start"]  # every restart failed before on_start
        assert system.statistics().events["gave_up"] == 1


async def test_backoff_spaces_successive_restarts() -> None:
    spec = Supervisor(
        max_restarts=10,
        within=10,
        backoff=Backoff(min=0.1, max=0.4, jitter=0.0),
        children=[ChildSpec(Resumer, name="r", on_error="restart")],
    )
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            ref = (await system.start(spec)).child("r")
            started = anyio.current_time()
            for n in range(1, 4):
                await testing.crash(ref)
                await testing.wait_restarts(ref, n)
            # 0.1 + 0.2 + 0.4 s of backoff
            assert anyio.current_time() - started >= 0.69


async def test_many_concurrent_asks_while_the_actor_keeps_crashing() -> None:
    outcomes: list[str] = []
    with anyio.fail_after(60):
        async with interactors.ActorSystem(max_restarts=1000, within=1) as system:
            ref = await system.spawn(Recorder, os.devnull)

            async def asker() -> None:
                for _ in range(50):
                    try:
                        await ref.ask.add(1)
                        outcomes.append("value")
                    except interactors.ActorCrashed:
                        outcomes.append("crashed")

            async def crasher() -> None:
                for _ in range(20):
                    await testing.crash(ref)
                    await anyio.sleep(0.005)

            async with anyio.create_task_group() as tg:
                for _ in range(20):
                    tg.start_soon(asker)
                tg.start_soon(crasher)
            # The last crash may come after the last ask: its restart may still be going.
            await testing.wait_restarts(ref, 20)
            assert ref.statistics().restarts == 20
    assert len(outcomes) == 1000
    # only the crashing asks fail: the adds queued behind them reach the next incarnation
    assert outcomes.count("value") == 1000


def _rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def test_two_hundred_restarts_leak_nothing() -> None:
    with anyio.fail_after(60):
        async with interactors.ActorSystem(
            max_restarts=1000, within=1, spare_interpreters=0
        ) as system:
            ref = await system.spawn(Recorder, os.devnull)
            created = system.statistics().interpreters_created
            await testing.crash(ref)
            await testing.wait_restarts(ref, 1)
            before = _rss_mib()
            for n in range(2, 202):
                await testing.crash(ref)
                await testing.wait_restarts(ref, n)
            growth = _rss_mib() - before
            assert await ref.ask.add(1) == 1
            # restarts happen in place: no new interpreter, bounded memory
            assert system.statistics().interpreters_created == created
            assert growth < 8, f"RSS grew {growth:.1f} MiB over 200 restarts"


async def test_monitor_and_wait_stopped_report_the_reason() -> None:
    seen: list[tuple[str, str]] = []
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            stopper = await system.spawn(Stopper, name="watched")
            system.monitor(stopper, lambda ref, why: seen.append((ref.name, why)))
            with pytest.raises(interactors.ActorCrashed):
                await stopper.ask.fail()
            reason = await stopper.wait_stopped()
            await anyio.sleep(0.05)
    assert seen == [("watched", reason)]
    assert "stop me" in reason


async def test_crash_during_shutdown_is_logged_and_shutdown_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "log"
    with caplog.at_level(logging.WARNING, logger="interactors"), anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            await system.spawn(Recorder, str(log), name="first")
            await system.spawn(BadStop)
            await system.spawn(Recorder, str(log), name="last")
    assert events(log) == ["first:start", "last:start", "last:stop", "first:stop"]
    assert "on_stop raised" in caplog.text


async def test_refs_held_by_other_actors_survive_restarts() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            target = await system.spawn(Recorder, os.devnull)
            forwarder = await system.spawn("actors:Forwarder", target)
            assert await forwarder.ask.forward_add(1) == 1
            await testing.crash(target)
            await testing.wait_restarts(target, 1)
            assert await forwarder.ask.forward_add(1) == 1
