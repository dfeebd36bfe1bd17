"""Supervision trees with Erlang/OTP semantics, plus Akka-style restart backoff.

Specs (plain, immutable descriptions) and their runtime nodes::

    Supervisor(strategy, max_restarts, within, backoff, children, name)   -> SupervisorNode
    ChildSpec(actor, *args, name, restart, shutdown, **options/kwargs)   -> ChildNode

Supervisors run on the host: they are coordination, not CPU work. When a child's
incarnation ends, its supervisor decides by the child's restart type whether to restart
(``permanent``: always; ``transient``: only after an abnormal exit; ``temporary``: never),
then applies its strategy:

- ``one_for_one``: restart only that child;
- ``one_for_all``: terminate the other children in reverse start order, restart all in order;
- ``rest_for_one``: terminate the children started after it (reverse order), restart it and them.

More than ``max_restarts`` restarts within ``within`` seconds and the supervisor gives up:
it terminates its children and fails, and its parent handles that like a child crash. A
root supervisor giving up stops the system with :class:`~interactors.SupervisorGaveUp`.
Between successive restarts of the same child, the supervisor waits per its
:class:`Backoff` (reset once the child has run quietly for ``backoff.reset_after``).
"""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

import anyio

from ._exceptions import SpawnError, SupervisorGaveUp

if TYPE_CHECKING:
    from ._cell import ActorCell
    from ._ref import ActorRef
    from ._system import ActorSystem

log = logging.getLogger("interactors")

