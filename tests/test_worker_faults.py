"""The actor side under faults: replies that cannot be sent, errors that cannot be
described, values refused at the sender, stops that interrupt running handlers, abandoned
workers that must leave, and fault injection that outlives a worker."""

from __future__ import annotations

import array
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import anyio
import pytest

import interactors
from actors import Echo, Exiter, Forwarder, SyncCounter
from interactors import Backoff, ChildSpec, Supervisor, testing
from interactors._inside.loading import error_payload
from sup_actors import Recorder
from worker_fault_actors import (
    AsyncBusy,
    BadResults,
    BadStr,
    Busy,
    RefusesPickling,
    ThreadLeaver,
    Unsendable,
)

pytestmark = pytest.mark.anyio


def _nested(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


# -- replies that cannot be sent ------------------------------------------------------------


async def test_result_that_cannot_be_sent_fails_the_ask_and_the_actor_resumes() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn(BadResults)
            assert await actor.ask.huge_int() == 2**70  # past 64 bits: sent by the codec
            for method, why in (("deep", "nested too deeply"), ("refuses", "Unsendable")):
                with pytest.raises(interactors.ActorError) as info:
                    await getattr(actor.ask, method)()
                error = info.value
                assert type(error) is interactors.ActorError  # resumed, not crashed
                assert error.type_name == "interactors.EncodeError"
                assert f"the result of {method!r} cannot be sent back" in error.remote_message
                assert why in error.remote_message
                assert isinstance(error.__cause__, interactors.EncodeError)
            assert await actor.ask.count() == 3  # same instance: it carried on
            stats = actor.statistics()
            assert (stats.restarts, stats.errors) == (0, 2)


async def test_inner_ask_whose_result_cannot_be_sent_fails_with_the_reason() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            target = await system.spawn(BadResults)
            asker = await system.spawn(BadResults)
            answer = await asker.ask.ask_peer(target, "deep")
            kind, type_name, message = answer.split("|", 2)
            assert (kind, type_name) == ("ActorError", "interactors.EncodeError")
            assert "nested too deeply" in message
            answer = await asker.ask.ask_peer(target, "refuses")
            assert "Unsendable" in answer
            assert await target.ask.count() == 2


async def test_error_that_cannot_be_described_is_still_reported() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn(BadResults)
            with pytest.raises(interactors.ActorError) as info:
                await actor.ask.bad_error()
            assert info.value.type_name == "worker_fault_actors.BadStr"
            assert "str() of the exception raised RuntimeError" in info.value.remote_message
            assert await actor.ask.count() == 1


def test_error_payload_never_raises() -> None:
    class Unpicklable(Exception):
        def __reduce__(self) -> object:
            raise Unsendable("no")

    type_name, message, text, blob = error_payload(BadStr())
    assert type_name.endswith("BadStr")
    assert "RuntimeError" in message
    assert text
    type_name, message, text, blob = error_payload(Unpicklable("kept"))
    assert (message, blob) == ("kept", None)
    assert "Unpicklable" in text


async def test_failed_tell_is_logged_with_the_actor_name_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="interactors")
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn(BadResults, name="teller")
            await actor.tell.tell_fails("told to fail")
            assert await actor.ask.count() == 1
            # The notice is logged by the host's event loop: look every 10 ms.
            while not any("tell 'tell_fails'" in r.getMessage() for r in caplog.records):  # noqa: ASYNC110
                await anyio.sleep(0.01)
            assert actor.statistics().errors == 1
    record = next(r for r in caplog.records if "tell 'tell_fails'" in r.getMessage())
    assert record.levelno == logging.ERROR
    text = record.getMessage()
    assert "'teller'" in text
    assert "ValueError: told to fail" in text
    assert "Remote traceback" in text


# -- values refused at the sender -----------------------------------------------------------


async def test_every_value_that_cannot_be_sent_is_an_encode_error_at_the_sender() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            echo = await system.spawn(Echo)
            assert await echo.ask.echo(2**64, -(2**70)) == (2**64, -(2**70))
            for bad in (_nested(20_000), RefusesPickling()):
                with pytest.raises(interactors.EncodeError):
                    await echo.ask.echo(bad)
                with pytest.raises(interactors.EncodeError):
                    echo.tell_nowait.echo(bad)
            with pytest.raises(interactors.EncodeError, match="nested too deeply"):
                await system.spawn(Echo, _nested(20_000))
            assert echo.statistics().messages_handled == 1  # nothing else was sent


