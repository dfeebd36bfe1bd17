"""Pykka thread actors for the benchmarks, driven through ``ActorRef.ask`` / ``tell``.

Messages are tuples ``(kind, ...)``: Pykka's own idiom is a message handled by
``on_receive`` (its proxies add a layer on top of the same path).
"""

from __future__ import annotations

import threading
from typing import Any

import pykka

from .bench_actors import burn


class PykkaEcho(pykka.ThreadingActor):
    def __init__(self) -> None:
        super().__init__()
        self.received = 0
        self.next: Any = None
        self.done: threading.Event | None = None

    def on_receive(self, message: Any) -> Any:
        kind = message[0]
        if kind == "ping":
            return message[1]
        if kind == "put":
            self.received += 1
            return None
        if kind == "len":
            return len(message[1])
        if kind == "burn":
            return burn(message[1])
        if kind == "count":
            return self.received
        if kind == "ping_many":
            target, n = message[1], message[2]
            for i in range(n):
                target.ask(("ping", i))
            return n
        if kind == "produce":
            target, n, size = message[1], message[2], message[3]
            data = b"x" * size if size else 1
            for _ in range(n):
                target.tell(("put", data))
            return n
        if kind == "link":
            self.next = message[1]
            return None
        if kind == "token":
            hops = message[1]
            if hops <= 0:
                if self.done is not None:
                    self.done.set()
            else:
                self.next.tell(("token", hops - 1))
            return None
        if kind == "run":  # the ring's head: send the token round, signal the event at the end
            hops, self.done = message[1], message[2]
            self.next.tell(("token", hops - 1))
            return None
        if kind == "crash":
            raise RuntimeError("crashing on purpose")
        raise ValueError(f"unknown message {kind!r}")
