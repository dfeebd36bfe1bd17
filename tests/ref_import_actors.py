"""An actor module that imports ActorRef at run time, for its annotations (not only under
TYPE_CHECKING): refs must still reach its actors as PeerRefs."""

from __future__ import annotations

import interactors
from interactors import ActorRef, PeerRef


class Keeper(interactors.Actor):
    def __init__(self, other: ActorRef[Keeper] | PeerRef[Keeper] | None = None) -> None:
        self.other = other
        self.kept: dict[str, object] = {}

    def ping(self) -> str:
        return "pong"

    def ping_other(self) -> str:
        assert isinstance(self.other, PeerRef)
        answer: str = self.other.ask(Keeper.ping).result(timeout=10)
        return answer

    def keep(self, key: str, value: object) -> None:
        self.kept[key] = value

    def give(self, key: str) -> object:
        return self.kept[key]
