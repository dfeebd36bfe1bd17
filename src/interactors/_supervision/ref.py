"""SupervisorRef: the handle ``system.start(tree)`` returns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._host.ref import ActorRef
    from .admin import ChildCounts, ChildInfo
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

        Raises ``KeyError`` when there is no such child, ``TypeError`` when it is a
        supervisor (use :meth:`supervisor`).
        """
        from .tree import ChildNode

        node = self._node.find(name)
        if node is None:
            raise KeyError(f"supervisor {self.name!r} has no child {name!r}")
        if not isinstance(node, ChildNode) or node.ref is None:
            raise TypeError(f"child {name!r} of {self.name!r} is a supervisor: use .supervisor()")
        return node.ref

    def supervisor(self, name: str) -> SupervisorRef:
        """The nested supervisor ``name``."""
        from .tree import SupervisorNode

        node = self._node.find(name)
        if not isinstance(node, SupervisorNode):
            raise KeyError(f"supervisor {self.name!r} has no child supervisor {name!r}")
        return SupervisorRef(node)

    def children(self) -> list[str]:
        """Names of the current children, in start order."""
        return [node.name for node in self._node.children]

    @property
    def failed(self) -> bool:
        """True once this supervisor has given up."""
        return self._node.failed

    # -- administration (OTP's supervisor API; semantics in .admin) --------------------------

    async def start_child(self, *args: Any, **kwargs: Any) -> ActorRef | SupervisorRef:
        """Start one more child; return its ref.

        For a ``Supervisor``: ``start_child(spec)`` starts a ``ChildSpec`` (an ``ActorRef``
        back) or a ``Supervisor`` (a ``SupervisorRef``). Raises
        :class:`~interactors.ChildError` (``reason`` ``"already_started"`` or
        ``"already_present"``) when a child, running or terminated, has that name.

        For a ``DynamicSupervisor`` (OTP's ``simple_one_for_one``): ``start_child(*args,
        **kwargs)`` starts an instance of its child template, the arguments appended to the
        template's; raises ``ChildError`` (``"max_children"``) when ``max_children`` run.

        Both raise :class:`~interactors.SpawnError` when the child does not start.
        """
        from .admin import start_child
        from .dynamic import DynamicSupervisorNode

        if isinstance(self._node, DynamicSupervisorNode):
            return _live_ref(await self._node.start_child(args, kwargs))
        if len(args) != 1 or kwargs:
            raise TypeError(
                f"supervisor {self.name!r} is not dynamic: start_child takes one ChildSpec or "
                f"Supervisor, got args={args!r} kwargs={kwargs!r}"
            )
        return _live_ref(await start_child(self._node, args[0]))

    async def terminate_child(self, name: str) -> None:
        """Stop the child ``name`` for good (``on_stop`` runs); its spec stays, as in OTP,
        for :meth:`restart_child` (a temporary child's spec is dropped). Raises
        :class:`~interactors.ChildError` (``"not_found"``)."""
        from .admin import terminate_child

        await terminate_child(self._node, name)

    async def restart_child(self, name: str) -> ActorRef | SupervisorRef:
        """Start the terminated child ``name`` again from its spec; return its new ref.

        Raises :class:`~interactors.ChildError` (``"running"``, ``"not_found"``).
        """
        from .admin import restart_child

        return _live_ref(await restart_child(self._node, name))

    async def delete_child(self, name: str) -> None:
        """Forget the terminated child ``name``. Raises :class:`~interactors.ChildError`
        (``"running"``: terminate it first; ``"not_found"``)."""
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
        instances all at once)."""
        await self._node.stop()

    @property
    def stopped(self) -> bool:
        """True once it has stopped: by :meth:`stop`, a shutdown or its ``auto_shutdown``."""
        return self._node.stopped

    async def wait_stopped(self) -> None:
        """Wait until it has stopped and its children have (see :attr:`stopped`)."""
        await self._node.ended.wait()

    def __repr__(self) -> str:
        return f"<SupervisorRef {self.name!r} children={self.children()}>"


def ref_of(node: ChildNode | SupervisorNode) -> ActorRef | SupervisorRef | None:
    """The ref of a child node; ``None`` while it is terminated."""
    from .tree import ChildNode

    if node.terminated:
        return None
    return node.ref if isinstance(node, ChildNode) else SupervisorRef(node)


def _live_ref(node: ChildNode | SupervisorNode) -> ActorRef | SupervisorRef:
    ref = ref_of(node)
    assert ref is not None  # just started
    return ref
