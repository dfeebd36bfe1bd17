"""Actors of the typed-refs tests (tests/test_typing.py, tests/typechecks/). Stdlib only."""

from __future__ import annotations

import asyncio

import interactors
from interactors import PeerRef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from interactors import ActorRef


class Counter(interactors.Actor):
    def __init__(self, start: int = 0) -> None:
        self.value = start

    def add(self, n: int) -> int:
        self.value += n
        return self.value

    async def add_later(self, n: int, delay: float = 0.0) -> int:
        await asyncio.sleep(delay)
        return self.add(n)

    def get(self) -> int:
        return self.value


class Other(interactors.Actor):
    def add(self, n: int) -> int:
        return n

    def shout(self, text: str) -> str:
        return text.upper()


class Adder(interactors.Actor):
    """Talks to a Counter through a typed inner ref."""

    def __init__(self, counter: ActorRef[Counter] | PeerRef[Counter]) -> None:
        assert isinstance(counter, PeerRef)  # inside an actor, a ref is a PeerRef
        self.counter = counter

    def add_twice(self, n: int) -> int:
        self.counter.tell(Counter.add, n)
        return self.counter.ask(Counter.add, n).result(timeout=5)

    async def add_async(self, n: int) -> int:
        return await self.counter.ask(Counter.add_later, n)

    def shout_at_counter(self) -> str:
        # Not a method of Counter: a type error (see typed_mistakes.py) and, at run time,
        # UnknownMethodError (the name is checked inside an actor, the class on the host).
        reply: str = self.counter.ask(Other.shout, "hi").result(5)  # type: ignore[call-overload]
        return reply
