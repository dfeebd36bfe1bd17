"""SupervisorRef: the handle ``system.start(tree)`` returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._host.ref import ActorRef
    from .tree import SupervisorNode


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

    async def stop(self) -> None:
        """Stop every child for good, in reverse start order."""
        await self._node.stop()

    def __repr__(self) -> str:
        return f"<SupervisorRef {self.name!r} children={self.children()}>"
