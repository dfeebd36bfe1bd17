"""Process actors where they meet limits: full mailboxes, children that cannot start, and
handlers that hang."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import anyio
import pytest

import interactors

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
