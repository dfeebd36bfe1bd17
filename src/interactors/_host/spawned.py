"""Actors started by actors (``Actor.spawn``), and monitored by actors (``Actor.monitor``).

An actor's ``self.spawn(Cls, *args, **options)`` arrives as a SPAWN_ACTOR notice (see
``_inside/children.py``). The actor is started as ``system.spawn`` starts one: under the
root supervisor, with the same options, restarted as its ``restart`` says. The answer goes
to the starter's reply queue, as another actor's answer would: the new actor's address,
or the error ``system.spawn`` raised. ``self.spawn_pool`` starts a pool the same way, as
``system.spawn_pool`` does, and answers with it pickled (a ``PeerPool`` there).

The new actor belongs to the incarnation of the actor that started it, as in Akka or Ray
(an actor's children do not outlive it): when that actor is gone for good (after its
``on_stop``), or before it starts again (a restart), the actors it started are stopped,
all at once, each after the messages already in its mailbox, with reason ``"shutdown"``.
One that stopped earlier leaves its starter's list.

An actor's ``self.monitor(ref, method)`` arrives as a MONITOR notice: once the actor
named by ``ref`` has stopped for good, the monitoring actor is told ``method(ref,
reason)`` (the ref rebuilt from its address, so even an actor the host no longer knows
is named; its reason is then ``"noproc"``, OTP's word).
"""

from __future__ import annotations

import contextlib
import pickle
from typing import TYPE_CHECKING, Any

import anyio

from .._exceptions import InteractorsError
from .._inside.loading import error_payload
from .._supervision.ref import ActorPool, leave_parent
from .._wire import envelope as P
from .messaging import STARTING, answer_peer
from .ref import ActorRef

if TYPE_CHECKING:
    from .cell import ActorCell
    from .system import ActorSystem

__all__ = ("SpawnedActors",)


class _Named:
    """An actor's ref by its address, as the actor told (pickles as the ref itself)."""

    def __init__(self, address: P.Address) -> None:
        self.address = address

    def __reduce__(self) -> tuple[Any, ...]:
        return P.rebuild_ref, (self.address,)


class SpawnedActors:
    """Which actors each actor started, to stop them with it."""

    def __init__(self, system: ActorSystem) -> None:
        self.system = system
        # starter's actor id -> what it started: actors by id, pools by id() of the pool
        self.children: dict[int, dict[int, ActorRef | ActorPool]] = {}
        self.starters: dict[int, int] = {}  # started actor's id -> its starter's id
        # monitoring actor's id -> the cancel scopes of its monitors' waits
        self.watching: dict[int, set[anyio.CancelScope]] = {}

    def request(self, starter: ActorCell, payload: tuple[Any, ...]) -> None:
        """A SPAWN_ACTOR notice from ``starter`` (on the loop's thread)."""
        self.system._schedule(self._spawn, starter, starter._start_id, payload)

    async def _spawn(self, starter: ActorCell, start_id: int, payload: tuple[Any, ...]) -> None:
        msg_id, qid, fd, blob = payload
        started: ActorRef | ActorPool | None = None
        try:
            what, actor, args, kwargs = pickle.loads(blob)
            started = await getattr(self.system, what)(actor, *args, **kwargs)
            # An actor goes as its address, a pool pickled (a PeerPool there).
            answer: tuple[int, Any]
            if isinstance(started, ActorPool):
                key, answer = id(started), (P.ENCODED, pickle.dumps(started))
            else:
                key, answer = started.actor_id, (P.PLAIN, started.address)
        except Exception as exc:
            if started is not None:  # (started, but it cannot be sent: it is not kept)
                await _stop(started)
            answer_peer(qid, fd, (P.REPLY_ERROR, msg_id, P.PLAIN, error_payload(exc)))
            return
        if starter._start_id != start_id or self.system._cells.get(starter.actor_id) is not starter:
            # The incarnation that asked is gone (restarted, or stopped for good) meanwhile.
            await _stop(started)
            return
        self.children.setdefault(starter.actor_id, {})[key] = started
        if not isinstance(started, ActorPool):  # (a pool is kept until its starter ends)
            self.starters[key] = starter.actor_id
        answer_peer(qid, fd, (P.REPLY_OK, msg_id, *answer))

    async def stop_children(self, starter: ActorCell) -> None:
        """Stop the actors ``starter`` started, all at once (before it starts again)."""
        children = self.children.pop(starter.actor_id, None)
        if not children:
            return
        async with anyio.create_task_group() as group:
            for key, started in children.items():
                self.starters.pop(key, None)
                group.start_soon(_stop, started)

    def starter_names(self) -> tuple[dict[int, str], dict[int, str]]:
        """Who started what, by the starter's name: actors by actor id, and pools by the
        ``id()`` of their supervisor node (for ``interactors top`` and ``stats``)."""
        cells = self.system._cells
        actors, pools = {}, {}
        for starter_id, started in self.children.items():
            starter = cells.get(starter_id)
            if starter is None:
                continue
            for key, child in started.items():
                if isinstance(child, ActorPool):
                    pools[id(child._node)] = starter.name
                else:
                    actors[key] = starter.name
        return actors, pools

    def forget(self, cell: ActorCell) -> None:
        """``cell``'s actor is gone for good: it leaves its starter's list, and the actors
        it started stop."""
        starter = self.starters.pop(cell.actor_id, None)
        if starter is not None:
            self.children.get(starter, {}).pop(cell.actor_id, None)
        if cell.actor_id in self.children:
            self.system._schedule(self.stop_children, cell)
        for scope in self.watching.pop(cell.actor_id, ()):
            scope.cancel()  # its monitors end with it

    def monitor(self, watcher: ActorCell, payload: tuple[Any, ...]) -> None:
        """A MONITOR notice from ``watcher`` (on the loop's thread)."""
        address, method = payload
        self.system._schedule(self._watch, watcher, tuple(address), method)

    async def _watch(self, watcher: ActorCell, address: P.Address, method: str) -> None:
        system, watcher_id = self.system, watcher.actor_id
        if system._cells.get(watcher_id) is not watcher:
            return  # gone already: a monitor ends with its actor (one still starting counts)
        target: ActorCell | ActorRef | None = None  # (a cell: one still starting counts)
        if address[0] == system.system_id:
            target = system._cells.get(address[1]) or system._gone.get(address[1])
        with anyio.CancelScope() as scope:  # cancelled when the watcher is gone (forget)
            scopes = self.watching.setdefault(watcher_id, set())
            scopes.add(scope)
            try:
                reason = "noproc" if target is None else await target.wait_stopped()
            finally:
                scopes.discard(scope)
        # One that asked from __init__ or on_start is told once it takes messages.
        starting = watcher.state == STARTING
        while starting and system._cells.get(watcher_id) is watcher:
            await anyio.sleep(0.005)
            starting = watcher.state == STARTING
        if scope.cancelled_caught or system._cells.get(watcher_id) is not watcher:
            return
        with contextlib.suppress(InteractorsError):  # (stopped meanwhile, or full for good)
            await getattr(ActorRef(watcher).tell, method)(_Named(address), reason)


async def _stop(started: ActorRef | ActorPool) -> None:
    if isinstance(started, ActorPool):
        await started._node.stop(reason="shutdown")
        leave_parent(started._node)
    else:
        await started._cell.stop(reason="shutdown")
