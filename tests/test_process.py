"""isolation="process": actors in their own OS process behind the usual ActorRef API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import anyio
import pytest

import interactors
from interactors import Backoff, ChildSpec, Supervisor, testing

pytestmark = pytest.mark.anyio

FAST = Backoff(min=0.0, max=0.0, jitter=0.0)
TESTS = Path(__file__).parent


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


async def test_process_actor_answers_asks_and_tells() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sync = await system.spawn("actors:SyncCounter", 5, isolation="process")
            loop = await system.spawn("actors:Counter", 1, isolation="process")
            assert await sync.ask.add(3) == 8
            await sync.tell.add(1)
            sync.tell_nowait.add(1)
            assert await sync.ask.get() == 10
            assert await loop.ask.add_later(2, 0.01) == 3  # an async handler
            stats = sync.statistics()
            assert stats.isolation == "process"
            assert stats.process_id not in (None, os.getpid())
            assert stats.process_id != loop.statistics().process_id
            assert stats.messages_handled == 4
            assert stats.interpreter_id is None
            echo = await system.spawn("actors:Echo", isolation="process")
            assert await echo.ask.pid() == echo.statistics().process_id
            assert await echo.ask.echo({"k": [1, (2, b"x")]}) == ({"k": [1, (2, b"x")]},)
    # every child is gone once the block is left (the leak fixture checks it too)


async def test_handler_errors_and_unknown_methods_behave_as_in_interpreters() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            failing = await system.spawn("actors:Failing", isolation="process", on_error="resume")
            with pytest.raises(interactors.ActorError, match="boom") as info:
                await failing.ask.fail("boom")
            assert "boom" in info.value.remote_traceback
            assert await failing.ask.count() == 1
            with pytest.raises(interactors.UnknownMethodError):
                await failing.ask.nope()


async def test_memoryviews_arrive_as_memoryviews_of_any_size_as_in_interpreters() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            for isolation in ("isolated", "process"):
                journal = await system.spawn("process_actors:Journal", isolation=isolation)
                for size in (10, 64 * 1024 - 1, 200_000):  # marshalled, then out of band
                    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
                    back = await journal.ask.echo(memoryview(data))
                    assert type(back) is memoryview, (isolation, size)
                    assert back == data
                    assert type(await journal.ask.echo(data)) is bytes
                await journal.stop()


async def test_lifecycle_hooks_run_in_the_child(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn("actors:Lifecycle", str(log), isolation="process")
            assert await actor.ask.ping() == "pong"
            await actor.stop()
            assert await actor.wait_stopped() == "normal"
    assert log.read_text().split() == ["Lifecycle-1:start", "Lifecycle-1:stop"]


@pytest.mark.parametrize("kind", ["segfault", "hard_exit", "kill_self", "fail"])
async def test_crashes_are_detected_and_restarted(kind: str) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn(
                "process_actors:Crasher", isolation="process", on_error="restart"
            )
            await actor.ask.add(5)
            first = await actor.ask.pid()
            started = time.monotonic()
            args = (3,) if kind == "hard_exit" else ()
            with pytest.raises(interactors.ActorCrashed) as info:
                await getattr(actor.ask, kind)(*args)
            await testing.wait_restarts(actor, 1)
            assert time.monotonic() - started < 5
            assert await actor.ask.add(1) == 1  # a fresh instance
            second = await actor.ask.pid()
            if kind == "fail":  # an exception restarts in place, in the same process
                assert second == first
                assert "handler failed" in str(info.value)
            else:
                assert second != first
                assert not alive(first)
                expected = {
                    "segfault": "SIGSEGV",
                    "hard_exit": "exited with code 3",
                    "kill_self": "SIGKILL",
                }[kind]
                assert expected in str(info.value)
            assert system.statistics().events["crashed"] == 1


async def test_a_child_killed_from_outside_is_replaced() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn("process_actors:Crasher", isolation="process")
            pid = await actor.ask.pid()
            os.kill(pid, signal.SIGKILL)
            await testing.wait_restarts(actor, 1)
            assert await actor.ask.pid() != pid
            assert actor.statistics().restarts == 1


async def test_testing_faults_work_on_process_actors() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn(
                "actors:SyncCounter", isolation="process", on_error="restart"
            )
            pid = actor.statistics().process_id
            error = await testing.crash(actor)
            assert isinstance(error, interactors.ActorCrashed)
            await testing.wait_restarts(actor, 1)
            assert actor.statistics().process_id == pid  # restarted in place
            await testing.exit_actor(actor, code=2)
            await testing.wait_restarts(actor, 2)
            assert actor.statistics().process_id != pid
            assert await actor.ask.add(2) == 2


@pytest.mark.parametrize("strategy", ["one_for_one", "one_for_all", "rest_for_one"])
async def test_every_strategy_with_process_children(strategy: str, tmp_path: Path) -> None:
    log = tmp_path / "log"
    spec = Supervisor(
        strategy=strategy,  # type: ignore[arg-type]
        max_restarts=5,
        within=5.0,
        backoff=FAST,
        children=[
            ChildSpec("sup_actors:Recorder", str(log), name="a"),
            ChildSpec("sup_actors:Recorder", str(log), name="b", isolation="process"),
            ChildSpec("sup_actors:Recorder", str(log), name="c", isolation="process"),
        ],
    )
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            root = await system.start(spec)
            a, b, c = (root.child(n) for n in "abc")
            for ref in (a, b, c):
                await ref.ask.add(1)
            pid = b.statistics().process_id
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            await testing.wait_restarts(b, 1)
            restarted = {
                "one_for_one": ["b:start"],
                "one_for_all": ["c:stop", "a:stop", "a:start", "b:start", "c:start"],
                "rest_for_one": ["c:stop", "b:start", "c:start"],
            }[strategy]
            for ref in (a, b, c):  # wait for every restart the strategy makes
                if f"{ref.name}:start" in restarted:
                    await testing.wait_restarts(ref, 1)
            assert await b.ask.get() == 0
            assert await a.ask.get() == (0 if strategy == "one_for_all" else 1)
            assert await c.ask.get() == (1 if strategy == "one_for_one" else 0)
            lines = log.read_text().split()
            assert lines[:3] == ["a:start", "b:start", "c:start"]
            assert lines[3:] == restarted


async def test_a_hung_process_actor_is_killed_and_replaced() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem(shutdown_timeout=0.3) as system:
            actor = await system.spawn(
                "process_actors:Crasher", isolation="process", handler_timeout=0.2, shutdown=0.3
            )
            pid = await actor.ask.pid()
            with pytest.raises(interactors.ActorCrashed, match="hung"):
                # blocked in C, deaf to SIGINT: nothing but a kill can end it
                await actor.ask.sleep_ignoring_sigint(60)
            await testing.wait_restarts(actor, 1)
            assert await actor.ask.pid() != pid
            assert not alive(pid)
            assert system.statistics().abandoned == ()  # killed, not left running


def test_no_child_survives_the_host_killed_with_sigkill() -> None:
    code = textwrap.dedent(
        """
        import anyio, interactors

        async def main():
            async with interactors.ActorSystem() as system:
                refs = [
                    await system.spawn("process_actors:Crasher", isolation="process")
                    for _ in range(2)
                ]
                print(*[await ref.ask.pid() for ref in refs], flush=True)
                await refs[0].tell.sleep(60)  # one busy, one idle
                await anyio.sleep(60)

        anyio.run(main)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ["PYTHONPATH"]])}
    host = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert host.stdout is not None
        pids = [int(pid) for pid in host.stdout.readline().split()]
        assert len(pids) == 2
        assert all(alive(pid) for pid in pids)
        host.kill()
        host.wait(10)
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not [pid for pid in pids if alive(pid)]
    finally:
        host.kill()
        host.wait(10)
        if host.stdout is not None:
            host.stdout.close()