async def test_memoryviews_travel_by_one_rule_keeping_format_and_shape() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn(BadResults)
            raw = memoryview(b"abc")
            assert await actor.ask.describe(raw) == ("B", (3,), [97, 98, 99])
            assert await actor.ask.describe(view=raw) == ("B", (3,), [97, 98, 99])
            typed = memoryview(array.array("l", range(6))).cast("B").cast("l", (2, 3))
            assert await actor.ask.describe(typed) == ("l", (2, 3), typed.tolist())
            # One rule: a memoryview is an argument of its own, never inside a container.
            for nested in ((raw,), [raw], {"k": raw}, [[raw]]):
                with pytest.raises(interactors.EncodeError, match="argument of its own"):
                    await actor.ask.describe(nested)
            with pytest.raises(interactors.EncodeError, match="non-contiguous"):
                await actor.ask.describe(memoryview(b"abcdef")[::2])
            with pytest.raises(interactors.ActorError, match="argument of its own"):
                await actor.ask.nested_view()  # the same rule for results
            assert await actor.ask.count() == 0


async def test_inner_ask_arguments_follow_the_same_rules() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            counter = await system.spawn(SyncCounter)
            forwarder = await system.spawn(Forwarder, counter)
            assert await forwarder.ask.forward_add(2**70) == 2**70  # was an OverflowError


# -- stopping actors whose handlers run -----------------------------------------------------


async def test_stop_interrupts_running_handlers_and_runs_on_stop(tmp_path: Path) -> None:
    log = tmp_path / "stops"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actors = [await system.spawn(Busy, str(log)) for _ in range(2)]
            asks: list[BaseException] = []

            async def ask_spin(ref: interactors.ActorRef) -> None:
                try:
                    await ref.ask.spin()
                except interactors.ActorError as error:
                    asks.append(error)

            async with anyio.create_task_group() as group:
                for ref in actors:
                    group.start_soon(ask_spin, ref)
                await anyio.sleep(0.2)
                started = time.monotonic()
                async with anyio.create_task_group() as stoppers:
                    for ref in actors:
                        stoppers.start_soon(ref.stop, 4.0)
                elapsed = time.monotonic() - started
            assert elapsed < 3.0  # interrupted well before the 4 s timeout
            assert [await ref._cell.wait_stopped() for ref in actors] == ["normal", "normal"]
            assert len(log.read_text().splitlines()) == 2  # both on_stop ran
            assert len(asks) == 2
            for error in asks:
                assert isinstance(error, interactors.ActorCrashed)
                assert "interrupted: the actor is stopping" in str(error)
            assert system.statistics().abandoned == ()


@pytest.mark.parametrize("method", ["wait_forever", "spin"])
async def test_stop_interrupts_async_handlers(tmp_path: Path, method: str) -> None:
    log = tmp_path / "stops"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn(AsyncBusy, str(log))
            await getattr(actor.tell, method)()
            await anyio.sleep(0.2)
            started = time.monotonic()
            await actor.stop(2.0)
            assert time.monotonic() - started < 1.5
            assert await actor._cell.wait_stopped() == "normal"
            assert log.read_text() == "on_stop\n"
            assert system.statistics().abandoned == ()


async def test_supervisor_restart_interrupts_a_running_handler(tmp_path: Path) -> None:
    spec = Supervisor(
        strategy="one_for_all",
        backoff=Backoff(min=0.0, max=0.0, jitter=0.0),
        children=[ChildSpec(Busy, name="busy", shutdown=1.0), ChildSpec(Exiter, name="exiter")],
    )
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            root = await system.start(spec)
            busy = root.child("busy")
            await busy.tell.spin()
            await anyio.sleep(0.1)
            with pytest.raises(interactors.ActorCrashed):
                await root.child("exiter").ask.exit()
            await testing.wait_restarts(busy, 1)
            assert await busy.ask.ping() == "pong"
            assert system.statistics().abandoned == ()


def _actor_threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"interactors-actor-{name}"]


async def test_abandoned_worker_leaves_once_its_blocking_call_returns(tmp_path: Path) -> None:
    log = tmp_path / "stops"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn(Busy, str(log), name="stuck")
            await actor.tell.block(1.0)
            await anyio.sleep(0.1)
            await actor.stop(0.3)
            assert await actor._cell.wait_stopped() == "killed"
            assert system.statistics().abandoned == ("stuck",)
            assert _actor_threads("stuck")
            deadline = time.monotonic() + 5
            while _actor_threads("stuck") and time.monotonic() < deadline:  # noqa: ASYNC110
                await anyio.sleep(0.02)
            assert not _actor_threads("stuck"), "the abandoned worker never left"
            assert not log.exists()  # killed: on_stop did not run


