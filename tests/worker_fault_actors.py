"""Actor classes for tests/test_worker_faults.py (stdlib only: actors' interpreters import it)."""

from __future__ import annotations

import os
import time
from typing import Any

import interactors


class Unsendable(BaseException):
    """Raised by a value's ``__reduce__``: not even an Exception."""


class RefusesPickling:
    def __reduce__(self) -> Any:
        raise Unsendable("no pickling for you")


class BadStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("__str__ fails")

    def __repr__(self) -> str:
        raise RuntimeError("__repr__ fails")


class BadResults(interactors.Actor):
    """Returns results that cannot be sent back; resumes after handler errors."""

    on_error = "resume"

    def __init__(self) -> None:
        self.calls = 0

    def huge_int(self) -> int:
        self.calls += 1
        return 2**70

    def deep(self) -> Any:
        self.calls += 1
        value: Any = []
        for _ in range(20_000):
            value = [value]
        return value

    def refuses(self) -> Any:
        self.calls += 1
        return RefusesPickling()

    def bad_error(self) -> None:
        self.calls += 1
        raise BadStr()

    def tell_fails(self, message: str) -> None:
        self.calls += 1
        raise ValueError(message)

    def count(self) -> int:
        return self.calls

    def describe(self, view: Any) -> tuple[str, tuple[int, ...], Any]:
        """What arrived: a memoryview's format, shape and items."""
        return view.format, view.shape, view.tolist()

    def nested_view(self) -> Any:
        return [memoryview(b"abc")]

    def ask_peer(self, peer: Any, method: str) -> str:
        """Ask ``peer`` from inside this actor; describe what came back."""
        try:
            getattr(peer.ask, method)().result(10)
        except interactors.ActorError as error:
            return f"{type(error).__name__}|{error.type_name}|{error.remote_message}"
        return "ok"


class Busy(interactors.Actor):
    """Handlers that never return by themselves; ``on_stop`` records that it ran."""

    def __init__(self, path: str = "") -> None:
        self.path = path

    def spin(self) -> None:
        while True:
            pass

    def block(self, seconds: float) -> None:
        time.sleep(seconds)

    def ping(self) -> str:
        return "pong"

    def on_stop(self) -> None:
        if self.path:
            with open(self.path, "a") as f:
                f.write(f"on_stop {os.getpid()}\n")


class AsyncBusy(interactors.Actor):
    """Async handlers that never return: one awaits forever, one spins in a coroutine."""

    def __init__(self, path: str = "") -> None:
        self.path = path

    async def wait_forever(self) -> None:
        import asyncio

        await asyncio.sleep(3600)

    async def spin(self) -> None:
        while True:
            pass

    async def ping(self) -> str:
        return "pong"

    async def on_stop(self) -> None:
        if self.path:
            with open(self.path, "a") as f:  # noqa: ASYNC230 - tiny, in the actor
                f.write("on_stop\n")


class ThreadLeaver(interactors.Actor):
    """Starts a thread of its own and never stops it (isolated interpreters allow no daemon
    threads): the thread outlives the actor."""

    def leave_thread(self, seconds: float, done_path: str) -> None:
        import threading

        def nap() -> None:
            time.sleep(seconds)
            with open(done_path, "w") as done:
                done.write("done")

        threading.Thread(target=nap, name="napper").start()


class PeerAsker(interactors.Actor):
    """Asks another actor from inside, and says how the ask ended."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def ask_peer(self, method: str, *args: Any) -> tuple[str, str]:
        try:
            value = getattr(self.target.ask, method)(*args).result(timeout=20)
        except Exception as error:
            return type(error).__name__, str(error)
        return "answered", repr(value)

    async def ask_peer_async(self, method: str, *args: Any) -> tuple[str, str]:
        try:
            value = await getattr(self.target.ask, method)(*args)
        except Exception as error:
            return type(error).__name__, str(error)
        return "answered", repr(value)


class Concurrent(interactors.Actor):
    """Async handlers that run side by side (spawn it with max_concurrency > 1)."""

    async def nap(self, seconds: float) -> float:
        import asyncio

        await asyncio.sleep(seconds)
        return seconds

    async def exit_soon(self, code: int) -> None:
        import asyncio

        await asyncio.sleep(0.05)
        raise SystemExit(code)

    async def fail_soon(self) -> None:
        import asyncio

        await asyncio.sleep(0.05)
        raise RuntimeError("boom")

    async def block_loop(self, seconds: float) -> None:
        time.sleep(seconds)  # noqa: ASYNC251  (blocks the actor's loop in C, on purpose)

    def ping(self) -> str:
        return "pong"


class Napper(interactors.Actor):
    """A handler that runs Python for a while (interruptible, unlike a sleep in C)."""

    def nap(self, seconds: float) -> float:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(0.005)
        return seconds

    def ping(self) -> str:
        return "pong"


class WithStaticAndClassMethods(interactors.Actor):
    @staticmethod
    def double(x: int) -> int:
        return 2 * x

    @classmethod
    def triple(cls, x: int) -> int:
        return 3 * x


def not_an_actor_class() -> None:
    """A function: spawning it by path is refused with what it is."""


class NamedMethod(interactors.Actor):
    """A method called like an attribute interactors sets on every actor."""

    def name(self) -> str:  # type: ignore[override]
        return "mine"


class ConcurrentWithPlainExit(Concurrent):
    """An async actor whose plain (sync) handler exits while async ones run."""

    def exit_now(self, code: int) -> None:
        raise SystemExit(code)
