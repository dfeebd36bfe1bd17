"""Supervision trees and pools for synchronous code: what ``BlockingActorSystem.start``
and ``BlockingActorSystem.spawn_pool`` return.

Each wraps the async object (a :class:`~interactors.SupervisorRef`, an
:class:`~interactors.ActorPool`) and runs its calls on the system's loop; the refs,
supervisors and pools they hand out are the blocking kinds too. A pool's messages go
from the calling thread to the member its policy picks, as a ``BlockingActorRef``'s do.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .._supervision.ref import ActorPool, SupervisorRef
from .._wire import envelope as P
from .blocking_refs import BlockingActorRef, _Link
from .ref import ActorRef
from .thread_sends import call_on

if TYPE_CHECKING:
    from collections.abc import Callable

    from .._supervision.admin import ChildCounts, ChildInfo
    from .._supervision.ref import PoolStatistics
    from .blocking_refs import _BlockingAsk, _BlockingTell

__all__ = ("BlockingActorPool", "BlockingSupervisorRef")

A = TypeVar("A", default=Any)


def wrap(link: _Link, value: Any) -> Any:
    """The blocking kind of a ref, supervisor or pool; anything else as it is."""
    if isinstance(value, ActorRef):
        return BlockingActorRef(link, value)
    if isinstance(value, SupervisorRef):
        return BlockingSupervisorRef(link, value)
    if isinstance(value, ActorPool):
        return BlockingActorPool(link, value)
    return value


def unwrap(value: Any) -> Any:
    """The async object behind a blocking one (a child named by its ref, say)."""
    for kind, inner in (
        (BlockingActorRef, "ref"),
        (BlockingSupervisorRef, "supervisor_ref"),
        (BlockingActorPool, "pool"),
    ):
        if isinstance(value, kind):
            return getattr(value, inner)
    return value


class _Calls:
    """Runs the wrapped object's calls on the system's loop."""

    __slots__ = ("_link",)

    def __init__(self, link: _Link) -> None:
        self._link = link

    def _call(self, what: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        portal = self._link.get(what)
        return wrap(self._link, call_on(portal, functools.partial(func, *args, **kwargs)))


class BlockingSupervisorRef(_Calls):
    """A running supervisor for synchronous code (:class:`~interactors.SupervisorRef`'s
    calls, blocking; the children it hands out are blocking refs, supervisors, pools)."""

    __slots__ = ("supervisor_ref",)

    def __init__(self, link: _Link, supervisor_ref: SupervisorRef) -> None:
        super().__init__(link)
        self.supervisor_ref = supervisor_ref
        """The underlying :class:`~interactors.SupervisorRef` (for async code)."""

    @property
    def name(self) -> str:
        return self.supervisor_ref.name

    @property
    def failed(self) -> bool:
        return self.supervisor_ref.failed

    @property
    def stopped(self) -> bool:
        return self.supervisor_ref.stopped

    def child(self, name: str) -> BlockingActorRef[Any]:
        return self._call("child()", self.supervisor_ref.child, name)  # type: ignore[no-any-return]

    def supervisor(self, name: str) -> BlockingSupervisorRef:
        return self._call("supervisor()", self.supervisor_ref.supervisor, name)  # type: ignore[no-any-return]

    def pool(self, name: str) -> BlockingActorPool[Any]:
        return self._call("pool()", self.supervisor_ref.pool, name)  # type: ignore[no-any-return]

    def children(self) -> list[str]:
        return self._call("children()", self.supervisor_ref.children)  # type: ignore[no-any-return]

    def which_children(self) -> list[ChildInfo]:
        return self._call("which_children()", self.supervisor_ref.which_children)  # type: ignore[no-any-return]

    def count_children(self) -> ChildCounts:
        return self._call("count_children()", self.supervisor_ref.count_children)  # type: ignore[no-any-return]

    def start_child(self, *args: Any, **kwargs: Any) -> Any:
        """As :meth:`SupervisorRef.start_child`: a blocking ref, supervisor or pool."""
        return self._call("start_child()", self.supervisor_ref.start_child, *args, **kwargs)

    def terminate_child(self, child: Any) -> None:
        self._call("terminate_child()", self.supervisor_ref.terminate_child, unwrap(child))

    def restart_child(self, name: str) -> Any:
        return self._call("restart_child()", self.supervisor_ref.restart_child, name)

    def delete_child(self, name: str) -> None:
        self._call("delete_child()", self.supervisor_ref.delete_child, name)

    def stop(self) -> None:
        """Stop the whole tree (children first, each after its queued messages)."""
        self._call("stop()", self.supervisor_ref.stop)

    def wait_stopped(self) -> str:
        """Block until the supervisor has stopped; its exit reason."""
        return self._call("wait_stopped()", self.supervisor_ref.wait_stopped)  # type: ignore[no-any-return]

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, BlockingSupervisorRef) and other.supervisor_ref == self.supervisor_ref
        )

    def __hash__(self) -> int:
        return hash(self.supervisor_ref)

    def __repr__(self) -> str:
        return f"<BlockingSupervisorRef {self.name!r}>"


class _PoolMethods:
    """``pool.ask`` / ``tell`` / ``tell_nowait``: to the member the pool's policy picks,
    from the calling thread as a ``BlockingActorRef``'s messages."""

    __slots__ = ("__dict__", "_kind", "_link", "_members", "_pool")

    def __init__(self, link: _Link, pool: ActorPool, kind: str) -> None:
        self._link = link
        self._pool = pool
        self._kind = kind
        self._members: dict[ActorRef[Any], BlockingActorRef[Any]] = {}

    def _member(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``ask`` (or ``tell``...) of the member the policy picks for these arguments."""
        self._link.get(f"{self._kind}.{method}()")  # (SystemClosed first, once closed)
        member = self._pool._pick(args, kwargs)
        blocking = self._members.get(member)
        if blocking is None:
            blocking = self._members[member] = BlockingActorRef(self._link, member)
        return getattr(blocking, self._kind)

    def __call__(self, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        name = P.named_method(method)  # (the member's call form checks it is the class's)
        return self._member(name, args, kwargs)(method, *args, **kwargs)

    def __getattr__(self, method: str) -> Any:
        if method.startswith("__"):
            raise AttributeError(method)
        member = self._member

        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(member(method, args, kwargs), method)(*args, **kwargs)

        call.__name__ = call.__qualname__ = method
        self.__dict__[method] = call  # later look-ups skip __getattr__
        return call


class BlockingActorPool(_Calls, Generic[A]):
    """N supervised copies of an actor for synchronous code: ``pool.ask.method(...)`` (a
    :class:`concurrent.futures.Future`), ``pool.tell.method(...)`` and
    ``pool.tell_nowait.method(...)`` each go to one member, chosen by the pool's policy."""

    __slots__ = ("ask", "pool", "tell", "tell_nowait")

    def __init__(self, link: _Link, pool: ActorPool) -> None:
        super().__init__(link)
        self.pool = pool
        """The underlying :class:`~interactors.ActorPool` (for async code)."""
        self.ask: _BlockingAsk[A] = _PoolMethods(link, pool, "ask")  # type: ignore[assignment]
        self.tell: _BlockingTell[A] = _PoolMethods(link, pool, "tell")  # type: ignore[assignment]
        self.tell_nowait: _BlockingTell[A] = _PoolMethods(link, pool, "tell_nowait")  # type: ignore[assignment]

    @property
    def name(self) -> str:
        return self.pool.name

    @property
    def policy(self) -> str:
        return self.pool.policy

    @property
    def size(self) -> int:
        return self.pool.size

    @property
    def members(self) -> list[BlockingActorRef[A]]:
        return [BlockingActorRef(self._link, ref) for ref in self.pool.members]

    def __reduce__(self) -> tuple[Any, ...]:
        return self.pool.__reduce__()  # sent to an actor: a PeerPool there

    @property
    def supervisor(self) -> BlockingSupervisorRef:
        return BlockingSupervisorRef(self._link, self.pool.supervisor)

    def resize(self, size: int) -> None:
        """Grow or shrink to ``size`` members (as :meth:`ActorPool.resize`)."""
        self._call("resize()", self.pool.resize, size)

    def statistics(self) -> PoolStatistics:
        return self.pool.statistics()

    def stop(self) -> None:
        """Stop every member (after their queued messages) and the pool's supervisor."""
        self._call("stop()", self.pool.stop)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BlockingActorPool) and other.pool == self.pool

    def __hash__(self) -> int:
        return hash(self.pool)

    def __repr__(self) -> str:
        return f"<BlockingActorPool {self.name!r} size={self.size} policy={self.policy!r}>"
