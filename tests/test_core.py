"""The core runtime as a user sees it: spawn, ask, tell, errors, lifecycle, statistics."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

import interactors
from actors import (
    BrokenInit,
    BrokenStart,
    Concurrent,
    Counter,
    Echo,
    Exiter,
    Failing,
    Lifecycle,
    Sleeper,
    SyncCounter,
    Where,
)

pytestmark = pytest.mark.anyio


async def test_quickstart_flow() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            counter = await system.spawn(Counter, 10)
            assert isinstance(counter, interactors.ActorRef)
            assert await counter.ask.add(5) == 15
            await counter.tell.add(1)
            counter.tell_nowait.add(1)
            assert await counter.ask.add(0) == 17
            assert await counter.ask.add_later(3, 0.01) == 20
            by_path = await system.spawn("actors:Counter", 1)
            assert await by_path.ask.add(1) == 2


async def test_dotted_path_and_kwargs() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            counter = await system.spawn("actors.SyncCounter", start=7)
            assert await counter.ask.get() == 7
            echo = await system.spawn(Echo)
            assert await echo.ask.echo(1, "a", b"b", None, 2.5, True) == (
                1,
                "a",
                b"b",
                None,
                2.5,
                True,
            )
            assert await echo.ask.echo([1, 2], key={"x": 1}) == (([1, 2],), {"key": {"x": 1}})


async def test_each_actor_has_its_own_interpreter_and_thread() -> None:
    import _interpreters

    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            a = await system.spawn(Echo)
            b = await system.spawn(Echo)
            (ia, ta), (ib, tb) = await a.ask.interpreter(), await b.ask.interpreter()
            main_id = int(_interpreters.get_current()[0])
            assert len({ia, ib, main_id}) == 3
            assert len({ta, tb, threading.get_ident()}) == 3
            assert await a.ask.pid() == os.getpid()
            stats = a.statistics()
            assert stats.interpreter_id == ia
            assert stats.isolation == "isolated"


async def test_handler_error_reaches_caller_and_actor_keeps_running() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            failing = await system.spawn(Failing)
            with pytest.raises(interactors.ActorError) as info:
                await failing.ask.fail("bad input")
            error = info.value
            assert error.type_name == "ValueError"
            assert error.remote_message == "bad input"
            assert "in fail" in error.remote_traceback
            assert "raise ValueError(message)" in error.remote_traceback
            assert isinstance(error.__cause__, ValueError)
            assert str(error.__cause__) == "bad input"
            assert await failing.ask.count() == 1
            stats = failing.statistics()
            assert stats.errors == 1
            assert stats.messages_handled == 2


async def test_undecodable_remote_exception_still_reported() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            failing = await system.spawn(Failing)
            with pytest.raises(interactors.ActorError, match="cannot be pickled") as info:
                await failing.ask.unpicklable_error()
            assert info.value.__cause__ is None
            assert "Local" in info.value.type_name
            with pytest.raises(interactors.ActorError) as bad:
                await failing.ask.bad_result()
            assert bad.value.type_name == "interactors.EncodeError"
            assert await failing.ask.count() == 0


async def test_unknown_method_is_a_typed_attribute_error() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            counter = await system.spawn(SyncCounter)
            with pytest.raises(interactors.UnknownMethodError, match="has no public method 'nope'"):
                await counter.ask.nope()
            with pytest.raises(AttributeError, match="it has: add, get"):
                counter.tell.nope(1)
            with pytest.raises(interactors.UnknownMethodError):
                counter.ask._private()
            assert await counter.ask.add(1) == 1


async def test_unpicklable_argument_raises_at_sender_and_sends_nothing() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            counter = await system.spawn(Echo)
            with pytest.raises(interactors.EncodeError, match="cannot pickle"):
                await counter.ask.echo(lambda: 1)
            with pytest.raises(interactors.EncodeError):
                counter.tell_nowait.echo(threading.Lock())
            with pytest.raises(interactors.EncodeError):
                await system.spawn(Echo, threading.Lock())
            assert counter.statistics().messages_handled == 0
            assert await counter.ask.echo(1) == (1,)


async def test_mailbox_full_and_backpressure() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            sleeper = await system.spawn(Sleeper, mailbox_size=2)
            assert sleeper.statistics().mailbox_size == 2
            sleeper.tell_nowait.sleep(0.3)
            await anyio.sleep(0.05)  # the actor is now busy with the first message
            sleeper.tell_nowait.sleep(0)
            sleeper.tell_nowait.sleep(0)
            assert sleeper.statistics().mailbox_depth == 2
            with pytest.raises(interactors.MailboxFull, match="mailbox_size"):
                sleeper.tell_nowait.sleep(0)
            # tell waits for room instead; nothing is lost.
            await sleeper.tell.sleep(0)
            assert await sleeper.ask.count() == 4


async def test_cancelled_ask_leaves_actor_unharmed() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            sleeper = await system.spawn(Sleeper)
            with anyio.move_on_after(0.05) as scope:
                await sleeper.ask.sleep(0.3)
            assert scope.cancelled_caught
            with pytest.raises(TimeoutError):
                with anyio.fail_after(0.05):
                    await sleeper.ask.sleep(0.2)
            # the cancelled messages still ran; their late replies were dropped
            assert await sleeper.ask.count() == 2
            timed = sleeper.options(timeout=0.05)
            with pytest.raises(TimeoutError):
                await timed.ask.sleep(0.2)
            assert await sleeper.ask.sleep(0) == 0


async def test_async_handlers_run_one_at_a_time_by_default() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            sleeper = await system.spawn(Sleeper)
            started = anyio.current_time()
            async with anyio.create_task_group() as tg:
                for _ in range(3):
                    tg.start_soon(sleeper.ask.asleep, 0.1)
            assert anyio.current_time() - started >= 0.29


async def test_max_concurrency_interleaves_async_handlers() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn(Concurrent)
            started = anyio.current_time()
            async with anyio.create_task_group() as tg:
                for _ in range(4):
                    tg.start_soon(actor.ask.work, 0.2)
            assert anyio.current_time() - started < 0.6
            assert await actor.ask.peak_seen() == 4
            limited = await system.spawn(Concurrent, max_concurrency=2)
            async with anyio.create_task_group() as tg:
                for _ in range(4):
                    tg.start_soon(limited.ask.work, 0.05)
            assert await limited.ask.peak_seen() == 2


async def test_lifecycle_hooks_and_stop(tmp_path: Path) -> None:
    log = tmp_path / "events.log"
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            first = await system.spawn(Lifecycle, str(log), name="first")
            second = await system.spawn(Lifecycle, str(log), name="second")
            third = await system.spawn(Lifecycle, str(log), name="third")
            assert await first.ask.ping() == "pong"
            await second.stop()
            assert not second.is_alive()
            assert await second.wait_stopped() == "normal"
            with pytest.raises(interactors.ActorStopped):
                await second.ask.ping()
            await second.stop()  # harmless
            assert system.lookup("second") is None
            assert system.lookup("third") == third
        events = log.read_text().split()
    # on_stop ran for everyone; system shutdown went in reverse spawn order
    assert events == [
        "first:start",
        "second:start",
        "third:start",
        "second:stop",
        "third:stop",
        "first:stop",
    ]


async def test_spawn_errors_are_typed_and_clear() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            with pytest.raises(
                interactors.SpawnError, match="cannot import no_such_module"
            ) as info:
                await system.spawn("no_such_module:Thing")
            assert "ModuleNotFoundError" in str(info.value)
            with pytest.raises(interactors.SpawnError, match=r"cannot import actors\.Nope"):
                await system.spawn("actors:Nope")
            with pytest.raises(interactors.SpawnError, match="bad actor path"):
                await system.spawn("not a path")
            with pytest.raises(interactors.SpawnError, match="broken on purpose") as init:
                await system.spawn(BrokenInit)
            assert init.value.remote_traceback is not None
            assert "RuntimeError: broken on purpose" in init.value.remote_traceback
            with pytest.raises(interactors.SpawnError, match="on_start"):
                await system.spawn(BrokenStart)

            class Local(interactors.Actor):
                pass

            with pytest.raises(interactors.SpawnError, match="inside a function"):
                await system.spawn(Local)
            # nothing above harmed the system
            counter = await system.spawn(SyncCounter)
            assert await counter.ask.add(2) == 2
            assert [ref.name for ref in system.actors()] == [counter.name]


async def test_module_failing_to_import_reports_its_traceback(tmp_path: Path) -> None:
    (tmp_path / "broken_mod.py").write_text("import interactors\nraise RuntimeError('at import')\n")
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        with anyio.fail_after(20):
            async with interactors.ActorSystem() as system:
                with pytest.raises(interactors.SpawnError, match="at import") as info:
                    await system.spawn("broken_mod:Anything")
                assert "broken_mod.py" in str(info.value)
    finally:
        sys.path.remove(str(tmp_path))


async def test_sys_path_added_at_run_time_reaches_actors(tmp_path: Path) -> None:
    package = tmp_path / "late_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "acts.py").write_text(
        "import interactors\n\nclass Hello(interactors.Actor):\n"
        "    def hi(self, who):\n        return f'hi {who}'\n"
    )
    import sys

    sys.path.append(str(tmp_path))
    try:
        with anyio.fail_after(20):
            async with interactors.ActorSystem() as system:
                hello = await system.spawn("late_pkg.acts:Hello")
                assert await hello.ask.hi("you") == "hi you"
    finally:
        sys.path.remove(str(tmp_path))


@pytest.mark.parametrize("spares", [0, 1])
async def test_actors_use_the_hosts_copy_of_the_package(tmp_path: Path, spares: int) -> None:
    """Another ``interactors`` first on sys.path (a stale checkout, say) does not reach the
    actors: they load the package from where the host's copy is."""
    shadow = tmp_path / "interactors"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ImportError('the shadowing copy was imported')\n")
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        with anyio.fail_after(20):
            async with interactors.ActorSystem(spare_interpreters=spares) as system:
                counter = await system.spawn(SyncCounter)
                assert await counter.ask.add(3) == 3
                where = await system.spawn(Where)
                assert await where.ask.package_file() == interactors.__file__
    finally:
        sys.path.remove(str(tmp_path))


