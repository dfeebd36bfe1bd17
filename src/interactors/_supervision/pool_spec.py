"""A pool as a node of a supervision tree: the ``Pool`` spec and its runtime.

``Pool(Worker, db, size=4, name="workers", policy="least_busy")`` is a supervisor spec (a
:class:`~.spec.Supervisor` subclass, so it nests in a tree's children, can be started with
``system.start`` or ``start_child``) whose children are ``size`` copies of one actor, the
members ``<name>-0``, ``<name>-1``, ... It supervises them one-for-one; the tree starts it
in order with its siblings, restarts it like a nested supervisor and stops it with the
tree. :class:`~.pool.ActorPool` is the handle over a running one (``system.spawn_pool``
starts a ``Pool`` on its own and returns that handle).

The node keeps the members' refs (and cells) in tuples, rebuilt only when its children
change (a member started, stopped, terminated or restarted by ``restart_child``), so
choosing the member of a message reads no supervisor state; ``least_busy`` reads each
member's load from the shared counters (``ActorCell.load``), stopping at an idle one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

import anyio

from .._exceptions import ActorStopped, ChildError
from .._host.options import check_choice, check_count
from .._wire.pool_key import pick
from .spec import Backoff, ChildSpec, Restart, Supervisor
from .tree import NODE_TYPES, ChildNode, SupervisorNode

if TYPE_CHECKING:
    from .._host.cell import ActorCell
    from .._host.ref import ActorRef
    from .._host.system import ActorSystem

__all__ = ("POLICIES", "Policy", "Pool", "PoolNode")

Policy = Literal["round_robin", "least_busy", "hash"]
POLICIES: Final = ("round_robin", "least_busy", "hash")
# What Pool takes for itself; every other keyword goes to the members (as for ChildSpec).
_DEFAULT_BACKOFF: Final = Backoff()


@dataclass(frozen=True, init=False, repr=False)
class Pool(Supervisor):
    """``size`` supervised copies of an actor behind one ref, as a child of a tree.

    ``Pool(actor, *args, size, name=None, policy="round_robin", key=None, max_restarts=3,
    within=5.0, backoff=Backoff(), restart="permanent", shutdown=None, **options)``:
    ``args`` and unknown keywords go to every member's constructor and the spawn options
    (``isolation``, ``on_error``, ``handler_timeout``, ``mailbox_size``, ...) to every
    member, as in :class:`ChildSpec`. ``restart`` is the members' restart type and the
    pool's own as a child; ``shutdown`` is each member's shutdown timeout (default: its
    parent supervisor's, else the system's). ``max_restarts`` within ``within`` seconds
    counts the restarts of all members; past it the pool gives up like any supervisor.

    ``policy`` picks a member per message: ``"round_robin"``, ``"least_busy"`` or
    ``"hash"``: a stable hash (the same in every process and run) of ``key(*args,
    **kwargs)``, default the first argument, which must be a ``str``, ``bytes``, ``int``
    or a tuple of them (``TypeError`` otherwise). Find a running pool with
    ``SupervisorRef.pool(name)``.
    """

    child: ChildSpec | None = None
    """The members' template: actor, arguments and options."""
    size: int = 0
    policy: Policy = "round_robin"
    key: Callable[..., Any] | None = None

    def __init__(
        self,
        actor: type | str,
        /,
        *args: Any,
        size: int,
        name: str | None = None,
        policy: Policy = "round_robin",
        key: Callable[..., Any] | None = None,
        max_restarts: int = 3,
        within: float = 5.0,
        backoff: Backoff = _DEFAULT_BACKOFF,
        restart: Restart = "permanent",
        shutdown: float | None = None,
        **kwargs: Any,
    ) -> None:
        check_count("size", size, 0)
        check_choice("policy", policy, POLICIES)
        if key is not None and policy != "hash":
            raise ValueError(f"key= is for policy='hash', not {policy!r}")
        if key is not None and not callable(key):
            raise TypeError(f"key must be a function of the message's arguments, got {key!r}")
        if kwargs.get("significant"):
            raise ValueError(
                "a pool cannot be significant: it never ends by itself (its members are "
                "restarted, or it gives up); make a ChildSpec or Supervisor significant"
            )
        fields = {
            "child": ChildSpec(actor, *args, restart=restart, shutdown=shutdown, **kwargs),
            "size": size,
            "policy": policy,
            "key": key,
            "strategy": "one_for_one",
            "max_restarts": max_restarts,
            "within": within,
            "backoff": backoff,
            "children": (),
            "name": name,
            "restart": restart,
            "shutdown": shutdown,
            "auto_shutdown": "never",
            "significant": False,
        }
        for field, value in fields.items():
            object.__setattr__(self, field, value)
        self.__post_init__()

    def __repr__(self) -> str:
        assert self.child is not None
        return (
            f"Pool({self.child.actor!r}, size={self.size}, name={self.name!r}, "
            f"policy={self.policy!r})"
        )


