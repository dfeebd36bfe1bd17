"""The handles of running supervisors: ``SupervisorRef`` (what ``system.start(tree)``
returns) and ``ActorPool`` (a running :class:`~.pool_spec.Pool`'s, whose ask/tell go to one
member). One module, because each hands out the other."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._host.ref import ActorRef
    from .._host.statistics import ActorStatistics
    from .admin import ChildCounts, ChildInfo
    from .pool_spec import Policy, PoolNode
    from .tree import ChildNode, SupervisorNode


class SupervisorRef:
    """A running supervisor: find its children by name, stop the whole tree."""

    __slots__ = ("_node",)

    def __init__(self, node: SupervisorNode) -> None:
        self._node = node

    @property
    def name(self) -> str:
        return self._node.name

    def child(self, name: str) -> ActorRef:
        """The ref of the child actor ``name`` (it survives the child's restarts).

        Raises ``KeyError`` when there is no such child or it is terminated
        (:meth:`restart_child` starts it again, with a new ref), ``TypeError`` when it is a
        supervisor (use :meth:`supervisor`) or a pool (use :meth:`pool`).
        """
        from .pool_spec import PoolNode
        from .tree import ChildNode

        node = self._node.find(name)
        if node is None:
            raise KeyError(f"supervisor {self.name!r} has no child {name!r}")
        self._refuse_terminated(node)
        if not isinstance(node, ChildNode) or node.ref is None:
            what, use = (
                ("a pool", "pool") if isinstance(node, PoolNode) else ("a supervisor", "supervisor")
            )
            raise TypeError(f"child {name!r} of {self.name!r} is {what}: use .{use}({name!r})")
        return node.ref

    def pool(self, name: str) -> ActorPool:
        """The pool ``name`` (a ``Pool`` spec among this supervisor's children): its
        :class:`~interactors.ActorPool`, whose ask/tell go to one of its members.

        Raises ``KeyError`` when there is no child pool of that name.
        """
        from .pool_spec import PoolNode

        node = self._node.find(name)
        if not isinstance(node, PoolNode):
            raise KeyError(f"supervisor {self.name!r} has no child pool {name!r}")
        self._refuse_terminated(node)
        return ActorPool(node)

    def supervisor(self, name: str) -> SupervisorRef:
        """The nested supervisor ``name``."""
        from .tree import SupervisorNode

        node = self._node.find(name)
        if not isinstance(node, SupervisorNode):
            raise KeyError(f"supervisor {self.name!r} has no child supervisor {name!r}")
        self._refuse_terminated(node)
        return SupervisorRef(node)

    def _refuse_terminated(self, node: ChildNode | SupervisorNode) -> None:
        if node.terminated:
            raise KeyError(
                f"child {node.name!r} of {self.name!r} is terminated: "
                f"restart_child({node.name!r}) starts it again"
            )

    def children(self) -> list[str]:
        """Names of the current children, in start order."""
        return [node.name for node in self._node.children]

    @property
    def failed(self) -> bool:
        """True once this supervisor has given up."""
        return self._node.failed

    # -- administration (OTP's supervisor API; semantics in .admin) --------------------------

    async def start_child(self, *args: Any, **kwargs: Any) -> ActorRef | SupervisorRef | ActorPool:
        """Start one more child; return its ref.

        For a ``Supervisor``: ``start_child(spec)`` starts a ``ChildSpec`` (an ``ActorRef``
        back), a ``Supervisor`` (a ``SupervisorRef``) or a ``Pool`` (an ``ActorPool``). Raises
        :class:`~interactors.ChildError` (``reason`` ``"already_started"`` or
        ``"already_present"``) when a child, running or terminated, has that name.

        For a ``DynamicSupervisor`` (OTP's ``simple_one_for_one``): ``start_child(*args,
        **kwargs)`` starts an instance of its child template, the arguments appended to the
        template's; raises ``ChildError`` (``"max_children"``) when ``max_children`` run.

        Both raise :class:`~interactors.SpawnError` when the child does not start. A
        pool's supervisor (``ActorPool.supervisor``) takes no ``start_child``
        (``TypeError``): ``ActorPool.resize`` starts members.
        """
        from .admin import start_child
        from .dynamic import DynamicSupervisorNode
        from .pool_spec import PoolNode

        if isinstance(self._node, PoolNode):
            raise TypeError(
                f"{self.name!r} is a pool's supervisor: its members are copies of one actor; "
                f"start more with ActorPool.resize(n)"
            )
        if isinstance(self._node, DynamicSupervisorNode):
            return _live_ref(await self._node.start_child(args, kwargs))
        if len(args) != 1 or kwargs:
            raise TypeError(
                f"supervisor {self.name!r} is not dynamic: start_child takes one ChildSpec or "
                f"Supervisor, got args={args!r} kwargs={kwargs!r}"
            )
        return _live_ref(await start_child(self._node, args[0]))

    async def terminate_child(self, child: str | ActorRef | SupervisorRef | ActorPool) -> None:
        """Stop ``child`` (its name, or its ref as ``start_child`` returned it) for good
        (``on_stop`` runs; its reason is ``"shutdown"``). Its spec stays, as in OTP, for
        :meth:`restart_child`; a temporary child's spec, and a dynamic supervisor's
        instance, are forgotten. Raises :class:`~interactors.ChildError` (``"not_found"``).
        """
        from .admin import terminate_child

        await terminate_child(self._node, self._name_of(child))

    def _name_of(self, child: str | ActorRef | SupervisorRef | ActorPool) -> str:
        from .._exceptions import ChildError
        from .._host.ref import ActorRef

        if isinstance(child, str):
            return child
        if not isinstance(child, ActorRef | SupervisorRef | ActorPool):
            raise TypeError(f"terminate_child takes a child's name or ref, got {child!r}")
        for node in self._node.children:
            if not node.terminated and ref_of(node) == child:
                return node.name

        raise ChildError(f"supervisor {self.name!r} has no child {child!r}", "not_found", "")

    async def restart_child(self, name: str) -> ActorRef | SupervisorRef | ActorPool:
        """Start the terminated child ``name`` again from its spec; return its new ref.

        Raises :class:`~interactors.ChildError` (``"running"``, ``"not_found"``; on a
        dynamic supervisor, ``"simple_one_for_one"``: not supported, as in OTP).
        """
        from .admin import restart_child

        return _live_ref(await restart_child(self._node, name))

    async def delete_child(self, name: str) -> None:
        """Forget the terminated child ``name``. Raises :class:`~interactors.ChildError`
        (``"running"``: terminate it first; ``"not_found"``; on a dynamic supervisor,
        ``"simple_one_for_one"``: not supported, as in OTP)."""
        from .admin import delete_child

        await delete_child(self._node, name)

    def which_children(self) -> list[ChildInfo]:
        """Every child in start order: name, ref (``None`` if terminated), restart type,
        state and restart count."""
        from .admin import which_children

        return which_children(self._node, ref_of)

    def count_children(self) -> ChildCounts:
        """How many children: ``specs``, ``active``, ``restarting``, ``supervisors``,
        ``workers``."""
        from .admin import count_children

        return count_children(self._node)

    async def stop(self) -> None:
        """Stop every child for good, in reverse start order (a dynamic supervisor's
        instances all at once). Its reason is ``"normal"``, its children's ``"shutdown"``.
        A nested one leaves its parent's children, as an actor stopped by its ref does."""
        await self._node.stop(reason="normal")
        leave_parent(self._node)

    @property
    def stopped(self) -> bool:
        """True once it has stopped: by :meth:`stop`, a shutdown or its ``auto_shutdown``."""
        return self._node.stopped

    async def wait_stopped(self) -> str:
        """Wait until it has stopped and its children have (see :attr:`stopped`); return
        why: ``"normal"`` (its :meth:`stop`, or its ``auto_shutdown``), ``"shutdown"`` (its
        parent's or the system's shutdown) or the message of its giving up."""
        await self._node.ended.wait()
        return self._node.exit_reason

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SupervisorRef) and other._node is self._node

    def __hash__(self) -> int:
        return id(self._node)

    def __repr__(self) -> str:
        return f"<SupervisorRef {self.name!r} children={self.children()}>"

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError(
            f"supervisor {self.name!r} cannot be sent to an actor: it is run by the host's "
            "event loop (children are started there). Send the refs of its children "
            "(sup.child(name))"
        )


def leave_parent(node: SupervisorNode) -> None:
    """A subtree stopped for good through its own handle: its parent forgets it (it would
    stay a "stopping" child forever, its name taken)."""
    if node.parent is not None and not node.terminated:
        node.parent.remove(node)


def ref_of(node: ChildNode | SupervisorNode) -> ActorRef | SupervisorRef | ActorPool | None:
    """The ref of a child node (a pool's :class:`ActorPool`); ``None`` while it is
    terminated."""
    from .pool_spec import PoolNode
    from .tree import ChildNode

    if node.terminated:
        return None
    if isinstance(node, PoolNode):
        return ActorPool(node)
    return node.ref if isinstance(node, ChildNode) else SupervisorRef(node)


def _live_ref(node: ChildNode | SupervisorNode) -> ActorRef | SupervisorRef | ActorPool:
    ref = ref_of(node)
    assert ref is not None  # just started
    return ref


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

    __slots__ = ("__dict__", "_kind", "_node")

    def __init__(self, node: PoolNode, kind: str) -> None:
        self._node = node
        self._kind = kind

    def __getattr__(self, method: str) -> Any:
        if method.startswith("__"):
            raise AttributeError(method)
        pick, kind = self._node.pick, self._kind

        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(getattr(pick(args, kwargs), kind), method)(*args, **kwargs)

        call.__name__ = call.__qualname__ = method
        self.__dict__[method] = call  # later look-ups skip __getattr__
        return call


class ActorPool:
    """N supervised copies of an actor behind one ref: ``await pool.ask.method(...)``,
    ``await pool.tell.method(...)`` and ``pool.tell_nowait.method(...)`` each go to one
    member, chosen by the pool's policy."""

    __slots__ = ("_node", "ask", "tell", "tell_nowait")

    def __init__(self, node: PoolNode) -> None:
        self._node = node
        self.ask: Any = _PoolProxy(node, "ask")
        self.tell: Any = _PoolProxy(node, "tell")
        self.tell_nowait: Any = _PoolProxy(node, "tell_nowait")

    @property
    def supervisor(self) -> SupervisorRef:
        """The one_for_one supervisor of the members."""
        return SupervisorRef(self._node)

    @property
    def name(self) -> str:
        return self._node.name

    @property
    def policy(self) -> Policy:
        return self._node.spec.policy

    @property
    def size(self) -> int:
        """How many members serve (one terminated through ``pool.supervisor`` does not)."""
        return len(self._node.refs)

    @property
    def members(self) -> list[ActorRef]:
        """The members' refs, in order (a restarted member keeps its ref)."""
        return list(self._node.refs)

    def _pick(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> ActorRef:
        return self._node.pick(args, kwargs)

    async def resize(self, size: int) -> None:
        """Grow (start new members) or shrink (stop the last members after the messages
        already in their mailboxes) to ``size`` members."""
        await self._node.resize(size)

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
        """Stop every member (after their queued messages) and the pool's supervisor; the
        pool leaves its parent's children."""
        await self._node.stop(reason="normal")
        leave_parent(self._node)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ActorPool) and other._node is self._node

    def __hash__(self) -> int:
        return id(self._node)

    def __repr__(self) -> str:
        return f"<ActorPool {self.name!r} size={self.size} policy={self.policy!r}>"

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent to an actor, it arrives as a PeerPool over the members it has now.
        from .._inside.peer_pool import PeerPool

        key = self._node.spec.key
        if key is not None:
            try:
                pickle.dumps(key)
            except Exception as exc:
                raise TypeError(
                    f"pool {self.name!r} cannot be sent to an actor: its key= function does "
                    f"not pickle ({exc}). Give the pool a module-level function as its key"
                ) from None
        return PeerPool, (self.name, self.policy, key, tuple(self._node.refs))
