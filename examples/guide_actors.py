"""Actor classes for the guide (examples/guide.py). Stdlib only: actors import this."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import warnings
from typing import Any

import interactors
from interactors import PeerRef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from interactors import ActorRef


class Hasher(interactors.Actor):
    mailbox_size = 100  # per-class defaults; spawn(..., mailbox_size=...) overrides
    on_error = "resume"  # the default: a failing message is its caller's error

    def digest(self, data: bytes | memoryview, rounds: int = 1) -> str:
        value = bytes(data)
        for _ in range(rounds):
            value = hashlib.sha256(value).digest()
        return value.hex()


class Pipeline(interactors.Actor):
    """Holds a ref to another actor and talks to it directly."""

    def __init__(self, hasher: Any) -> None:
        self.hasher = hasher  # an ActorRef arrives here as a direct actor-to-actor ref

    def hash_twice(self, text: str) -> str:
        first: str = self.hasher.ask.digest(text.encode()).result(timeout=5)
        second: str = self.hasher.ask.digest(first.encode()).result(timeout=5)
        return second

    async def hash_async(self, text: str) -> str:
        result: str = await self.hasher.ask.digest(text.encode())
        return result


class Checker(interactors.Actor):
    """Holds a typed ref to a Hasher: mypy and pyright check its calls."""

    def __init__(self, hasher: ActorRef[Hasher] | PeerRef[Hasher]) -> None:
        assert isinstance(hasher, PeerRef)  # inside an actor, a ref is a PeerRef
        self.hasher = hasher

    def matches(self, data: bytes, digest: str, rounds: int = 1) -> bool:
        reply = self.hasher.ask(Hasher.digest, data, rounds=rounds)  # a PendingReply[str]
        return reply.result(timeout=5) == digest


class Slow(interactors.Actor):
    async def nap(self, seconds: float) -> float:
        await asyncio.sleep(seconds)
        return seconds


class Countdown(interactors.Actor):
    """Counts down; at zero it stops itself, for good, after the messages already sent."""

    def __init__(self, start: int) -> None:
        self.left = start

    def tick(self) -> int:
        self.left -= 1
        if self.left == 0:
            self.ref.stop()  # as `await ref.stop()` from outside; on_stop runs
        return self.left


log = logging.getLogger("examples.reporter")


class Splitter(interactors.Actor):
    """Starts its own hashers, and spreads each job over them."""

    def __init__(self, hashers: int) -> None:
        # Started by this actor, they are its own: they stop when it stops or restarts.
        self.hashers: list[PeerRef[Hasher]] = [
            self.spawn(Hasher).result(timeout=10) for _ in range(hashers)
        ]

    async def digest_all(self, chunks: list[bytes]) -> list[str]:
        replies = [
            self.hashers[i % len(self.hashers)].ask(Hasher.digest, chunk)
            for i, chunk in enumerate(chunks)
        ]  # all sent at once: the hashers work in parallel
        return [await reply for reply in replies]

    async def hire(self) -> PeerRef[Hasher]:
        hasher = await self.spawn(Hasher, name=f"{self.name}-extra")  # in async handlers
        self.hashers.append(hasher)
        self.monitor(hasher, self.hasher_down)  # told when it stops for good
        return hasher

    def hasher_down(self, hasher: PeerRef[Hasher], reason: str) -> None:
        self.hashers.remove(hasher)

    def staff(self) -> list[PeerRef[Hasher]]:
        return self.hashers  # refs reach the host as ActorRefs


class Reporter(interactors.Actor):
    def report(self, items: int) -> None:
        log.debug("counting %d items", items)  # filtered out inside the actor at INFO
        log.info("%d items done", items)
        warnings.warn("report() will need a title", FutureWarning, stacklevel=1)
