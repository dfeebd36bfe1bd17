"""Deliberate mistakes: tests/test_typing.py checks that mypy --strict and pyright report
the errors of each `# expect:` comment on its line, and no other error."""

# fmt: off
from __future__ import annotations

import interactors
from typed_actors import Counter, Other


async def host_side(system: interactors.ActorSystem) -> None:
    counter = await system.spawn(Counter)
    await counter.ask(Counter.add, "5")  # expect: mypy=call-overload pyright=reportCallIssue,reportArgumentType
    await counter.ask(Counter.add, 1, 2)  # expect: mypy=call-overload pyright=reportCallIssue
    await counter.ask(Counter.add)  # expect: mypy=call-overload pyright=reportCallIssue
    await counter.ask(Other.add, 1)  # expect: mypy=call-overload pyright=reportCallIssue,reportArgumentType
    text: str = await counter.ask(Counter.add, 1)  # expect: mypy=call-overload pyright=reportAssignmentType
    await counter.tell(Counter.add, n="x")  # expect: mypy=arg-type pyright=reportArgumentType
    counter.tell_nowait(Counter.get, 1)  # expect: mypy=call-arg pyright=reportCallIssue
    print(text)


def inside(peer: interactors.PeerRef[Counter]) -> None:
    peer.ask(Counter.add, "5")  # expect: mypy=call-overload pyright=reportCallIssue,reportArgumentType
    peer.ask(Other.shout, "hi")  # expect: mypy=call-overload pyright=reportCallIssue,reportArgumentType
    total: str = peer.ask(Counter.add, 1).result()  # expect: mypy=assignment pyright=reportAssignmentType
    print(total)


def blocking(system: interactors.BlockingActorSystem) -> None:
    counter = system.spawn(Counter)
    counter.ask(Counter.add, "5")  # expect: mypy=call-overload pyright=reportCallIssue,reportArgumentType
    counter.ask(Other.add, 1)  # expect: mypy=call-overload pyright=reportCallIssue,reportArgumentType
    total: str = counter.ask(Counter.add, 1).result()  # expect: mypy=assignment pyright=reportAssignmentType
    counter.tell(Counter.add, 1, 2)  # expect: mypy=call-arg pyright=reportCallIssue
    counter.tell_nowait(Counter.get, 1)  # expect: mypy=call-arg pyright=reportCallIssue
    print(total)