Strategy = Literal["one_for_one", "one_for_all", "rest_for_one"]
Restart = Literal["permanent", "transient", "temporary"]
STRATEGIES: Final = ("one_for_one", "one_for_all", "rest_for_one")
RESTARTS: Final = ("permanent", "transient", "temporary")
_SPAWN_OPTIONS: Final = (
    "isolation",
    "codec",
    "mailbox_size",
    "max_concurrency",
    "on_error",
    "handler_timeout",
    "fresh_interpreter",
)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay between successive restarts of one child: ``min * 2**n`` capped at ``max``,
    spread by ``±jitter`` (a fraction). ``n`` resets after ``reset_after`` quiet seconds
    (default: four times ``max``, at least one second)."""

    min: float = 0.0
    max: float = 1.0
    jitter: float = 0.1
    reset_after: float | None = None

    def __post_init__(self) -> None:
        if self.min < 0 or self.max < self.min or not 0 <= self.jitter <= 1:
            raise ValueError("Backoff needs 0 <= min <= max and 0 <= jitter <= 1")

    def delay(self, attempt: int) -> float:
        if attempt <= 0 or self.max == 0:
            return 0.0
        base = min(self.max, self.min * 2 ** (attempt - 1))
        spread = base * self.jitter
        return float(max(0.0, base + random.uniform(-spread, spread)))

    def quiet_period(self) -> float:
        return self.reset_after if self.reset_after is not None else max(1.0, self.max * 4)


class ChildSpec:
    """How to start (and restart) one supervised actor.

    ``ChildSpec(Parser, 4, name="parser", restart="transient", shutdown=2.0)``: positional
    arguments and unknown keywords go to the actor's constructor; ``name``, ``restart``,
    ``shutdown`` and the spawn options (``isolation``, ``codec``, ``mailbox_size``,
    ``max_concurrency``, ``on_error``, ``handler_timeout``, ``fresh_interpreter``) configure it.
    ``fresh_interpreter=True`` restarts it in a new interpreter instead of in place.
    """

    def __init__(
        self,
        actor: type | str,
        *args: Any,
        name: str | None = None,
        restart: Restart = "permanent",
        shutdown: float | None = None,
        **kwargs: Any,
    ) -> None:
        if restart not in RESTARTS:
            raise ValueError(f"restart must be one of {RESTARTS}, got {restart!r}")
        self.actor = actor
        self.args = args
        self.name = name
        self.restart: str = restart
        self.shutdown = shutdown
        self.options = {k: kwargs.pop(k) for k in _SPAWN_OPTIONS if k in kwargs}
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return f"ChildSpec({self.actor!r}, name={self.name!r}, restart={self.restart!r})"


@dataclass(frozen=True)
class Supervisor:
    """A supervisor spec: a strategy, a restart intensity and children (specs or supervisors).

    ``max_restarts`` restarts within ``within`` seconds are tolerated; one more and the
    supervisor gives up (Erlang/OTP's default is 1 in 5 s; ours is 3 in 5 s). ``shutdown``
    is the default shutdown timeout of its child actors that do not set their own.
    """

    strategy: Strategy = "one_for_one"
    max_restarts: int = 3
    within: float = 5.0
    backoff: Backoff = field(default_factory=Backoff)
    children: Sequence[ChildSpec | Supervisor] = ()
    name: str | None = None
    restart: Restart = "permanent"
    shutdown: float | None = None

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if self.max_restarts < 0 or self.within <= 0:
            raise ValueError("max_restarts must be >= 0 and within > 0")
        if self.restart not in RESTARTS:
            raise ValueError(f"restart must be one of {RESTARTS}, got {self.restart!r}")
        names = [c.name for c in self.children if c.name is not None]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate child names in supervisor {self.name!r}: {names}")


def should_restart(restart: str, abnormal: bool) -> bool:
    return restart == "permanent" or (restart == "transient" and abnormal)


class ChildNode:
    """Runtime of one supervised actor: a cell that outlives its incarnations."""

    def __init__(self, spec: ChildSpec, parent: SupervisorNode) -> None:
        self.spec = spec
        self.parent = parent
        self.restart = spec.restart
        self.cell: ActorCell | None = None
        self.ref: ActorRef | None = None
        self.attempt = 0
        self.started_at = 0.0
        # Its own shutdown timeout, else its supervisor's default, else the system's.
        self.shutdown = spec.shutdown if spec.shutdown is not None else parent.spec.shutdown

    @property
    def name(self) -> str:
        return self.cell.name if self.cell is not None else str(self.spec.name)

    async def start(self) -> None:
        spec = self.spec
        options = {k: v for k, v in spec.options.items() if k != "fresh_interpreter"}
        self.ref = await self.parent.system._spawn_cell(
            spec.actor,
            spec.args,
            spec.kwargs,
            name=spec.name,
            shutdown=self.shutdown,
            owner=self,
            **options,
        )
        self.cell = self.ref._cell
        self.started_at = time.monotonic()

    async def restart_now(self) -> None:
        assert self.cell is not None
        quiet = time.monotonic() - self.started_at > self.parent.spec.backoff.quiet_period()
        self.attempt = 1 if quiet else self.attempt + 1
        delay = self.parent.spec.backoff.delay(self.attempt)
        if delay:
            with anyio.move_on_after(delay):
                await self.parent.stopping.wait()  # a shutdown cuts the backoff short
        if self.parent.stopped:
            return
        await self.cell.start(fresh=bool(self.spec.options.get("fresh_interpreter")))
        self.started_at = time.monotonic()
        self.parent.system._count("restarted")
        log.info("restarted actor %r (restart %d)", self.name, self.cell.statistics().restarts)

    async def terminate(self) -> None:
        if self.cell is not None:
            await self.cell.terminate(self.shutdown)

    async def stop(self, crashed: bool = False) -> None:
        if self.cell is not None:
            await self.cell.stop(self.shutdown, crashed=crashed)

    # CellOwner
    def incarnation_ended(self, cell: ActorCell, reason: str, abnormal: bool) -> None:
        self.parent.child_ended(self, reason, abnormal)

    def cell_finished(self, cell: ActorCell) -> None:
        self.parent.remove(self)


class SupervisorNode:
    """Runtime of a supervisor: restarts its children per its spec (see module docstring)."""

    def __init__(
        self, spec: Supervisor, system: ActorSystem, parent: SupervisorNode | None
    ) -> None:
        self.spec = spec
        self.system = system
        self.parent = parent
        self.name = spec.name or f"supervisor-{system._next_id()}"
        self.restart = spec.restart
        self.children: list[ChildNode | SupervisorNode] = []
        self.restart_times: deque[float] = deque()
        self.lock = anyio.Lock()
        self.failed = False
        self.stopped = False
        self.stopping = anyio.Event()

    # -- building --------------------------------------------------------------------------

    def _node(self, spec: ChildSpec | Supervisor) -> ChildNode | SupervisorNode:
        if isinstance(spec, Supervisor):
            return SupervisorNode(spec, self.system, self)
        if isinstance(spec, ChildSpec):
            return ChildNode(spec, self)
        raise TypeError(f"a supervisor's children are ChildSpec or Supervisor, got {spec!r}")

    async def start(self) -> None:
        """Start the children in order; if one fails, stop the started ones and raise."""
        for spec in self.spec.children:
            node = self._node(spec)
            try:
                await node.start()
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await self.stop()
                raise
            self.children.append(node)

    async def add(self, spec: ChildSpec) -> ChildNode:
        """Start one more child (``system.spawn`` places actors under the root this way)."""
        node = ChildNode(spec, self)
        await node.start()
        self.children.append(node)
        return node

    def remove(self, node: ChildNode | SupervisorNode) -> None:
        if node in self.children:
            self.children.remove(node)

    # -- failures --------------------------------------------------------------------------

    def child_ended(self, child: ChildNode | SupervisorNode, reason: str, abnormal: bool) -> None:
        self.system._schedule(self._handle, child, reason, abnormal)

    async def _handle(self, child: ChildNode | SupervisorNode, reason: str, abnormal: bool) -> None:
        async with self.lock:
            if self.failed or self.stopped or child not in self.children:
                return
            if not should_restart(child.restart, abnormal):
                log.info(
                    "child %r of %r ended (%s); not restarted (%s)",
                    child.name,
                    self.name,
                    reason,
                    child.restart,
                )
                self.children.remove(child)
                await child.stop(crashed=abnormal)
                return
            while True:
                if not self._note_restart():
                    await self._give_up(f"{child.name!r}: {reason}")
                    return
                try:
                    await self._restart(child)
                    return
                except SpawnError as exc:
                    reason = f"restart failed: {exc}".splitlines()[0]
                    log.error("supervisor %r: %s", self.name, reason)

    def _note_restart(self) -> bool:
        """Record a restart; False when it exceeds the intensity."""
        now = time.monotonic()
        times = self.restart_times
        times.append(now)
        while times and now - times[0] > self.spec.within:
            times.popleft()
        return len(times) <= self.spec.max_restarts

    async def _restart(self, child: ChildNode | SupervisorNode) -> None:
        strategy = self.spec.strategy
        index = self.children.index(child)
        if strategy == "one_for_one":
            group = [child]
        elif strategy == "one_for_all":
            group = list(self.children)
        else:
            group = self.children[index:]
        for other in reversed(group):
            if other is child:
                continue
            if other.restart == "temporary":
                # As in OTP: a temporary sibling is terminated, never restarted.
                self.children.remove(other)
                await other.stop()
            else:
                await other.terminate()
        for node in group:
            if node is child or node in self.children:
                await node.restart_now()

    async def _give_up(self, reason: str) -> None:
        self.failed = True
        spec = self.spec
        message = (
            f"supervisor {self.name!r} gave up: more than {spec.max_restarts} restarts "
            f"within {spec.within} s (last: {reason})"
        )
        log.error("%s", message)
        self.system._count("gave_up")
        for node in reversed(self.children):
            await node.terminate()
        if self.parent is not None:
            self.parent.child_ended(self, message, abnormal=True)
        else:
            self.system._root_failed(SupervisorGaveUp(message))

    # -- as a child of another supervisor --------------------------------------------------------

    async def restart_now(self) -> None:
        """Restart the whole subtree (its children in order), with a fresh intensity."""
        self.failed = False
        self.restart_times.clear()
        for node in self.children:
            await node.restart_now()

    async def terminate(self) -> None:
        for node in reversed(self.children):
            await node.terminate()

    async def quiesce(self) -> None:
        """Stop handling failures, and wait for a restart in progress to finish."""
        self.stopped = True
        self.stopping.set()
        with anyio.move_on_after(self.system.shutdown_timeout):
            async with self.lock:
                pass

    async def stop(self, crashed: bool = False) -> None:
        """Stop the children for good, in reverse start order, each within its shutdown."""
        await self.quiesce()
        for node in reversed(list(self.children)):
            await node.stop()
        self.children.clear()

    # -- lookup ----------------------------------------------------------------------------

    def find(self, name: str) -> ChildNode | SupervisorNode | None:
        for node in self.children:
            if node.name == name:
                return node
        return None
