"""Apps that the launcher tests run with ``interactors run``. Stdlib and interactors only.

Actors write their lifecycle events to the file named by ``$CLI_APPS_LOG`` so that a test
can see that ``on_stop`` ran after the process is gone; the apps that wait for a signal
print ``ready`` once their actors are up.
"""

from __future__ import annotations

import os
import time
from typing import Any

import anyio

import interactors


def _log(event: str) -> None:
    with open(os.environ["CLI_APPS_LOG"], "a", encoding="utf-8") as f:
        f.write(event + "\n")


class Greeter(interactors.Actor):
    def greet(self, who: str) -> str:
        return f"hello, {who}"


class Recorder(interactors.Actor):
    """Records on_start/on_stop; on_stop can be made slow (blocked in C code)."""

    def __init__(self, stop_delay: float = 0.0) -> None:
        self.stop_delay = stop_delay

    def on_start(self) -> None:
        _log(f"{self.name}:start")

    def on_stop(self) -> None:
        _log(f"{self.name}:stopping")
        time.sleep(self.stop_delay)
        _log(f"{self.name}:stop")

    def crash(self) -> None:
        raise RuntimeError("crash on request")


async def main(system: interactors.ActorSystem) -> None:
    greeter = await system.spawn(Greeter)
    print(await greeter.ask.greet("launcher"))


async def interrupts(system: interactors.ActorSystem) -> None:
    await system.spawn(Greeter)
    raise KeyboardInterrupt


async def main_without_system() -> None:
    async with interactors.ActorSystem() as system:
        greeter = await system.spawn(Greeter)
        print(await greeter.ask.greet("own system"))


async def failing(system: interactors.ActorSystem) -> None:
    await system.spawn(Greeter)
    raise ValueError("broken on purpose")


async def wait_for_signal(system: interactors.ActorSystem) -> None:
    await system.spawn(Recorder, name="first")
    await system.spawn(Recorder, name="second")
    print("ready", flush=True)
    await anyio.sleep_forever()


async def slow_to_stop(system: interactors.ActorSystem) -> None:
    await system.spawn(Recorder, float(os.environ.get("STOP_DELAY", "30")), name="slow")
    print("ready", flush=True)
    await anyio.sleep_forever()


async def gives_up(system: interactors.ActorSystem) -> None:
    """A supervisor allowed one restart gets two crashes: the root gives up (exit 3)."""
    tree = interactors.Supervisor(
        name="fragile",
        max_restarts=1,
        within=60.0,
        children=[interactors.ChildSpec(Recorder, name="recorder", on_error="restart")],
    )
    supervisor = await system.start(tree)
    recorder = supervisor.child("recorder")
    for _ in range(10):
        try:
            await recorder.ask.crash()
        except interactors.ActorError:
            await anyio.sleep(0.05)
    raise AssertionError("the supervisor never gave up")


restart_attempts = 0  # module state: it survives in-place restarts


class SlowToFailRestart(interactors.Actor):
    """Crashes on request; every restart spends 0.3 s in ``__init__``, then fails."""

    on_error = "restart"

    def __init__(self) -> None:
        global restart_attempts
        restart_attempts += 1
        if restart_attempts > 1:
            time.sleep(0.3)
            raise RuntimeError("cannot start again")

    def crash(self) -> None:
        raise RuntimeError("crash on request")


async def gives_up_while_returning(system: interactors.ActorSystem) -> None:
    """The app returns while its supervisor's last restart is failing: the supervisor
    gives up during the shutdown, and the launcher exits 3 all the same."""
    tree = interactors.Supervisor(
        name="late",
        max_restarts=1,
        children=[interactors.ChildSpec(SlowToFailRestart, name="s")],
    )
    actor = (await system.start(tree)).child("s")
    try:
        await actor.ask.crash()
    except interactors.ActorCrashed:
        await anyio.sleep(0.1)  # its restart is under way
    print("returning", flush=True)


def not_async(system: interactors.ActorSystem) -> None:
    """A plain function: the launcher wants ``async def``."""


answer = 42


async def too_many(system: interactors.ActorSystem, other: int) -> None:
    """Takes a parameter the launcher cannot give."""


async def keyword_system(*, system: interactors.ActorSystem) -> None:
    """The system as a keyword-only parameter: the launcher passes it positionally."""


async def yields(system: interactors.ActorSystem) -> Any:
    """An async generator, not a coroutine function."""
    yield system


async def one_more(system: interactors.ActorSystem, other: int, more: int) -> None:
    """Takes parameters the launcher cannot give."""
