"""Actor classes for the test suite. Stdlib only: imported inside isolated interpreters."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

import interactors


class Counter(interactors.Actor):
    def __init__(self, start: int = 0) -> None:
        self.value = start

    def add(self, n: int) -> int:
        self.value += n
        return self.value

    def get(self) -> int:
        return self.value

    async def add_later(self, n: int, delay: float) -> int:
        await asyncio.sleep(delay)
        return self.add(n)


class Where(interactors.Actor):
    def package_file(self) -> str:
        return str(interactors.__file__)


class SyncCounter(interactors.Actor):
    """Only plain handlers: the worker runs its fast blocking loop."""

    def __init__(self, start: int = 0) -> None:
        self.value = start

    def add(self, n: int) -> int:
        self.value += n
        return self.value

    def get(self) -> int:
        return self.value


class Turns(interactors.Actor):
    """A quick handler and a slow one, recording the order they ran in."""

    def __init__(self) -> None:
        self.order: list[int] = []

    def quick(self, n: int) -> int:
        self.order.append(n)
        return n

    def slow(self, n: int, seconds: float) -> int:
        self.order.append(n)
        time.sleep(seconds)
        return n

    def ran(self) -> list[int]:
        return self.order


class Echo(interactors.Actor):
    def echo(self, *args: Any, **kwargs: Any) -> Any:
        return (args, kwargs) if kwargs else args

    def length(self, data: Any) -> int:
        return len(data)

    def first_and_type(self, data: Any) -> tuple[int, str]:
        return data[0], type(data).__name__

    def interpreter(self) -> tuple[int, int]:
        import _interpreters

        return int(_interpreters.get_current()[0]), threading.get_ident()

    def pid(self) -> int:
        return os.getpid()


class Failing(interactors.Actor):
    on_error = "resume"

    def __init__(self) -> None:
        self.calls = 0

    def fail(self, message: str) -> None:
        self.calls += 1
        raise ValueError(message)

    def count(self) -> int:
        return self.calls

    def unpicklable_error(self) -> None:
        class Local(Exception):
            pass

        raise Local("cannot be pickled")

    def bad_result(self) -> Any:
        return lambda: None


class BrokenInit(interactors.Actor):
    def __init__(self, fail: bool = True) -> None:
        if fail:
            raise RuntimeError("broken on purpose")


class BrokenStart(interactors.Actor):
    def on_start(self) -> None:
        raise KeyError("on_start failed")

    def ping(self) -> str:
        return "pong"


class Lifecycle(interactors.Actor):
    """Records hooks in a file so the test can see on_stop ran after the actor is gone."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _log(self, event: str) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(f"{self.name}:{event}\n")

    def on_start(self) -> None:
        self._log("start")

    def on_stop(self) -> None:
        self._log("stop")

    def ping(self) -> str:
        return "pong"


class Sleeper(interactors.Actor):
    def __init__(self) -> None:
        self.handled = 0

    def sleep(self, seconds: float) -> float:
        time.sleep(seconds)
        self.handled += 1
        return seconds

    def count(self) -> int:
        return self.handled

    async def asleep(self, seconds: float) -> float:
        await asyncio.sleep(seconds)
        self.handled += 1
        return seconds


class Concurrent(interactors.Actor):
    max_concurrency = 4

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0

    async def work(self, seconds: float) -> int:
        self.running += 1
        self.peak = max(self.peak, self.running)
        await asyncio.sleep(seconds)
        self.running -= 1
        return self.peak

    def peak_seen(self) -> int:
        return self.peak


class Spin(interactors.Actor):
    def burn(self, n: int) -> int:
        total = 0
        for i in range(n):
            total += i * i % 7
        return total


