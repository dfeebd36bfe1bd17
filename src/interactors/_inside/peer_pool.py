"""A pool sent to an actor: its members' refs, one chosen per message by the pool's policy.

An :class:`~interactors.ActorPool` pickles as a :class:`PeerPool`: the pool's name,
policy and ``key`` function, and its members' refs at the time it was sent (inside an
actor, ``PeerRef`` objects). ``pool.ask.method(...)``, ``pool.tell...`` and
``pool.tell_nowait...`` go to one member, as the host's pool would choose it:
``"round_robin"`` in turn (counted by this copy), ``"hash"`` by the same stable hash (so a
key reaches the member the host would send it to, while the size is the same),
``"least_busy"`` by the messages waiting in each member's mailbox. A resize after the pool
was sent is not seen by this copy; a member restarted in place keeps its ref.

Stdlib only: imported inside actors' interpreters.
"""

from __future__ import annotations

from .._wire.pool_key import pick

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class _PoolMethods:
    """``pool.ask`` / ``tell`` / ``tell_nowait``: ``ask.method(...)`` or
    ``ask(Cls.method, ...)``, each to the member the policy picks."""

    __slots__ = ("_kind", "_pool")

    def __init__(self, pool: PeerPool, kind: str) -> None:
        self._pool = pool
        self._kind = kind

    def __getattr__(self, method: str) -> Any:
        pool, kind = self._pool, self._kind

        def send(*args: Any, **kwargs: Any) -> Any:
            return getattr(getattr(pool._pick(args, kwargs), kind), method)(*args, **kwargs)

        return send

    def __call__(self, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._pool._pick(args, kwargs), self._kind)(method, *args, **kwargs)


class PeerPool:
    """An :class:`~interactors.ActorPool` as seen from inside an actor (see the module)."""

    __slots__ = ("_turn", "ask", "key", "members", "name", "policy", "tell", "tell_nowait")

    def __init__(self, name: str, policy: str, key: Any, members: tuple[Any, ...]) -> None:
        self.name = name
        self.policy = policy
        self.key = key
        self.members = tuple(members)
        # A C iterator: next() is atomic for the actor's threads (see PeerContext.ids).
        self._turn = iter(range(1 << 62))
        self.ask: Any = _PoolMethods(self, "ask")
        self.tell: Any = _PoolMethods(self, "tell")
        self.tell_nowait: Any = _PoolMethods(self, "tell_nowait")

    @property
    def size(self) -> int:
        return len(self.members)

    def _pick(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        members = self.members
        if not members:
            from .._exceptions import ActorStopped

            raise ActorStopped(f"pool {self.name!r} had no members when it was sent")
        turn, count = next(self._turn), len(members)
        return members[
            pick(self.name, self.policy, self.key, args, kwargs, turn, count, self._load)
        ]

    def _load(self, index: int) -> int:
        """Messages waiting in member ``index``'s mailbox (0 for a host's ref: in turn)."""
        queued = getattr(self.members[index], "queued", None)
        return 0 if queued is None else int(queued())

    def __reduce__(self) -> tuple[Any, ...]:
        return PeerPool, (self.name, self.policy, self.key, self.members)

    def __repr__(self) -> str:
        return f"<PeerPool {self.name!r} size={self.size} policy={self.policy!r}>"
