"""Supervision under faults: failed restarts in groups, long crash loops, intensity windows
and backoff resets, over real sub-interpreter actors."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import anyio.abc
import pytest

import interactors
from interactors import Backoff, ChildSpec, Supervisor, testing
from sup_actors import Recorder, SlowToFailRestart, SlowToRestart

pytestmark = pytest.mark.anyio

FAST = Backoff(min=0.0, max=0.0, jitter=0.0)


def events(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def trio_of_recorders(strategy: str, path: Path, max_restarts: int = 5) -> Supervisor:
    return Supervisor(
        strategy=strategy,  # type: ignore[arg-type]
        max_restarts=max_restarts,
        within=10.0,
        backoff=FAST,
        children=[ChildSpec(Recorder, str(path), name=n) for n in ("a", "b", "c")],
        name="group",
    )


@pytest.mark.parametrize(
    ("strategy", "after_the_crash", "restarted"),
    [
        # c cannot start: what the attempt started (a, b) is stopped again, then the
        # restart is retried from c, which restarts the whole group.
        (
            "one_for_all",
            [
                *["c:stop", "a:stop", "a:start", "b:start"],
                *["b:stop", "a:stop", "a:start", "b:start", "c:start"],
            ],
            5,
        ),
        # retried from c: only c (nothing was started after it).
        ("rest_for_one", ["c:stop", "b:start", "c:start"], 2),
    ],
)
async def test_a_sibling_failing_to_start_is_retried_from_itself(
    tmp_path: Path, strategy: str, after_the_crash: list[str], restarted: int
) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            root = await system.start(trio_of_recorders(strategy, log))
            a, b, c = (root.child(n) for n in "abc")
            await testing.fail_next_start(c, times=1)
            await testing.crash(b)
            await testing.wait_restarts(c, 1)
            assert [await r.ask.add(1) for r in (a, b, c)] == [1, 1, 1]  # all fresh
            assert events(log)[3:] == after_the_crash
            assert not root.failed
            assert system.statistics().events["restarted"] == restarted


@pytest.mark.parametrize("strategy", ["one_for_all", "rest_for_one"])
async def test_a_sibling_that_never_starts_makes_the_supervisor_give_up(
    tmp_path: Path, strategy: str
) -> None:
    system = interactors.ActorSystem()

    async def body() -> None:
        async with system:
            root = await system.start(trio_of_recorders(strategy, tmp_path / "log", 3))
            await testing.fail_next_start(root.child("c"), times=100)
            await testing.crash(root.child("b"))
            await anyio.sleep(15)  # cancelled when "group" gives up

    with anyio.fail_after(20):
        with pytest.raises(interactors.SupervisorGaveUp) as info:
            await body()
    assert str(info.value).startswith(
        "supervisor 'group' gave up: more than 3 restarts within 10.0 s (last: 'c': restart failed"
    )
    assert system.statistics().events["gave_up"] == 1


def test_backoff_delay_is_capped_for_any_number_of_attempts() -> None:
    backoff = Backoff(min=0.01, max=2.0, jitter=0.0)
    assert [backoff.delay(n) for n in (1, 2, 3)] == [0.01, 0.02, 0.04]
    assert backoff.delay(1024) == backoff.delay(1025) == backoff.delay(10**9) == 2.0
    assert Backoff(min=1e-300, max=1.0, jitter=0.0).delay(5000) == 1.0


async def test_a_child_keeps_being_restarted_past_1024_successive_restarts() -> None:
    spec = Supervisor(
        max_restarts=10_000,
        within=1.0,
        backoff=Backoff(min=1e-9, max=1e-6, jitter=0.0),  # never quiet long enough to reset
        children=[ChildSpec(Recorder, os.devnull, name="r")],
    )
    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            ref = (await system.start(spec)).child("r")
            for _ in range(1030):  # each crash waits in the mailbox for the next incarnation
                await testing.crash(ref)
            await testing.wait_restarts(ref, 1030)
            assert await ref.ask.add(1) == 1
            # The supervisor counts a restart once its start call returns, in its own task:
            # an ask answered while the caller spins can come before that task runs.
            while system.statistics().events["restarted"] < 1030:  # noqa: ASYNC110
                await anyio.sleep(0.005)
            assert system.statistics().events["restarted"] == 1030


async def test_restarts_older_than_within_no_longer_count() -> None:
    spec = Supervisor(
        max_restarts=2,
        within=0.5,
        backoff=FAST,
        children=[ChildSpec(Recorder, os.devnull, name="r")],
    )
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            root = await system.start(spec)
            ref = root.child("r")
            for n in (1, 2):
                await testing.crash(ref)
                await testing.wait_restarts(ref, n)
            await anyio.sleep(0.6)  # both restarts age out of the window
            for n in (3, 4):
                await testing.crash(ref)
                await testing.wait_restarts(ref, n)
            assert await ref.ask.add(1) == 1
            assert not root.failed


async def test_the_third_restart_within_the_window_makes_the_supervisor_give_up() -> None:
    spec = Supervisor(
        name="strict",
        max_restarts=2,
        within=10.0,
        backoff=FAST,
        children=[ChildSpec(Recorder, os.devnull, name="r")],
    )
    restarts_seen = -1

    async def body() -> None:
        nonlocal restarts_seen
        async with interactors.ActorSystem() as system:
            ref = (await system.start(spec)).child("r")
            for n in (1, 2):
                await testing.crash(ref)
                await testing.wait_restarts(ref, n)
            restarts_seen = ref.statistics().restarts
            await testing.crash(ref)
            await anyio.sleep(10)  # cancelled when "strict" gives up

    with anyio.fail_after(20), pytest.raises(interactors.SupervisorGaveUp, match="'strict'"):
        await body()
    assert restarts_seen == 2


async def test_backoff_starts_again_after_a_quiet_period() -> None:
    spec = Supervisor(
        max_restarts=10,
        within=10.0,
        backoff=Backoff(min=0.1, max=1.0, jitter=0.0, reset_after=0.5),
        children=[ChildSpec(Recorder, os.devnull, name="r")],
    )
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            ref = (await system.start(spec)).child("r")
            for n in (1, 2):  # waits 0.1 s, then 0.2 s
                await testing.crash(ref)
                await testing.wait_restarts(ref, n)
            await anyio.sleep(0.6)  # quiet for longer than reset_after
            started = anyio.current_time()
            await testing.crash(ref)
            await testing.wait_restarts(ref, 3)
            # 0.1 s again, not the 0.4 s of a third successive restart
            assert anyio.current_time() - started < 0.3


async def test_a_handlers_exception_is_the_callers_error_by_default() -> None:
    # More bad requests than the root's intensity (10 in 5 s): nothing restarts or ends.
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            store = await system.spawn("sup_actors:Store")
            await store.ask.put("key", "value")
            for _ in range(12):
                error = await testing.crash(store)
                assert type(error) is interactors.ActorError
                assert error.type_name == "interactors.testing.InjectedFault"
            with pytest.raises(interactors.ActorError, match="missing 1 required positional"):
                await store.ask.put("key only")
            assert await store.ask.size() == 1  # the same instance, its state kept
            assert store.statistics().restarts == 0
            assert store.statistics().errors == 13
            events = system.statistics().events
            assert set(events) == {"started"}


async def test_a_root_giving_up_while_the_body_returns_still_raises() -> None:
    spec = Supervisor(
        name="late",
        max_restarts=1,
        within=10.0,
        backoff=FAST,
        children=[ChildSpec(SlowToFailRestart, name="s")],
    )

    async def body() -> str:
        async with interactors.ActorSystem() as system:
            ref = (await system.start(spec)).child("s")
            with pytest.raises(interactors.ActorCrashed):
                await ref.ask.fail()
            await anyio.sleep(0.1)  # its restart is under way (0.3 s), then fails
        return "returned"

    with anyio.fail_after(20), pytest.raises(interactors.SupervisorGaveUp, match="'late'"):
        await body()


async def test_asks_pending_when_a_root_gives_up_fail_saying_why() -> None:
    """Asks waiting in the body's tasks and in the user's own tasks end with ActorCrashed
    (SupervisorGaveUp), not a cancellation; the block raises SupervisorGaveUp."""
    outcomes: dict[str, str] = {}

    async def ask(where: str, ref: interactors.ActorRef) -> None:
        try:
            outcomes[where] = await ref.ask.block(1.0)
        except interactors.ActorCrashed as exc:
            outcomes[where] = exc.type_name
        except anyio.get_cancelled_exc_class():
            outcomes[where] = "cancelled"
            raise

    fragile = Supervisor(
        name="fragile",
        max_restarts=0,
        children=[ChildSpec(Recorder, os.devnull, name="r")],
    )

    async def system_body(users: anyio.abc.TaskGroup) -> None:
        async with interactors.ActorSystem() as system:
            sleepy = await system.spawn("sup_actors:Sleepy")
            root = await system.start(fragile)
            users.start_soon(ask, "user task", sleepy)
            async with anyio.create_task_group() as body:
                body.start_soon(ask, "body task", sleepy)
                await anyio.sleep(0.1)
                await testing.crash(root.child("r"))
                await anyio.sleep(10)  # cancelled when "fragile" gives up

    with anyio.fail_after(20):
        async with anyio.create_task_group() as users:
            with pytest.raises(interactors.SupervisorGaveUp, match="'fragile'"):
                await system_body(users)
    assert outcomes == {
        "user task": "interactors.SupervisorGaveUp",
        "body task": "interactors.SupervisorGaveUp",
    }


@pytest.mark.parametrize("strategy", ["rest_for_one", "one_for_all"])
@pytest.mark.parametrize("fresh", [False, True], ids=["in_place", "fresh_interpreter"])
async def test_a_nested_child_crashing_while_its_parent_restarts_the_subtree(
    strategy: str, fresh: bool, tmp_path: Path
) -> None:
    # c2's crash makes the parent restart the subtree g3, while g3 handles d1's own crash
    # at the same moment: one of the two restarts must win, never both (a second start of
    # a running actor left it "restarting" forever, or its interpreter undestroyable).
    log = tmp_path / "events"
    d1 = ChildSpec(Recorder, str(log), name="d1", fresh_interpreter=fresh)
    tree = Supervisor(
        name="g2",
        strategy=strategy,  # type: ignore[arg-type]
        max_restarts=1000,
        within=1.0,
        backoff=FAST,
        children=[
            ChildSpec(Recorder, str(log), name="c2"),
            Supervisor(name="g3", max_restarts=1000, within=1.0, backoff=FAST, children=[d1]),
        ],
    )
    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            g2 = await system.start(tree)
            for round_ in range(12):
                c2, d1_ref = g2.child("c2"), g2.supervisor("g3").child("d1")
                async with anyio.create_task_group() as tg:  # both crash at once
                    tg.start_soon(testing.crash, c2)
                    tg.start_soon(testing.crash, d1_ref)
                for ref in (c2, d1_ref):
                    with anyio.fail_after(10):
                        assert await ref.ask.add(round_) == round_  # a fresh instance each
            # (The parent's restart of the subtree may still be finishing: both settle.)
            with anyio.fail_after(10):
                while {a.state for a in system.statistics().actors} != {"running"}:  # noqa: ASYNC110
                    await anyio.sleep(0.01)
            for ref in (g2.child("c2"), g2.supervisor("g3").child("d1")):
                assert await ref.ask.add(1) in (1, 12)  # (12: the last round's instance)
            assert system.statistics().abandoned == ()


@pytest.mark.parametrize("fresh", [False, True], ids=["same_interpreter", "fresh_interpreter"])
async def test_a_stop_right_after_a_crash_wins_over_the_restart(fresh: bool) -> None:
    # The crash's answer comes first, and the caller stops the actor at once, before its
    # supervisor has handled the crash. The stop wins: no restart begins under it (which
    # left the stop waiting for a thread that had ended, then abandoning the new one),
    # and the restart that did not happen does not count toward the intensity.
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            for _ in range(12):  # (more than the root's 10 restarts in 5 s)
                ref = await system.spawn(
                    Recorder, os.devnull, on_error="restart", fresh_interpreter=fresh, shutdown=5
                )
                await testing.crash(ref)
                with anyio.fail_after(2):
                    await ref.stop()
                stats = ref.statistics()
                assert (stats.state, stats.restarts) == ("stopped", 0)
            assert system.statistics().events.get("restarted", 0) == 0
            assert system.statistics().abandoned == ()


@pytest.mark.parametrize("fresh", [False, True], ids=["same_interpreter", "fresh_interpreter"])
async def test_a_stop_during_the_restart_backoff_wins(
    fresh: bool, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The supervisor waits out its backoff before restarting the crashed child; the child's
    # ref stops it meanwhile. When the backoff ends, it is not restarted.
    log = tmp_path / "events"
    spec = Supervisor(
        backoff=Backoff(min=0.3, max=0.3, jitter=0.0),
        children=[ChildSpec(Recorder, str(log), name="r", fresh_interpreter=fresh)],
    )
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            r = (await system.start(spec)).child("r")
            await testing.crash(r)
            await anyio.sleep(0.1)  # (the supervisor is in its backoff)
            with anyio.fail_after(2):
                await r.stop()
            await anyio.sleep(0.4)  # (past it)
            stats = r.statistics()
            assert (stats.state, stats.restarts) == ("stopped", 0)
            assert system.statistics().events.get("restarted", 0) == 0
            assert events(log) == ["r:start"]  # (a crash runs no on_stop)
    assert "a supervision task failed" not in caplog.text


@pytest.mark.parametrize("isolation", ["isolated", "process"])
async def test_a_kill_during_a_restart_leaves_the_supervisor_free(
    isolation: str, tmp_path: Path
) -> None:
    # The root supervisor restarts an actor that exited (its __init__ takes 0.5 s now); the
    # actor's ref kills it meanwhile (stop(0)). That restart ends there: the supervisor
    # waited forever for the killed worker's start, and restarted no other actor again.
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            slow = await system.spawn(SlowToRestart, str(tmp_path / "started"), isolation=isolation)
            other = await system.spawn(Recorder, os.devnull)
            await testing.exit_actor(slow, 1)
            await anyio.sleep(0.2)  # (its restart is in __init__)
            with anyio.fail_after(2):
                await slow.stop(0)
            assert slow.statistics().state == "stopped"
            await testing.crash(other)
            await testing.wait_restarts(other, 1, timeout=5)
            assert await other.ask.get() == 0


async def test_a_sibling_that_exits_while_it_is_terminated_does_not_stall_the_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # one_for_all: a crashes, so its supervisor terminates b, whose handler is still
    # running and then ends its thread (SystemExit) without answering the TERMINATE. The
    # group restart goes on at once: it waited b's whole shutdown timeout, then logged
    # "did not stop within 5.0 s" and abandoned b's interpreter.
    log = tmp_path / "events"
    spec = Supervisor(
        strategy="one_for_all",
        backoff=FAST,
        children=[ChildSpec(Recorder, str(log), name=n, shutdown=5.0) for n in ("a", "b")],
    )
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            root = await system.start(spec)
            a, b = root.child("a"), root.child("b")
            await b.tell.exit_after(0.3, 1)
            await testing.crash(a)
            with anyio.fail_after(2):
                await testing.wait_restarts(b, 1, timeout=2)
                await testing.wait_restarts(a, 1, timeout=2)
            assert await b.ask.add(1) == 1
            assert system.statistics().abandoned == ()
    assert "did not stop within" not in caplog.text