@pytest.mark.parametrize(
    ("forwarder", "target"),
    [("process", "isolated"), ("isolated", "process"), ("process", "process")],
)
async def test_refs_cross_between_process_and_interpreter_actors(
    forwarder: str, target: str
) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            counter = await system.spawn("actors:Counter", isolation=target)
            fwd = await system.spawn("actors:Forwarder", counter, isolation=forwarder)
            assert await fwd.ask.forward_add(2) == 2  # a blocking inner ask
            assert await fwd.ask.forward_add_async(3) == 5  # an awaited inner ask
            await fwd.ask.forward_tell(4)
            assert await fwd.ask.ping_many(20) == 20
            assert await counter.ask.get() == 29
            assert await fwd.ask.target_ref() == counter  # a ref comes back to the host
            mine = await fwd.ask.my_ref()  # the actor's own ref, as the host sees it
            assert mine == fwd
            await counter.ask.add(-29)
            back = await system.spawn("actors:Forwarder", fwd, isolation=target)
            await fwd.ask.set_target(counter)
            # the forwarder's own ref, handed to an actor of the other kind, reaches it
            assert await back.ask.target_ref() == fwd
            with pytest.raises(interactors.ActorError, match="UnknownMethodError"):
                await fwd.ask.call_unknown()


async def test_an_inner_ask_to_a_process_actor_that_dies_fails_fast() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            crasher = await system.spawn("process_actors:Crasher", isolation="process")
            caller = await system.spawn("process_actors:Caller")  # an interpreter actor
            pid = await crasher.ask.pid()
            outcome: list[str] = []

            async def call() -> None:
                outcome.append(await caller.ask.call_sleep(crasher, 30))

            started = time.monotonic()
            async with anyio.create_task_group() as tg:
                tg.start_soon(call)
                while not crasher.statistics().busy_seconds:  # noqa: ASYNC110
                    await anyio.sleep(0.01)
                os.kill(pid, signal.SIGKILL)
            assert time.monotonic() - started < 10
            assert outcome[0].startswith("crashed: ")
            assert "SIGKILL" in outcome[0]
            await testing.wait_restarts(crasher, 1)
            assert await crasher.ask.add(1) == 1


