"""Actors that ask each other synchronously, for tests/test_wait_cycles.py. Stdlib only."""

from __future__ import annotations

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


class AsyncNode(Node):
    """The same, waiting with ``await`` (max_concurrency=1 unless spawned otherwise)."""

    async def around_async(self, hops: int) -> str:
        if hops == 0:
            return self.name
        answer: str = await self.next.ask.around(hops - 1)
        return answer

    async def hello_async(self) -> str:
        return f"hello from {self.name}"
