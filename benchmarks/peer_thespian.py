"""Thespian actors for the benchmarks (``multiprocTCPBase``: one process per actor).

Thespian actors never block: every exchange is a message, and an actor that must wait for
something (a count to be reached, a reply from another actor) keeps the requester's address
and answers later. Messages are tuples ``(kind, ...)``; bare ints are replies.
"""

from __future__ import annotations

import os
from typing import Any

from thespian.actors import Actor, ActorSystem

from .bench_actors import burn

# multiprocQueueBase deadlocks with more than ~50 messages in flight between two actors (or
# ~30 replies pending to the outside), so the suite uses the TCP base, on loopback only.
SYSTEM_BASE = "multiprocTCPBase"


def start_system() -> Any:
    return ActorSystem(SYSTEM_BASE, transientUnique=True)


class ThespianEcho(Actor):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received = 0
        self.waiting: tuple[Any, int] | None = None
        self.pinging: tuple[Any, Any, int, int] | None = None
        self.next: Any = None
        self.ring_requester: Any = None

    def receiveMessage(self, message: Any, sender: Any) -> None:  # Thespian's API
        if type(message) is int:  # a reply to one of our pings
            self._pong()
            return
        if not isinstance(message, tuple):
            return  # Thespian's own system messages
        kind = message[0]
        if kind == "ping":
            self.send(sender, message[1])
        elif kind == "tagged_ping":
            self.send(sender, ("reply", message[1]))
        elif kind == "burn":
            self.send(sender, ("reply", message[1], burn(message[2])))
        elif kind == "len":
            self.send(sender, len(message[1]))
        elif kind == "put":
            self.received += 1
            self._maybe_report()
        elif kind == "count_when":
            self.waiting = (sender, message[1])
            self._maybe_report()
        elif kind == "pid":
            self.send(sender, os.getpid())
        elif kind == "ping_many":
            self.pinging = (sender, message[1], message[2], message[2])
            self.send(message[1], ("ping", message[2]))
        elif kind == "produce":
            target, n, size = message[1], message[2], message[3]
            data = b"x" * size if size else 1
            for _ in range(n):
                self.send(target, ("put", data))
            self.send(sender, n)
        elif kind == "link":
            self.next = message[1]
            self.send(sender, 0)
        elif kind == "run":
            self.ring_requester = sender
            self.send(self.next, ("token", message[1] - 1))
        elif kind == "token":
            hops = message[1]
            if hops <= 0:
                self.send(self.ring_requester, 0)
            else:
                self.send(self.next, ("token", hops - 1))

    def _maybe_report(self) -> None:
        if self.waiting is not None and self.received >= self.waiting[1]:
            self.send(self.waiting[0], self.received)
            self.waiting = None

    def _pong(self) -> None:
        if self.pinging is None:
            return
        requester, target, total, left = self.pinging
        left -= 1
        if left:
            self.pinging = (requester, target, total, left)
            self.send(target, ("ping", left))
        else:
            self.pinging = None
            self.send(requester, total)