def test_ctrl_c_stops_busy_process_actors_and_leaves_no_child(tmp_path: Path) -> None:
    events = tmp_path / "events.log"
    events.touch()
    env = {**os.environ, "CLI_APPS_LOG": str(events)}
    app = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "interactors",
            "run",
            "--app-dir",
            str(TESTS / "apps"),
            "--shutdown-timeout",
            "1",
            "process_app:main",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert app.stdout is not None
        assert app.stdout.readline() == "ready\n"
        time.sleep(0.3)  # both actors are busy now
        lines = events.read_text().split()
        pids = [int(line.rpartition(":")[2]) for line in lines if ":start:" in line]
        assert len(pids) == 2
        assert all(alive(pid) for pid in pids)
        started = time.monotonic()
        app.send_signal(signal.SIGINT)
        _out, err = app.communicate(timeout=30)
    finally:
        app.kill()
        app.wait()
    assert app.returncode == 0, err
    assert time.monotonic() - started < 10
    assert "received SIGINT" in err
    assert "churner:stop" in events.read_text().split()  # on_stop ran between messages
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not [pid for pid in pids if alive(pid)]


_LIBRARY = """
import os, time
with open(os.path.join(os.path.dirname(__file__), "imports.log"), "a") as log:
    log.write(f"{__name__} {os.getpid()} {time.time()}\\n")
"""


def _imports(directory: Path) -> list[tuple[str, int, float]]:
    log = directory / "imports.log"
    lines = log.read_text().split() if log.exists() else []
    return [(lines[i], int(lines[i + 1]), float(lines[i + 2])) for i in range(0, len(lines), 3)]


async def test_a_spare_process_imports_what_the_actors_needed_but_not_their_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "heavy_library.py").write_text(_LIBRARY)
    (tmp_path / "spare_actor.py").write_text(
        _LIBRARY + "import heavy_library\n\nclass Worker:\n"
        "    def pid(self) -> int:\n        return os.getpid()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))  # added at run time: children see it too
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn("spare_actor:Worker", isolation="process")
            pid = await actor.ask.pid()
            while not [p for _name, p, _at in _imports(tmp_path) if p != pid]:  # noqa: ASYNC110
                await anyio.sleep(0.05)  # the next spare learnt what the actor imported
            [(_, spare, _)] = [entry for entry in _imports(tmp_path) if entry[1] != pid]
            killed_at = time.time()
            os.kill(pid, signal.SIGKILL)
            await testing.wait_restarts(actor, 1)
            assert await actor.ask.pid() == spare
    in_spare = {name: at for name, p, at in _imports(tmp_path) if p == spare}
    assert in_spare["heavy_library"] < killed_at  # imported ahead, while the spare waited
    assert in_spare["spare_actor"] > killed_at  # the actor's own module: only at its start
