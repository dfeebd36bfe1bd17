"""ActorPool: one ref over N supervised copies of an actor, each message to one of them.

``system.spawn_pool(Cls, *args, size=N, policy=...)`` starts a one_for_one supervisor
whose children are the members (``<pool>-0``, ``<pool>-1``, ...). A crashed member is
restarted in place (same ref, its queued messages kept) while the others go on.
Policies, chosen per message:

- ``"round_robin"``: members in turn;
- ``"least_busy"``: the member with the fewest messages queued or running, read from the
  shared counters (no message is sent to ask);
- ``"hash"``: ``hash(key(*args, **kwargs))`` modulo the size (default key: the first
  argument), so equal keys reach the same member while the size stays the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from .._host.options import check_count
from .admin import start_child
from .spec import ChildSpec, Supervisor
from .tree import ChildNode

if TYPE_CHECKING:
    from .._host.ref import ActorRef
    from .._host.statistics import ActorStatistics
    from .._host.system import ActorSystem
    from .ref import SupervisorRef

__all__ = ("ActorPool", "PoolStatistics")

Policy = Literal["round_robin", "least_busy", "hash"]
POLICIES: Final = ("round_robin", "least_busy", "hash")


@dataclass(frozen=True, slots=True)
class PoolStatistics:
    """A snapshot of a pool: its members' statistics and their sums."""

    name: str
    policy: str
    size: int
    members: tuple[ActorStatistics, ...]
    mailbox_depth: int
    messages_handled: int
    errors: int
    restarts: int


class _PoolProxy:
    """``pool.ask`` / ``pool.tell`` / ``pool.tell_nowait``: the method goes to one member."""

    __slots__ = ("_kind", "_pool")

    def __init__(self, pool: ActorPool, kind: str) -> None:
        self._pool = pool
        self._kind = kind

    def __getattr__(self, method: str) -> Any:
        if method.startswith("__"):
            raise AttributeError(method)
        pool, kind = self._pool, self._kind

        def call(*args: Any, **kwargs: Any) -> Any:
            member = pool._pick(args, kwargs)
            return getattr(getattr(member, kind), method)(*args, **kwargs)

        call.__name__ = call.__qualname__ = method
        return call


class ActorPool:
    """N supervised copies of an actor behind one ref: ``await pool.ask.method(...)``,
    ``await pool.tell.method(...)`` and ``pool.tell_nowait.method(...)`` each go to one
    member, chosen by the pool's policy."""

    def __init__(
        self,
        supervisor: SupervisorRef,
        spec: ChildSpec,
        policy: Policy,
        key: Callable[..., Any] | None,
        size: int,
    ) -> None:
        self.supervisor = supervisor
        """The one_for_one supervisor of the members."""
        self.policy = policy
        self._spec = spec
        self._key = key
        self._names = [f"{supervisor.name}-{i}" for i in range(size)]
        self._next_index = size
        self._turn = itertools.count()
        self.ask: Any = _PoolProxy(self, "ask")
        self.tell: Any = _PoolProxy(self, "tell")
        self.tell_nowait: Any = _PoolProxy(self, "tell_nowait")

    @property
    def name(self) -> str:
        return self.supervisor.name

    @property
    def size(self) -> int:
        return len(self._names)

    @property
    def members(self) -> list[ActorRef]:
        """The members' refs, in order (a restarted member keeps its ref)."""
        refs = []
        for name in self._names:
            node = self.supervisor._node.find(name)
            if isinstance(node, ChildNode) and node.ref is not None and not node.terminated:
                refs.append(node.ref)
        return refs

    def _pick(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> ActorRef:
        members = self.members
        if not members:
            from .._exceptions import ActorStopped

            raise ActorStopped(f"pool {self.name!r} has no members (stopped, or resized to 0)")
        if self.policy == "round_robin":
            return members[next(self._turn) % len(members)]
        if self.policy == "hash":
            if self._key is not None:
                value = self._key(*args, **kwargs)
            elif args:
                value = args[0]
            else:
                raise TypeError(
                    f"pool {self.name!r} hashes the first argument: pass one, "
                    "or give spawn_pool a key= function"
                )
            return members[hash(value) % len(members)]
        # least_busy: ties go round robin, so idle members share the work.
        start = next(self._turn)
        order = [members[(start + i) % len(members)] for i in range(len(members))]
        return min(order, key=_load)

    async def resize(self, size: int) -> None:
        """Grow (start new members) or shrink (stop the last members after the messages
        already in their mailboxes) to ``size`` members."""
        check_count("size", size, 0)
        sup = self.supervisor
        while self.size < size:
            name = f"{self.name}-{self._next_index}"
            self._next_index += 1
            await start_child(sup._node, self._member_spec(name))
            self._names.append(name)
        while self.size > size:
            name = self._names.pop()  # out of the rotation before it stops
            await sup.terminate_child(name)
            await sup.delete_child(name)

    def _member_spec(self, name: str) -> ChildSpec:
        spec = self._spec
        options = {**spec.options, **spec.kwargs}
        return ChildSpec(
            spec.actor,
            *spec.args,
            name=name,
            restart=spec.restart,  # type: ignore[arg-type]
            shutdown=spec.shutdown,
            **options,
        )

    def statistics(self) -> PoolStatistics:
        """The members' statistics and totals, read without sending any message."""
        members = tuple(ref.statistics() for ref in self.members)
        return PoolStatistics(
            name=self.name,
            policy=self.policy,
            size=self.size,
            members=members,
            mailbox_depth=sum(s.mailbox_depth for s in members),
            messages_handled=sum(s.messages_handled for s in members),
            errors=sum(s.errors for s in members),
            restarts=sum(s.restarts for s in members),
        )

    async def stop(self) -> None:
        """Stop every member (after their queued messages) and the pool's supervisor."""
        await self.supervisor.stop()

    def __repr__(self) -> str:
        return f"<ActorPool {self.name!r} size={self.size} policy={self.policy!r}>"


def _load(ref: ActorRef) -> int:
    stats = ref.statistics()
    return stats.mailbox_depth + (stats.busy_seconds is not None) + stats.asks_in_flight


async def spawn_pool(
    system: ActorSystem,
    actor: type | str,
    *args: Any,
    size: int,
    policy: Policy = "round_robin",
    key: Callable[..., Any] | None = None,
    name: str | None = None,
    max_restarts: int = 3,
    within: float = 5.0,
    **kwargs: Any,
) -> ActorPool:
    """Start ``size`` copies of ``actor`` (``args``/``kwargs`` and spawn options as for
    ``spawn``) under a one_for_one supervisor; return the :class:`ActorPool` over them.

    ``policy`` is ``"round_robin"``, ``"least_busy"`` or ``"hash"`` (on ``key(*args,
    **kwargs)``, default the first argument). ``max_restarts`` in ``within`` seconds
    is the members' restart intensity; past it the pool's supervisor gives up (and the
    system stops with :class:`~interactors.SupervisorGaveUp`).
    """
    check_count("size", size, 0)
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    if key is not None and policy != "hash":
        raise ValueError(f"key= is for policy='hash', not {policy!r}")
    spec = ChildSpec(actor, *args, **kwargs)
    pool_name = name or f"pool-{system._next_id()}"
    tree = Supervisor(name=pool_name, max_restarts=max_restarts, within=within)
    pool = ActorPool(await system.start(tree), spec, policy, key, 0)
    try:
        await pool.resize(size)
    except BaseException:
        await pool.stop()
        raise
    return pool
