"""``system.spawn_pool``: a :class:`~.pool_spec.Pool` started on its own, as its handle.

One ref (an :class:`~.ref.ActorPool`) over N supervised copies of an actor, each message
to one of them. A crashed member is restarted in place (same ref, its queued messages
kept) while the others go on. Policies, chosen per message:

- ``"round_robin"``: members in turn;
- ``"least_busy"``: the member with the fewest messages queued or running, read from the
  shared counters (no message is sent to ask);
- ``"hash"``: a stable hash of ``key(*args, **kwargs)`` modulo the size (default key: the
  first argument; see :mod:`.._wire.pool_key`), so equal keys reach the same member while the
  size stays the same, in every process and run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .pool_spec import Policy, Pool, PoolNode
from .ref import ActorPool

if TYPE_CHECKING:
    from .._host.system import ActorSystem

__all__ = ("spawn_pool",)


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

    The same as ``system.start(Pool(actor, *args, size=size, ...))`` (see
    :class:`~interactors.Pool`), returning the pool rather than its supervisor.
    ``policy`` is ``"round_robin"``, ``"least_busy"`` or ``"hash"`` (on ``key(*args,
    **kwargs)``, default the first argument). ``max_restarts`` in ``within`` seconds
    is the members' restart intensity; past it the pool's supervisor gives up (and the
    system stops with :class:`~interactors.SupervisorGaveUp`).
    """
    spec = Pool(
        actor,
        *args,
        size=size,
        policy=policy,
        key=key,
        name=name,
        max_restarts=max_restarts,
        within=within,
        **kwargs,
    )
    ref = await system.start(spec)
    assert isinstance(ref._node, PoolNode)
    return ActorPool(ref._node)