class PoolNode(SupervisorNode):
    """Runtime of a :class:`Pool`: a one-for-one supervisor of its members."""

    spec: Pool

    def __init__(self, spec: Pool, system: ActorSystem, parent: SupervisorNode | None) -> None:
        super().__init__(spec, system, parent)
        if spec.name is None:
            self.name = f"pool-{system._next_id()}"
        # Members without their own shutdown take the pool's, else its parent's default.
        inherited = parent.spec.shutdown if parent is not None else None
        self.member_shutdown = spec.shutdown if spec.shutdown is not None else inherited
        self.numbers = itertools.count()
        self.turn = itertools.count()
        self.refs: tuple[ActorRef, ...] = ()
        self.cells: tuple[ActorCell, ...] = ()

    def children_changed(self) -> None:
        self.refs = tuple(
            node.ref
            for node in self.children
            if isinstance(node, ChildNode) and node.ref is not None and not node.terminated
        )
        self.cells = tuple(ref._cell for ref in self.refs)

    def pick(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> ActorRef:
        """The member a message with these arguments goes to, per the policy."""
        members = self.refs
        if not members:
            raise ActorStopped(f"pool {self.name!r} has no members (stopped, or resized to 0)")
        spec = self.spec
        turn, count = next(self.turn), len(members)
        return members[
            pick(self.name, spec.policy, spec.key, args, kwargs, turn, count, self._load)
        ]

    def _load(self, index: int) -> int:
        return self.cells[index].load()

    async def start(self) -> None:
        """Start ``size`` members; if one fails, stop the started ones and raise."""
        # Started again (restart_child, or after an auto-shutdown): same names, same turns.
        self.numbers, self.turn = itertools.count(), itertools.count()
        try:
            await self.resize(self.spec.size)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.stop()
            raise

    async def resize(self, size: int) -> None:
        check_count("size", size, 0)
        async with self.lock:
            if self.stopped or self.failed:
                why = "stopped" if self.stopped else "gave up"
                raise ChildError(f"pool {self.name!r} has {why}: it cannot resize", "stopped", "")
            while len(self._counted()) < size:
                node = ChildNode(self._member_spec(f"{self.name}-{next(self.numbers)}"), self)
                await node.start()
                self.children.append(node)
                self.children_changed()
            while len(active := self._counted()) > size:
                last = active[-1]
                self.children.remove(last)  # out of the rotation before it stops
                self.children_changed()
                last.terminated = True  # its end is not a failure to handle
                await last.stop()

    def _counted(self) -> list[ChildNode | SupervisorNode]:
        """The members ``resize`` counts: not one terminated through ``pool.supervisor``
        (nor does it stop one)."""
        return [node for node in self.children if not node.terminated]

    def _member_spec(self, name: str) -> ChildSpec:
        template = self.spec.child
        assert template is not None  # set by Pool
        return ChildSpec(
            template.actor,
            *template.args,
            name=name,
            restart=template.restart,  # type: ignore[arg-type]
            shutdown=self.member_shutdown,
            **template.options,
            **template.kwargs,
        )


NODE_TYPES[Pool] = PoolNode