class Forwarder(interactors.Actor):
    """Talks to another actor directly (actor-to-actor messages)."""

    def __init__(self, target: Any = None) -> None:
        self.target = target

    def set_target(self, target: Any) -> None:
        self.target = target

    def forward_add(self, n: int) -> int:
        result: int = self.target.ask.add(n).result(timeout=5)
        return result

    async def forward_add_async(self, n: int) -> int:
        result: int = await self.target.ask.add(n)
        return result

    def forward_tell(self, n: int) -> None:
        self.target.tell.add(n)

    def target_ref(self) -> Any:
        return self.target

    def my_ref(self) -> Any:
        return self.ref

    def call_unknown(self) -> Any:
        return self.target.ask.no_such_method(1).result(timeout=5)

    def ping_many(self, n: int) -> int:
        for _ in range(n):
            self.target.ask.add(1).result(timeout=5)
        return n

    async def wait_after_an_answer(self, seconds: float) -> int:
        """A plain ``.result()`` on the actor's loop takes the reply fd's wake-up that the
        loop saw just before (the target is a :class:`Turns`)."""
        first = self.target.ask.quick(1)  # answered while this handler holds the loop
        time.sleep(0.05)  # noqa: ASYNC251 - holding the loop is the point
        await asyncio.sleep(0)  # the loop sees the reply fd readable, queues its reader
        second: int = self.target.ask.slow(2, seconds).result(timeout=5)  # a blocking wait
        return int(await first) + second


class Exiter(interactors.Actor):
    def exit(self, code: int = 3) -> None:
        raise SystemExit(code)

    def ping(self) -> str:
        return "pong"


class WithMsgspec(interactors.Actor):
    """Imports msgspec, which refuses to load in an own-GIL interpreter."""

    def __init__(self) -> None:
        import msgspec

        self.encoder = msgspec.json.Encoder()

    def encode(self, value: Any) -> bytes:
        data: bytes = self.encoder.encode(value)
        return data


class Ledger(interactors.Actor):
    """Appends each entry to a file (which outlives restarts); raises on ``crash_on``."""

    def __init__(self, path: str, crash_on: int | None = None) -> None:
        self.path = path
        self.crash_on = crash_on
        self.blobs: list[tuple[str, bytes]] = []

    def note(self, entry: int, blob: Any = None) -> int:
        """Append ``entry``; return it (an asker checks it got its own answer)."""
        with open(self.path, "a") as file:
            file.write(f"{entry}\n")
        if blob is not None:
            self.blobs.append((type(blob).__name__, bytes(blob)))
        if entry == self.crash_on:
            raise RuntimeError(f"crashing on {entry}, as asked")
        return entry

    def read(self) -> list[int]:
        with open(self.path) as file:
            return [int(line) for line in file]

    def blob_kinds(self) -> list[tuple[str, bytes]]:
        """The type and content of each blob noted, in order."""
        return self.blobs

    def nap(self, seconds: float) -> None:
        time.sleep(seconds)

    def spin(self, seconds: float) -> None:
        """Busy for ``seconds`` in Python code (a handler timeout can break it)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pass


class AsyncLedger(Ledger):
    """The same, with an async handler (the actor then serves on its own event loop)."""

    async def anote(self, entry: int) -> int:
        return self.note(entry)


class Quitter(Lifecycle):
    """Stops itself, or another actor, through a ref's ``stop()``."""

    def quit(self) -> str:
        self.ref.stop()
        self.ref.stop()  # twice is harmless: it stops once, on_stop runs once
        self._log("quit")
        return "quitting"

    async def quit_async(self) -> str:
        await self.ref.stop()
        return "quitting"

    def stop_other(self, other: Any) -> None:
        other.stop()

    def note(self, entry: str) -> str:
        self._log(entry)
        return entry


class Relay(interactors.Actor):
    """Asks the next actor of a chain, or raises at its end; asks itself."""

    def __init__(self, nxt: Any = None) -> None:
        self.nxt = nxt

    def go(self, n: int) -> int:
        if self.nxt is None:
            raise KeyError(f"end of the chain at {n}")
        answer: int = self.nxt.ask.go(n + 1).result(timeout=10)
        return answer

    def ping(self) -> str:
        return "pong"

    def ask_myself(self) -> str:
        answer: str = self.ref.ask.ping().result(timeout=60)
        return answer

    async def ask_myself_async(self) -> str:
        answer: str = await self.ref.ask.ping()
        return answer

    async def through(self, other: Any) -> str:
        """Asks ``other`` to ask this actor back, and awaits that."""
        answer: str = await other.ask.call_back(self.ref)
        return answer

    def call_back(self, ref: Any) -> str:
        answer: str = ref.ask.ping().result(timeout=10)
        return answer


class Greeter(interactors.Actor):
    """Its ``__init__`` takes ``name``, which spawn() keeps for the actor's name."""

    def __init__(self, name: str) -> None:
        self.who = name

    def hello(self) -> str:
        return f"hello, {self.who}"
