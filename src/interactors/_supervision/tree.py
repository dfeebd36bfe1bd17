"""The running supervision tree: a node per supervisor and per supervised actor.

Supervisors run on the host: they are coordination, not CPU work. When a child's
incarnation ends, its supervisor decides by the child's restart type whether to restart,
then applies its strategy (see :mod:`.spec` for the semantics). More than
``max_restarts`` restarts within ``within`` seconds and the supervisor gives up: it
terminates its children and fails, and its parent handles that like a child crash. A
root supervisor giving up stops the system with :class:`~interactors.SupervisorGaveUp`.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio

from .._exceptions import SpawnError, SupervisorGaveUp
from .spec import ChildSpec, Supervisor

if TYPE_CHECKING:
    from .._host.cell import ActorCell
    from .._host.ref import ActorRef
    from .._host.system import ActorSystem

log = logging.getLogger("interactors")


# Node classes of Supervisor subclasses; a module defining one registers it (no import cycle).
NODE_TYPES: dict[type[Supervisor], Callable[..., SupervisorNode]] = {}


class _StartFailed(Exception):
    """A restart attempt failed at ``node`` (a child, or a nested supervisor)."""

    def __init__(self, node: ChildNode | SupervisorNode, error: SpawnError) -> None:
        super().__init__(str(error))
        self.node = node
        self.error = error


def should_restart(restart: str, abnormal: bool) -> bool:
    return restart == "permanent" or (restart == "transient" and abnormal)


class ChildNode:
    """Runtime of one supervised actor: a cell that outlives its incarnations."""

    def __init__(self, spec: ChildSpec, parent: SupervisorNode) -> None:
        self.spec = spec
        self.parent = parent
        self.restart = spec.restart
        self.significant = spec.significant
        self.cell: ActorCell | None = None
        self.ref: ActorRef | None = None
        self.attempt = 0
        self.started_at = 0.0
        self.generation = 0  # restarts begun: tells an old incarnation's end from a new one's
        self.terminated = False  # by terminate_child: its spec is kept for restart_child
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
            name=spec.name if self.cell is None else self.cell.name,  # restart_child: same name
            shutdown=self.shutdown,
            owner=self,
            **options,
        )
        self.cell = self.ref._cell
        self.started_at = time.monotonic()

    async def restart_now(self) -> None:
        assert self.cell is not None
        self.generation += 1
        quiet = time.monotonic() - self.started_at > self.parent.spec.backoff.quiet_period()
        self.attempt = 1 if quiet else self.attempt + 1
        delay = self.parent.spec.backoff.delay(self.attempt)
        if delay:
            with anyio.move_on_after(delay):
                await self.parent.stopping.wait()  # a shutdown cuts the backoff short
        if self.parent.stopped or not self.cell.is_alive():
            return  # (its system is closing, or its ref stopped it meanwhile: it stays so)
        await self.cell.start(fresh=bool(self.spec.options.get("fresh_interpreter")))
        if not self.cell.is_alive():
            return  # its ref stopped it while it restarted
        self.started_at = time.monotonic()
        self.parent.system._count("restarted")
        log.info("restarted actor %r (restart %d)", self.name, self.cell.statistics().restarts)

    async def terminate(self) -> None:
        """End the incarnation for a restart of its group (by its supervisor or a parent's):
        an end of the old one that its supervisor has not handled yet is old news then."""
        self.generation += 1
        if self.cell is not None:
            await self.cell.terminate(self.shutdown)

    async def stop(self, crashed: bool = False, reason: str = "shutdown") -> None:
        if self.cell is not None:
            await self.cell.stop(self.shutdown, crashed=crashed, reason=reason)

    # CellOwner
    def incarnation_ended(self, cell: ActorCell, reason: str, abnormal: bool) -> None:
        self.parent.child_ended(self, reason, abnormal)

    def cell_finished(self, cell: ActorCell) -> None:
        if not self.terminated:
            self.parent.remove(self)


def supervisor_node(
    spec: Supervisor, system: ActorSystem, parent: SupervisorNode | None
) -> SupervisorNode:
    """The runtime node of a supervisor spec (a :class:`~.dynamic.DynamicSupervisor` too)."""
    return NODE_TYPES.get(type(spec), SupervisorNode)(spec, system, parent)


class SupervisorNode:
    """Runtime of a supervisor: restarts its children per its spec (see module docstring)."""

    keeps_specs = True  # terminate_child keeps a child's spec (not a dynamic instance's)

    def __init__(
        self, spec: Supervisor, system: ActorSystem, parent: SupervisorNode | None
    ) -> None:
        self.spec = spec
        self.system = system
        self.parent = parent
        self.name = spec.name or f"supervisor-{system._next_id()}"
        self.restart = spec.restart
        self.significant = spec.significant
        self.children: list[ChildNode | SupervisorNode] = []
        self.restart_times: deque[float] = deque()
        self.lock = anyio.Lock()
        self.failed = False
        self.stopped = False
        self.stopping = anyio.Event()
        self.ended = anyio.Event()  # its children are stopped: by stop() or auto_shutdown
        self.terminated = False  # by terminate_child: its spec is kept for restart_child
        self.generation = 0  # restarts of this subtree by its parent (see ChildNode)
        # Terminated by its parent for a restart of the parent's group: until that restart,
        # the ends of its children are the parent's to handle (it restarts them all).
        self.held = False
        self.restarts = 0
        self.exit_reason = ""  # once stopped: "normal", "shutdown" or why it gave up

    # -- building --------------------------------------------------------------------------

    def _node(self, spec: ChildSpec | Supervisor) -> ChildNode | SupervisorNode:
        if isinstance(spec, Supervisor):
            return supervisor_node(spec, self.system, self)
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
            self.children_changed()

    def children_changed(self) -> None:
        """Called after its children (or one's ref or ``terminated``) changed; a pool
        rebuilds its members' refs here."""

    # -- failures --------------------------------------------------------------------------

    def child_ended(self, child: ChildNode | SupervisorNode, reason: str, abnormal: bool) -> None:
        self.system._schedule(self._handle, child, reason, abnormal, child.generation)

    async def _handle(
        self, child: ChildNode | SupervisorNode, reason: str, abnormal: bool, generation: int
    ) -> None:
        async with self.lock:
            if self.failed or self.stopped or child.terminated or child not in self.children:
                return
            if isinstance(child, ChildNode) and child.cell and not child.cell.is_alive():
                return  # its ref stopped it meanwhile: it stays stopped, no restart counted
            if child.generation != generation or self.held:
                # Restarted since that incarnation ended: by this supervisor (its group
                # restarted with a sibling) or by a parent that restarted this whole
                # subtree. The new incarnation is running; this end is old news.
                return
            if not should_restart(child.restart, abnormal):
                log.info(
                    "child %r of %r ended (%s); not restarted (%s)",
                    child.name,
                    self.name,
                    reason,
                    child.restart,
                )
                self.remove(child)
                await child.stop(crashed=abnormal)
                if child.significant and self._auto_shutdown_due():
                    await self._auto_shutdown(child.name)
                return
            while True:
                if not self._note_restart():
                    await self._give_up(f"{child.name!r}: {reason}")
                    return
                try:
                    await self._restart(child)
                    return
                except _StartFailed as failed:
                    # As in OTP: what the attempt started is stopped again (by the next
                    # _restart) and the restart is retried from the child that failed
                    # to start, each attempt counting toward the intensity.
                    child = failed.node
                    reason = f"restart failed: {failed.error}".splitlines()[0]
                    log.error("supervisor %r: %s", self.name, reason)  # names the actor

    def _auto_shutdown_due(self) -> bool:
        mode = self.spec.auto_shutdown
        if mode == "any_significant":
            return True
        active = (n for n in self.children if n.significant and not n.terminated)
        return mode == "all_significant" and not any(active)

    async def _auto_shutdown(self, last: str) -> None:
        """End normally (OTP's ``auto_shutdown``): stop the other children, tell the parent."""
        log.info("supervisor %r shuts down: significant child %r ended", self.name, last)
        self.exit_reason = "normal"
        self.stopped = True
        self.stopping.set()
        await self._stop_children()
        self.ended.set()
        if self.parent is not None:
            self.parent.child_ended(self, "shutdown", abnormal=False)

    async def _stop_children(self) -> None:
        """Stop the children for good, in reverse start order, each within its shutdown."""
        for node in reversed(list(self.children)):
            await node.stop()
        self.children.clear()
        self.children_changed()

    def _note_restart(self) -> bool:
        """Record a restart; False when it exceeds the intensity."""
        now = time.monotonic()
        times = self.restart_times
        times.append(now)
        while times and now - times[0] > self.spec.within:
            times.popleft()
        return len(times) <= self.spec.max_restarts

    async def _restart(self, child: ChildNode | SupervisorNode) -> None:
        """Terminate ``child``'s group (per the strategy) in reverse order, start it in order.

        Raises :class:`_StartFailed` naming the node that did not start; the nodes started
        before it are running then, and are terminated by the retry.
        """
        strategy = self.spec.strategy
        index = self.children.index(child)
        if strategy == "one_for_one":
            group = [child]
        elif strategy == "one_for_all":
            group = list(self.children)
        else:
            group = self.children[index:]
        group = [node for node in group if not node.terminated]  # kept stopped, as in OTP
        for other in reversed(group):
            if other is not child and other.restart == "temporary":
                # As in OTP: a temporary sibling is terminated, never restarted.
                self.remove(other)
                await other.stop()
            else:
                # The failed child too: in a retry it may be one that came back already
                # (terminating an incarnation that is not running does nothing).
                await other.terminate()
        for node in group:
            if node is child or node in self.children:
                try:
                    await node.restart_now()
                except SpawnError as exc:  # from a nested supervisor's subtree too
                    raise _StartFailed(node, exc) from exc

    async def _give_up(self, reason: str) -> None:
        self.failed = True
        spec = self.spec
        message = (
            f"supervisor {self.name!r} gave up: more than {spec.max_restarts} restarts "
            f"within {spec.within} s (last: {reason})"
        )
        log.error("%s", message)
        self.exit_reason = message  # kept if it is not restarted
        self.system._count("gave_up")
        await self._terminate_children()  # (under its lock already)
        if self.parent is not None:
            self.parent.child_ended(self, message, abnormal=True)
        else:
            self.system._root_failed(SupervisorGaveUp(message))

    # -- as a child of another supervisor --------------------------------------------------------

    # Its parent restarts or terminates the subtree under this supervisor's lock: never
    # while this supervisor restarts one of its own children (two starts of one actor at
    # once, or a start racing its terminate, would leave it restarting forever).

    async def restart_now(self) -> None:
        """Restart the whole subtree (its children in order), with a fresh intensity."""
        self.generation += 1
        self.failed = False
        self.exit_reason = ""
        self.restarts += 1
        self.restart_times.clear()
        if self.stopped:  # it ended by auto_shutdown: start it again from its spec
            self.stopped = False
            self.stopping, self.ended = anyio.Event(), anyio.Event()
            self.held = False
            await self.start()  # (a failed start stops it, which takes the lock)
            return
        async with self.lock:
            try:
                for node in self.children:
                    if not node.terminated:
                        await node.restart_now()
            finally:
                self.held = False  # (its children's ends are its own again)

    async def terminate(self) -> None:
        async with self.lock:
            self.held = True
            await self._terminate_children()

    async def _terminate_children(self) -> None:
        for node in reversed(self.children):
            await node.terminate()

    async def quiesce(self) -> None:
        """Stop handling failures, and wait for a restart in progress to finish."""
        self.stopped = True
        self.stopping.set()
        with anyio.move_on_after(self.system.shutdown_timeout):
            async with self.lock:
                pass

    async def stop(self, crashed: bool = False, reason: str = "shutdown") -> None:
        """Stop the children for good, in reverse start order, each within its shutdown.

        ``reason``: ``"normal"`` when asked by its ``SupervisorRef``, ``"shutdown"`` by
        its parent or the system (its children's reason is ``"shutdown"`` either way).
        """
        self.exit_reason = self.exit_reason or reason
        await self.quiesce()
        await self._stop_children()
        self.ended.set()

    # -- lookup ----------------------------------------------------------------------------

    def find(self, name: str) -> ChildNode | SupervisorNode | None:
        for node in self.children:
            if node.name == name:
                return node
        return None