_ZIP_MAIN = """\
import interactors
from greeter import Greeter

async def main():
    async with interactors.ActorSystem() as system:
        greeter = await system.spawn(Greeter)
        print(await greeter.ask.hi("zip"))

interactors.run(main)
"""
_ZIP_GREETER = """\
import interactors

class Greeter(interactors.Actor):
    def hi(self, who):
        return f"hi {who} from {interactors.__file__}"
"""


def test_a_zip_application_that_bundles_the_package_runs_its_actors(tmp_path: Path) -> None:
    """The package inside a zip application (``python -m zipapp``): actors load it from
    the zip, as the host did."""
    app = tmp_path / "app.pyz"
    package = Path(interactors.__file__).parent
    with zipfile.ZipFile(app, "w") as bundle:
        for path in package.rglob("*.py"):
            bundle.write(path, f"interactors/{path.relative_to(package)}")
        bundle.writestr("greeter.py", _ZIP_GREETER)
        bundle.writestr("__main__.py", _ZIP_MAIN)
    done = subprocess.run(
        [sys.executable, str(app)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"hi zip from {app}/interactors/__init__.py"


async def test_system_exit_in_handler_crashes_only_that_actor() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            exiter = await system.spawn(Exiter)
            other = await system.spawn(SyncCounter)
            with pytest.raises(interactors.ActorCrashed, match="SystemExit"):
                await exiter.ask.exit()
            # spawned actors are permanent children of the root supervisor: restarted
            assert await exiter.ask.ping() == "pong"
            assert exiter.statistics().restarts == 1
            temporary = await system.spawn(Exiter, restart="temporary")
            with pytest.raises(interactors.ActorCrashed, match="SystemExit"):
                await temporary.ask.exit()
            assert await temporary.wait_stopped() == "SystemExit: 3"
            assert temporary.statistics().state == "crashed"
            with pytest.raises(interactors.ActorStopped):
                await temporary.ask.ping()
            assert await other.ask.add(1) == 1


async def test_statistics() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            counter = await system.spawn(SyncCounter, name="stats")
            for _ in range(5):
                await counter.ask.add(1)
            stats = counter.statistics()
            assert stats.name == "stats"
            assert stats.state == "running"
            assert stats.messages_handled == 5
            assert stats.errors == 0
            assert stats.mailbox_depth == 0
            assert stats.busy_seconds is None
            system_stats = system.statistics()
            assert [a.name for a in system_stats.actors] == ["stats"]
            assert system_stats.interpreters_created >= 1
            assert system_stats.abandoned == ()


async def test_duplicate_names_and_closed_system() -> None:
    with anyio.fail_after(20):
        system = interactors.ActorSystem()
        with pytest.raises(interactors.SystemClosed, match="async with"):
            await system.spawn(SyncCounter)
        async with system:
            await system.spawn(SyncCounter, name="x")
            with pytest.raises(ValueError, match="already running"):
                await system.spawn(SyncCounter, name="x")
        with pytest.raises(interactors.SystemClosed):
            await system.spawn(SyncCounter)


async def test_user_exception_is_not_wrapped() -> None:
    async def body() -> None:
        async with interactors.ActorSystem() as system:
            await system.spawn(SyncCounter)
            raise KeyError("mine")

    with anyio.fail_after(20), pytest.raises(KeyError, match="mine"):
        await body()


async def test_large_buffers_travel_without_copies() -> None:
    data = bytearray(b"x" * (4 * 1024 * 1024))
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            echo = await system.spawn(Echo)
            assert await echo.ask.length(memoryview(data)) == len(data)
            assert await echo.ask.first_and_type(memoryview(data)) == (ord("x"), "memoryview")
            assert await echo.ask.first_and_type(pickle.PickleBuffer(data)) == (
                ord("x"),
                "memoryview",
            )
            assert await echo.ask.first_and_type(bytes(data)) == (ord("x"), "bytes")
            assert await echo.ask.first_and_type(data) == (ord("x"), "bytearray")


async def test_run_passes_a_system_to_main() -> None:
    # interactors.run() is sync; call it from a worker thread of this event loop.
    async def main(system: Any) -> int:
        counter = await system.spawn(SyncCounter, 41)
        return int(await counter.ask.add(1))

    def call_run() -> int:
        return int(interactors.run(main))

    with anyio.fail_after(20):
        assert await anyio.to_thread.run_sync(call_run) == 42


async def test_actors_lists_only_actors_that_take_messages() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            keeper = await system.spawn(Counter)
            failing = await system.spawn(Failing, on_error="stop")
            assert system.actors() == [keeper, failing]
            with pytest.raises(interactors.ActorCrashed):
                await failing.ask.fail("bye")
            # From the moment it takes no more messages (stopping, then stopped), it is
            # not listed, whatever the step its stop has reached.
            while failing.statistics().state != "stopped":
                assert failing.is_alive() == (failing in system.actors())
                await anyio.lowlevel.checkpoint()
            assert system.actors() == [keeper]
