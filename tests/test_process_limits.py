"""Process actors where they meet limits: full mailboxes, children that cannot start, and
handlers that hang."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import anyio
import pytest

import interactors
from interactors import testing

pytestmark = pytest.mark.anyio

ISOLATIONS = ["isolated", "process"]


async def _wait_busy(ref: interactors.ActorRef) -> None:
    while not ref.statistics().busy_seconds:  # noqa: ASYNC110
        await anyio.sleep(0.01)


@pytest.mark.parametrize("sender", ISOLATIONS)
@pytest.mark.parametrize("target", ISOLATIONS)
async def test_tell_nowait_from_inside_to_a_full_mailbox_raises_mailbox_full(
    sender: str, target: str
) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sleeper = await system.spawn("actors:Sleeper", mailbox_size=2, isolation=target)
            flooder = await system.spawn("process_actors:Flooder", sleeper, isolation=sender)
            sleeper.tell_nowait.sleep(1.0)
            await _wait_busy(sleeper)
            sent, error, message = await flooder.ask.flood(20)
            assert error == "MailboxFull"
            assert "mailbox of actor 'Sleeper-1' is full" in message
            # A process actor's bound also holds what its process was handed already.
            assert sent == 2 if target == "isolated" else 2 <= sent <= 3
            assert await sleeper.ask.count() == 1 + sent  # nothing was dropped
            await sleeper.stop()
            assert await flooder.ask.flood(1) == (0, "ActorStopped", _stopped("Sleeper-1"))


async def test_a_tell_from_a_process_actor_to_a_stopped_actor_is_never_silent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # An interpreter actor's tell to a stopped actor raises ActorStopped at once. A process
    # actor's tell does not wait for the host (a round trip per tell): the host logs the
    # one it drops, and from then on the sender's messages there raise ActorStopped.
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            counter = await system.spawn("actors:Counter", name="gone")
            forwarder = await system.spawn(
                "actors:Forwarder", counter, name="fwd", isolation="process"
            )
            await forwarder.ask.forward_tell(1)
            assert await counter.ask.get() == 1
            await counter.stop()
            await forwarder.ask.forward_tell(2)  # handed to the host, which drops it
            while not _dropped(caplog):  # noqa: ASYNC110
                await anyio.sleep(0.01)

            handed = 1  # the tells the child handed to the host after the stop

            async def tell_until_refused() -> None:
                nonlocal handed
                for _ in range(100):  # the host's word reaches the child a moment later,
                    await forwarder.ask.forward_tell(3)  # so a tell may still reach it
                    handed += 1
                    await anyio.sleep(0.01)

            with pytest.raises(interactors.ActorError, match="ActorStopped") as info:
                await tell_until_refused()
            assert _stopped("gone") in str(info.value)
            # Every tell the host dropped was logged, once each, and no other.
            while len(_dropped(caplog)) < handed:  # noqa: ASYNC110
                await anyio.sleep(0.01)
    message = "actor 'fwd': a tell (add) was dropped: the actor it went to has stopped"
    assert _dropped(caplog) == [message] * handed


def _dropped(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "was dropped" in r.getMessage()]


def _stopped(name: str) -> str:
    return f"actor {name!r} has stopped; it takes no more messages"


async def test_a_process_actors_bounded_mailbox_fills_up_while_it_is_busy() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sleeper = await system.spawn("actors:Sleeper", mailbox_size=3, isolation="process")
            sleeper.tell_nowait.sleep(0.5)
            await _wait_busy(sleeper)
            accepted = 0
            while True:
                try:
                    sleeper.tell_nowait.sleep(0)
                except interactors.MailboxFull:
                    break
                accepted += 1
                await anyio.sleep(0.005)  # its bridge had every chance to forward
            assert 3 <= accepted <= 5  # the mailbox, and what its process holds already
            started = time.monotonic()
            await sleeper.tell.sleep(0)  # tell waits for room; nothing is lost
            assert time.monotonic() - started > 0.2
            assert await sleeper.ask.count() == accepted + 2


BROKEN_MODULES = {
    "needs_a_missing_package": "import a_package_that_is_not_installed\n",
    "exits_at_import": "import os\nos._exit(7)\n",
    "crashes_in_init": (
        "import ctypes\nimport interactors\n\n\n"
        "class Actor(interactors.Actor):\n"
        "    def __init__(self):\n"
        "        ctypes.string_at(0)\n"
    ),
}


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (
            "needs_a_missing_package",
            "cannot import needs_a_missing_package.Actor: ModuleNotFoundError: No module "
            "named 'a_package_that_is_not_installed'. Check that the module is importable",
        ),
        (
            "exits_at_import",
            "its process ended before the actor started: ProcessExit: the actor's process "
            "exited with code 7. What the process wrote to stderr says why",
        ),
        (
            "crashes_in_init",
            "its process ended before the actor started: Killed: the actor's process was "
            "killed by SIGSEGV.",
        ),
    ],
)
async def test_a_process_actor_that_cannot_start_raises_spawn_error(
    module: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / f"{module}.py").write_text(BROKEN_MODULES[module])
    monkeypatch.syspath_prepend(str(tmp_path))
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            with pytest.raises(interactors.SpawnError) as info:
                await system.spawn(f"{module}:Actor", isolation="process")
            assert f"cannot start actor 'Actor-1' ({module}:Actor): {expected}" in str(info.value)
            assert system.statistics().actors == ()
            echo = await system.spawn("actors:Echo", isolation="process")  # all still works
            assert await echo.ask.echo(1) == (1,)


async def test_a_process_that_cannot_be_started_raises_spawn_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = str(tmp_path / "no-python-here")
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            with monkeypatch.context() as patch:
                patch.setattr(sys, "executable", missing)
                with pytest.raises(interactors.SpawnError) as info:
                    await system.spawn("actors:Echo", isolation="process")
            assert str(info.value) == (
                "cannot start actor 'Echo-1' (actors:Echo): its process could not be started: "
                f"FileNotFoundError: [Errno 2] No such file or directory: {missing!r}. Check "
                f"that {missing} exists and runs, and that more processes can start here "
                "(memory, ulimit -u, open files)."
            )
            assert isinstance(info.value.__cause__, FileNotFoundError)
            echo = await system.spawn("actors:Echo", isolation="process")
            assert await echo.ask.echo(2) == (2,)


@pytest.mark.parametrize("method", ["spin", "sleep"])
async def test_a_process_handler_past_its_timeout_is_interrupted_and_serves_on(
    method: str,
) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn(
                "process_actors:Crasher", isolation="process", handler_timeout=0.3, shutdown=5
            )
            pid = await actor.ask.pid()
            await actor.ask.add(5)
            started = time.monotonic()
            with pytest.raises(interactors.ActorCrashed) as info:
                await getattr(actor.ask, method)(30)  # a Python loop, or blocked in C
            assert time.monotonic() - started < 2  # interrupted, not killed at 5.3 s
            assert info.value.type_name == "interactors.HandlerTimeout"
            assert f"handler {method!r} ran longer than handler_timeout=0.3 s" in str(info.value)
            await testing.wait_restarts(actor, 1)  # in place, as an interpreter actor is
            assert await actor.ask.pid() == pid
            assert await actor.ask.add(1) == 1
            assert "hung" not in system.statistics().events


async def test_stopping_a_process_actor_interrupts_a_call_blocked_in_c(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            napper = await system.spawn(
                "process_actors:Napper", str(log), isolation="process", shutdown=2
            )
            napper.tell_nowait.nap(60)
            await _wait_busy(napper)
            started = time.monotonic()
            await napper.stop()
            assert time.monotonic() - started < 1.5  # interrupted at a quarter of 2 s
            assert await napper.wait_stopped() == "normal"
    assert log.read_text() == "stop\n"  # on_stop ran: the process was not killed