async def test_stop_with_no_time_kills_without_on_stop(tmp_path: Path) -> None:
    log = tmp_path / "stops"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            for _ in range(5):
                actor = await system.spawn(Busy, str(log))
                assert await actor.ask.ping() == "pong"
                await actor.stop(0)
                assert await actor._cell.wait_stopped() == "killed"
            deadline = time.monotonic() + 5
            while any(t.name.startswith("interactors-actor-Busy") for t in threading.enumerate()):
                assert time.monotonic() < deadline, "a killed worker never left"
                await anyio.sleep(0.02)
            assert not log.exists()


# -- fault injection and messages -----------------------------------------------------------


async def test_fail_next_start_survives_an_exit(tmp_path: Path) -> None:
    log = tmp_path / "events"
    spec = Supervisor(
        max_restarts=5,
        within=10,
        backoff=Backoff(min=0.0, max=0.0, jitter=0.0),
        children=[ChildSpec(Recorder, str(log), name="r")],
    )
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            root = await system.start(spec)
            child = root.child("r")
            await testing.fail_next_start(child, times=1)
            await testing.exit_actor(child, code=1)  # its worker ends: a new one starts
            await testing.wait_restarts(child, 1)
            assert system.statistics().events["crashed"] >= 1
            starts = log.read_text().split().count("r:start")
            # The first restart failed in __init__ (before on_start): two on_start in all.
            assert starts == 2


async def test_exit_in_a_handler_names_the_type_once() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn(Echo)
            error = await testing.exit_actor(actor, code=4)
            text = str(error)
            assert "ActorCrashed: ActorCrashed" not in repr(error) + text
            assert "SystemExit: 4" in text


async def test_msgspec_codec_in_an_isolated_interpreter_blames_the_codec() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            with pytest.raises(interactors.IsolationError) as info:
                await system.spawn(Echo, codec="msgspec", isolation="isolated")
            text = str(info.value)
            assert "codec 'msgspec' cannot load in an own-GIL" in text
            assert 'codec="pickle"' in text
            assert 'isolation="shared_gil"' in text


# -- threads an actor leaves running ------------------------------------------------------


async def test_a_thread_an_actor_left_running_holds_up_no_other_spawn(tmp_path: Path) -> None:
    done = tmp_path / "done"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            leaver = await system.spawn(ThreadLeaver)
            await leaver.ask.leave_thread(2.0, str(done))
            await leaver.stop()  # its interpreter waits for the thread before it goes
            for _ in range(3):
                echo = await system.spawn(Echo)
                assert await echo.ask.echo(1) == (1,)
            assert not done.exists()  # the spawns did not wait for that thread
    assert done.read_text() == "done"  # and the system closed once it ended (no leak)


_ENDLESS_THREAD = """
import anyio, interactors
from worker_fault_actors import ThreadLeaver

async def main() -> None:
    async with interactors.ActorSystem() as system:
        leaver = await system.spawn(ThreadLeaver, name="leaver")
        await leaver.ask.leave_thread(3600, "/nonexistent/never")
        await leaver.stop()
    print("closed", flush=True)

if __name__ == "__main__":
    anyio.run(main)
"""


@pytest.mark.timeout(60)
def test_a_thread_that_never_ends_does_not_hang_the_exit(tmp_path: Path) -> None:
    script = tmp_path / "endless.py"
    script.write_text(_ENDLESS_THREAD)
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert result.stdout == "closed\n"  # the system closed after a bounded wait
    assert result.returncode == 1, result.stderr
    assert "threads its actor started are still running: napper" in result.stderr
    assert "stop them in the actor's on_stop" in result.stderr
    assert result.stderr.rstrip().endswith("leaving without waiting for their threads")


_SLOW_START_AND_STOP = """\
import time


class SlowStartAndStop:
    def __init__(self, path: str) -> None:
        self.path = path

    def on_start(self) -> None:
        time.sleep(0.4)

    def on_stop(self) -> None:
        time.sleep(0.8)
        with open(self.path, "w") as done:
            done.write("stopped")
"""


async def test_a_cancelled_spawn_gives_the_half_started_actor_its_shutdown_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-C while an app is still spawning: the actor being started is stopped as any
    # other (its on_stop runs to the end within shutdown_timeout), never abandoned.
    (tmp_path / "slow_start_actor.py").write_text(_SLOW_START_AND_STOP)
    monkeypatch.syspath_prepend(str(tmp_path))
    marker = tmp_path / "stopped"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            with anyio.move_on_after(0.2) as scope:
                await system.spawn("slow_start_actor:SlowStartAndStop", str(marker))
            assert scope.cancelled_caught
            assert marker.read_text() == "stopped"
            assert system.statistics().abandoned == ()
            assert system.statistics().actors == ()
