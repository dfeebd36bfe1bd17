"""Actors that ask each other synchronously, for tests/test_wait_cycles.py. Stdlib only."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import interactors


class Node(interactors.Actor):
    """Asks the next actor of a ring and waits; the ring's last one asks the first."""

    def __init__(self) -> None:
        self.next: Any = None

    def link(self, nxt: Any) -> None:
        self.next = nxt

    def around(self, hops: int) -> str:
        if hops == 0:
            return self.name
        answer: str = self.next.ask.around(hops - 1).result(timeout=10)
        return answer

    def hello(self) -> str:
        return f"hello from {self.name}"

    def pause(self, seconds: float) -> None:
        time.sleep(seconds)

    def hello_from_next(self) -> str:
        answer: str = self.next.ask.hello().result(timeout=10)
        return answer


class SlowToWake(Node):
    """Asks the next actor while a thread of its own holds its GIL for 0.2 s at a time:
    once answered, this actor's thread takes that long to wake and read the answer."""

    def hello_from_next_while_hogged(self, seconds: float) -> str:
        until = time.monotonic() + seconds

        def hog() -> None:
            while time.monotonic() < until:
                pass

        sys.setswitchinterval(0.2)  # (this interpreter's GIL only)
        threading.Thread(target=hog, name="hog").start()
        try:
            return self.hello_from_next()
        finally:
            sys.setswitchinterval(0.005)


class AsyncNode(Node):
    """The same, waiting with ``await`` (max_concurrency=1 unless spawned otherwise)."""

    async def around_async(self, hops: int) -> str:
        if hops == 0:
            return self.name
        answer: str = await self.next.ask.around(hops - 1)
        return answer

    async def hello_async(self) -> str:
        return f"hello from {self.name}"


class Relay(interactors.Actor):
    """Waits in a thread of its own, or relays an ask to the next actor and waits."""

    def __init__(self) -> None:
        self.results: list[str] = []

    def relay(self, nxt: Any, last: Any) -> str:
        answer: str = nxt.ask.relay_to(last).result(timeout=10)
        return answer

    def relay_to(self, last: Any) -> str:
        answer: str = last.ask.hello().result(timeout=10)
        return answer

    def hello(self) -> str:
        return f"hello from {self.name}"

    def nap(self, seconds: float) -> None:
        import time

        time.sleep(seconds)

    def wait_in_a_thread(self, first: Any, nxt: Any) -> None:
        import threading

        def wait() -> None:
            self.results.append(first.ask.relay(nxt, self.ref).result(timeout=10))

        self.thread = threading.Thread(target=wait)
        self.thread.start()

    def results_so_far(self) -> list[str]:
        if self.results:
            self.thread.join()
        return self.results
